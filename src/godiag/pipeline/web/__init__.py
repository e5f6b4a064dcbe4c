"""The HTTP layer of `godiag serve`; app.py wires the routes to the handler classes."""
