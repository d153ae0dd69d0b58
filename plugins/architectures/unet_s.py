"""UNet S: a small two-level U-Net (two poolings) with BatchNorm.

Levels of two 3x3 convolutions + BatchNorm + ReLU, widths 32-64 and a 128-wide bottleneck
at 1/4 resolution; 2x2 max-pool down, 2x2 transposed convolution up, and the encoder
features concatenated into the decoder at each level (skips); a 1x1 convolution gives one logit.

Parameters: 466,593 at depth 1.
Receptive field: 44 px (measured): the skips keep thin features sharp, but with two poolings the
context is small; fine for membranes and filaments at a coarse pixel size.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "unet_s"
WIDTHS = (32, 64, 128)
PARAMETERS = 466_593


def build(depth: int = 1):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from ._layers import channels_for, unet

    return unet(channels_for(depth), WIDTHS, norm_kind="batch")


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="UNet S", build=build, dims=("2d", "2.5d"), size_multiple=4,
        description=f"2-level U-Net 32-64-128 with BatchNorm; {PARAMETERS / 1e6:.2f} M parameters",
    )]
