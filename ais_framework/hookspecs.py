"""Every hook a plugin may implement. Each returns a list of specs (see ``specs.py``).

A plugin is a module named by an entry point in the ``ais_fw`` group whose functions
are marked with ``@ais_framework.hookimpl``. A plugin implements only the hooks it needs.
"""
from __future__ import annotations

import pluggy

from . import PROJECT_NAME

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def ais_fw_architectures() -> list:
    """Return a list of :class:`~ais_framework.specs.ArchitectureSpec` (network architectures)."""


@hookspec
def ais_fw_interactions() -> list:
    """Return a list of :class:`~ais_framework.specs.InteractionSpec` (model-interaction rules)."""


@hookspec
def ais_fw_pickers() -> list:
    """Return a list of :class:`~ais_framework.specs.PickerSpec` (particle pickers)."""


@hookspec
def ais_fw_volume_formats() -> list:
    """Return a list of :class:`~ais_framework.specs.VolumeFormatSpec` (volume readers/writers)."""


@hookspec
def ais_fw_coordinate_formats() -> list:
    """Return a list of :class:`~ais_framework.specs.CoordinateFormatSpec` (pick-file readers/writers)."""


#: hook name -> plugin kind of the specs it returns
HOOK_KINDS = {
    "ais_fw_architectures": "architecture",
    "ais_fw_interactions": "interaction",
    "ais_fw_pickers": "picker",
    "ais_fw_volume_formats": "volume_format",
    "ais_fw_coordinate_formats": "coordinate_format",
}
