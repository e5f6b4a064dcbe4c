"""The demo: build the bundled Go service, make it misbehave, and diagnose it live."""
