"""Frozen data classes mirroring what godiag reads; no I/O, no printing."""
