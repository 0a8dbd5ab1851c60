"""Ketamine Outcomes Warehouse."""

__version__ = "0.1.0"
