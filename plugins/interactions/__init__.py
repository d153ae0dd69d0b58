"""Builtin model-interaction rules."""
