"""Errors the library raises. Each carries a message and a hint saying what to do.

The library never prints or exits; the CLI turns these into one line on stderr.
"""
from __future__ import annotations


class AisError(Exception):
    """Base of every error ais-fw raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(AisError):
    """The user asked for something that cannot work as asked (bad option value)."""

    exit_code = 2


class InputFileError(AisError):
    """A file is missing, unreadable, corrupt, truncated or of an unknown kind."""


class PixelSizeError(AisError):
    """A volume has no usable pixel size and none was given."""


class PluginError(AisError):
    """A plugin failed to load, or two plugins claim one name."""


class UnknownNameError(UsageError):
    """A named plugin (architecture, picker, format, ...) does not exist."""
