"""Builtin file-format plugins: volume and coordinate readers and writers."""
