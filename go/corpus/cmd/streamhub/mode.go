package main

// mode is the hub's deployment configuration.
type mode struct {
	releaseOnClose bool // a closed stream leaves its topics
	closeStale     bool // a mirror closes the stream it gives up on
	historyCap     int  // events kept per topic for replay; 0 keeps all
	archiveLocked  bool // the archive is fed while the registry is locked
	directWrite    bool // publishers write frames to the sockets themselves
	compileFilters bool // a subscriber's filters are compiled per event
	frameEach      bool // frames are formatted per subscriber
	pollers        int
	browsers       int
	repricing      bool
}

func modeFor(variant string) mode {
	m := mode{releaseOnClose: true, closeStale: true, historyCap: 128, pollers: 300, browsers: 90}
	switch variant {
	case "parked-polls":
		m.pollers = 2000
	case "repricing-burst":
		m.repricing = true
	case "orphan-subscription":
		m.releaseOnClose = false
	case "stale-mirror":
		m.closeStale = false
	case "unbounded-history":
		m.historyCap = 0
	case "archive-under-lock":
		m.archiveLocked = true
	case "direct-write":
		m.directWrite = true
	case "filter-recompile":
		m.compileFilters = true
	case "frame-sprintf":
		m.frameEach = true
	}
	return m
}
