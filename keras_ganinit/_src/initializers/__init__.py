"""Initializers: how a weight starts, before any data is seen."""
