"""UNet Lite: the default network, a narrow three-level U-Net with BatchNorm.

Levels of two 3x3 convolutions + BatchNorm + ReLU, widths 16-32-64 and a 128-wide
bottleneck at 1/8 resolution; 2x2 max-pool down, 2x2 transposed convolution up, encoder
features concatenated into the decoder at each level; a 1x1 convolution gives one logit.
(Not the reference tool's removed one-level "UNet lite": same idea of cheapness, new design.)

Parameters: 482,449 at depth 1.
Receptive field: 100 px (measured), more than VGGNet M's 44 px; the skips keep membranes
and filaments sharp, and the narrow full-resolution layers make it many times cheaper
to run (see benchmarks/architectures_params.py).
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "unet_lite"
PARAMETERS = 482_449


def build(depth: int = 1, base: int = 16):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits.

    ``base``: the width of the first level; each deeper level doubles it.
    """
    from ._layers import channels_for, unet

    return unet(channels_for(depth), (base, 2 * base, 4 * base, 8 * base), norm_kind="batch")


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="UNet Lite", build=build, dims=("2d", "2.5d"), size_multiple=8,
        description=f"narrow 3-level U-Net 16-...-128 with BatchNorm, the cheap default; "
                    f"{PARAMETERS / 1e6:.2f} M parameters",
    )]
