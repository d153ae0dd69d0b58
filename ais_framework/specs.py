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

    ``apply(child, parent, *, threshold, radius_px, ball=False)`` returns the new child.
    ``child`` and ``parent`` are float32 probabilities (0..1) of the same shape (Z, Y, X):
    one slab of a tomogram, never the whole of it. ``threshold`` (0..1): where the parent
    counts as present (``parent > threshold``); ``radius_px``: the reach of the rule in
    pixels (a float, > 0); ``ball``: reach in 3D (a ball) instead of within each slice (a
    disc). ``apply`` must not change its inputs; it returns a new float32 array of the same
    shape (or ``child`` itself when nothing changes).

    ``halo(radius_px, ball)``: how many slices above and below a voxel the rule looks at,
    so that a slab processed with that many extra slices on each side gives exactly the
    whole-volume result (0 for rules that work slice by slice or voxel by voxel). None: the
    framework assumes the rule may look ``ceil(radius_px)`` slices away.

    The builtin ``competition`` spec is the rule behind the models' emit/absorb flags:
    ``apply(absorber, strongest_emitter, ...)`` zeroes the absorber where it is lower.
    """

    name: str
    title: str
    apply: Callable[..., Any]
    description: str = ""
    halo: Callable[[float, bool], int] | None = None
    kind: str = field(default="interaction", init=False)


@dataclass(frozen=True)
class PickerSpec:
    """A particle picker that turns a segmentation into picks.

    ``pick(volume, *, threshold=0.5, margin_A=0.0, binning=1, min_particles=0, **options)``
    takes a :class:`~ais_framework.volume.Volume` (uint8 0-255 or float 0..1 probabilities,
    with its pixel size) and returns a :class:`~ais_framework.picks.Picks` in the volume's
    pixels. ``threshold`` is on the 0..1 scale; sizes and distances in ``options`` are in
    Å or Å³ (``min_size_A3``, ``spacing_A``, ...). ``parameters`` documents each option:
    name -> (default, description with its unit).
    """

    name: str
    title: str
    pick: Callable[..., Any]
    description: str = ""
    parameters: dict[str, tuple[Any, str]] = field(default_factory=dict)
    kind: str = field(default="picker", init=False)


@dataclass(frozen=True)
class VolumeFormatSpec:
    """Reads and/or writes volumes (tomograms, segmentations) of given file extensions.

    ``read(path, pixel_size=None)`` returns a :class:`ais_framework.volume.Volume`;
    ``write(path, volume)`` writes one (the framework makes it atomic).
    ``open_writer(path, template, dtype)`` (optional) returns an object with
    ``write(z, slab)`` and ``close()`` that writes a volume shaped and placed like the
    ``template`` Volume slab by slab, so segmentations stream to disk in bounded memory.
    """

    name: str
    title: str
    extensions: tuple[str, ...]
    read: Callable[..., Any] | None = None
    write: Callable[..., Any] | None = None
    description: str = ""
    open_writer: Callable[..., Any] | None = None
    kind: str = field(default="volume_format", init=False)


@dataclass(frozen=True)
class CoordinateFormatSpec:
    """Reads and/or writes particle coordinate files (STAR, tbl, CSV, ...).

    ``read(path, pixel_size=None, **options)`` returns a list of
    :class:`~ais_framework.picks.Picks`, one per tomogram in the file (empty list for a file
    without rows); ``write(path, picks_list, **options)`` writes such a list to ``path`` (the
    framework hands it a temporary path with the same suffix and renames it: atomic) and may
    return ``{suffix: text}`` for companion files written beside it (Dynamo's ``.doc`` map).
    ``detect(path) -> bool`` tells formats sharing an extension apart (RELION 3/4 vs 5 STAR).
    Positions are converted to and from the tomogram's pixels (see ``ais_framework.picks``).
    """

    name: str
    title: str
    extensions: tuple[str, ...]
    read: Callable[..., Any] | None = None
    write: Callable[..., Any] | None = None
    description: str = ""
    detect: Callable[..., bool] | None = None
    kind: str = field(default="coordinate_format", init=False)
