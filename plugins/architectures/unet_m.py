"""UNet M: a three-level U-Net (three poolings) with BatchNorm.

Levels of two 3x3 convolutions + BatchNorm + ReLU, widths 32-64-128 and a 256-wide
bottleneck at 1/8 resolution; 2x2 max-pool down, 2x2 transposed convolution up, encoder
features concatenated into the decoder at each level; a 1x1 convolution gives one logit.

Parameters: 1,926,433 at depth 1.
Receptive field: 100 px (measured): three poolings give more context than VGGNet M
(44 px) while the skips keep edges sharp. ``unet_lite`` is the same layout at half the width (a quarter of the cost).
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "unet_m"
WIDTHS = (32, 64, 128, 256)
PARAMETERS = 1_926_433


def build(depth: int = 1):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from ._layers import channels_for, unet

    return unet(channels_for(depth), WIDTHS, norm_kind="batch")


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="UNet M", build=build, dims=("2d", "2.5d"), size_multiple=8,
        description=f"3-level U-Net 32-...-256 with BatchNorm; {PARAMETERS / 1e6:.2f} M parameters",
    )]
