"""ais-fw: segment cryo-electron tomograms with neural networks and pick particles.

Importing this package is cheap: it does not import torch, lightning or textual.
Plugins use ``hookimpl`` from here to mark their hook implementations::

    from ais_framework import hookimpl

    @hookimpl
    def ais_fw_pickers():
        return [PickerSpec(...)]
"""
from importlib.metadata import PackageNotFoundError, version as _version

import pluggy

PROJECT_NAME = "ais_fw"
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

try:
    __version__ = _version("ais-fw")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["hookimpl", "__version__", "PROJECT_NAME"]
