package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// tenantLimits is a per-tenant rate limit in the GCRA form: each tenant has a
// theoretical arrival time (TAT); a job is allowed when the TAT is no further ahead of
// now than the burst allows. Lock-free on the hot path: one CAS per decision.
type tenantLimits struct {
	interval time.Duration // 1/rate
	slack    time.Duration // how far the TAT may run ahead: (burst-1) intervals
	tats     sync.Map      // tenant -> *atomic.Int64 (unix nanos)
}

func newTenantLimits(rate, burst float64) *tenantLimits {
	iv := time.Duration(float64(time.Second) / rate)
	return &tenantLimits{interval: iv, slack: time.Duration(float64(iv) * (burst - 1))}
}

func (l *tenantLimits) tat(tenant string) *atomic.Int64 {
	if v, ok := l.tats.Load(tenant); ok {
		return v.(*atomic.Int64)
	}
	v, _ := l.tats.LoadOrStore(tenant, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// take admits one job (0) or says how long until one would be admitted.
func (l *tenantLimits) take(tenant string) time.Duration {
	t := l.tat(tenant)
	for {
		now := time.Now().UnixNano()
		old := t.Load()
		tat := max(old, now)
		if ahead := time.Duration(tat - now); ahead > l.slack {
			return ahead - l.slack
		}
		if t.CompareAndSwap(old, tat+int64(l.interval)) {
			return 0
		}
	}
}

// allow admits one job if the tenant is within its quota.
func (l *tenantLimits) allow(tenant string) bool { return l.take(tenant) == 0 }

// reserve admits one job (0) or says how long to wait.
func (l *tenantLimits) reserve(tenant string) time.Duration { return l.take(tenant) }
