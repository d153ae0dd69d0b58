"""Builtin network architectures, one module each."""
