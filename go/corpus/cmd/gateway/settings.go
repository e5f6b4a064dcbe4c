package main

import "time"

// settings is how this deployment is configured; operators change these per region.
type settings struct {
	hedgeAfter     time.Duration // 0: no hedged account reads
	idlePerHost    int
	prewarm        int // connections opened to each upstream at start
	closeErrorBody bool
	sharedClient   bool // one client for account reads, or one per call
	cancelWatchers bool
	backoff        bool
	rawCacheKey    bool
	lockedFlights  bool
	probeLocked    bool
	genericMerge   bool
}

func settingsFor(variant string) settings {
	s := settings{idlePerHost: 32, closeErrorBody: true, sharedClient: true, cancelWatchers: true, backoff: true}
	switch variant {
	case "hedged":
		s.hedgeAfter = 25 * time.Millisecond
	case "warm-pool":
		s.idlePerHost, s.prewarm = 400, 300
	case "unclosed-error-body":
		s.closeErrorBody = false
	case "client-per-call":
		s.sharedClient = false
	case "slo-watch":
		s.cancelWatchers = false
	case "retry-storm":
		s.backoff = false
	case "raw-cache-key":
		s.rawCacheKey = true
	case "coalesce-under-lock":
		s.lockedFlights = true
	case "breaker-probe":
		s.probeLocked = true
	case "generic-merge":
		s.genericMerge = true
	}
	return s
}
