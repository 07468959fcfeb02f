"""The package's version (``sim.__version__``), in a module of its own so that modules below
the facade can name it without importing the package ``sim`` (whose ``__init__`` imports the
facade: that would run back up the layers)."""

__version__ = "0.1.0"
