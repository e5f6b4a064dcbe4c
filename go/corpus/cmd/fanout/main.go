// fanout: an in-process pub/sub broker (topics, buffered per-subscriber channels, replay
// rings) fed by market-data and order feeds, with standing consumers, short-lived client
// sessions, an archiver that cannot keep up, and webhook subscribers delivered over HTTP
// on the process's own listener.
package main

import (
	"godiag.corpus/internal/expose"
)

var policies = map[string]policy{
	"steady":              {retain: 64},
	"idle-subscribers":    {retain: 64},
	"replay-ring":         {retain: 400},
	"abandoned-session":   {retain: 64},
	"retain-all":          {retainAll: true},
	"send-in-lock":        {retain: 64, holdWhileSend: true},
	"drain-in-lock":       {retain: 64, drainInLock: true},
	"spin-when-full":      {retain: 64, spinWhenFull: true},
	"copy-per-subscriber": {retain: 64, copyPerSub: true},
	"webhook-body":        {retain: 64},
}

func main() {
	names := make([]string, 0, len(policies))
	for n := range policies {
		names = append(names, n)
	}
	env := expose.Start("fanout", names...)
	b := newBroker(policies[env.Variant])
	d := &deployment{env: env, b: b,
		idleFleet:      env.Variant == "idle-subscribers",
		leaveOnFailure: env.Variant == "abandoned-session",
		keepHookBodies: env.Variant == "webhook-body"}
	d.start()
	expose.Wait()
}
