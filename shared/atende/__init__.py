"""Atende: an omnichannel attendance core for CRMs, built as Cloud Functions."""

__version__ = "0.1.0"
