"""What plugins register: one frozen dataclass per plugin kind.

Specs hold plain facts (name, title, what the plugin supports); the heavy work sits
behind callables so that listing plugins never imports torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

PLUGIN_KINDS = ("architecture", "interaction", "picker", "volume_format", "coordinate_format")


@dataclass(frozen=True)
class ArchitectureSpec:
    """A network architecture.

    ``build(depth, **options)`` returns a ``torch.nn.Module`` mapping (N, depth, H, W)
    to (N, 1, H, W) logits for 2D/2.5D networks, or (N, 1, D, H, W) to (N, 1, D, H, W)
    logits for 3D networks. ``dims`` lists what it supports: "2d", "2.5d", "3d".
    ``size_multiple``: box sizes must be a multiple of this (pooling depth).
    ``discriminator``: for adversarial networks (Pix2pix), ``discriminator(depth)`` builds
    the critic and the framework trains both with a GAN loss; None for ordinary networks.
    """

    name: str
    title: str
    build: Callable[..., Any]
    dims: tuple[str, ...] = ("2d", "2.5d")
    description: str = ""
    size_multiple: int = 16
    discriminator: Callable[..., Any] | None = None
    kind: str = field(default="architecture", init=False)


@dataclass(frozen=True)
class InteractionSpec:
    """A rule by which one model's output changes another's (colocalize, avoid, ...).

    ``apply(child, parent, *, threshold, radius_px, **options)`` returns the new child array.
    """

    name: str
    title: str
    apply: Callable[..., Any]
    description: str = ""
    kind: str = field(default="interaction", init=False)


@dataclass(frozen=True)
class PickerSpec:
    """A particle picker. ``pick(volume, **options)`` returns a table of picks."""

    name: str
    title: str
    pick: Callable[..., Any]
    description: str = ""
    kind: str = field(default="picker", init=False)


@dataclass(frozen=True)
class VolumeFormatSpec:
    """Reads and/or writes volumes (tomograms, segmentations) of given file extensions.

    ``read(path, pixel_size=None)`` returns a :class:`ais_framework.volume.Volume`;
    ``write(path, volume)`` writes one (the framework makes it atomic).
    """

    name: str
    title: str
    extensions: tuple[str, ...]
    read: Callable[..., Any] | None = None
    write: Callable[..., Any] | None = None
    description: str = ""
    kind: str = field(default="volume_format", init=False)


@dataclass(frozen=True)
class CoordinateFormatSpec:
    """Reads and/or writes particle coordinate files (STAR, tbl, CSV, ...)."""

    name: str
    title: str
    extensions: tuple[str, ...]
    read: Callable[..., Any] | None = None
    write: Callable[..., Any] | None = None
    description: str = ""
    kind: str = field(default="coordinate_format", init=False)
