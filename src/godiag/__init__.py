"""godiag: why is this Go build, binary or service misbehaving?"""

__version__ = "0.1.0"
