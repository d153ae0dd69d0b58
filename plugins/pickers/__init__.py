"""Builtin particle pickers."""
