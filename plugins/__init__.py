"""Builtin plugins of ais-fw, installed as the ``ais_plugins`` package."""
