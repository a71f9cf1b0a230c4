"""The library's version (a leaf: imported by the package and its pickles)."""

__version__ = "0.1.0.dev0"
