__version__ = "6.0.0.dev0"
