"""UNet L: the classic four-level U-Net (64 to 1024 channels) with BatchNorm and dropout.

Levels of two 3x3 convolutions + BatchNorm + ReLU, widths 64-128-256-512 and a 1024-wide
bottleneck at 1/16 resolution with dropout (0.5 by default); 2x2 max-pool down, 2x2
transposed convolution up, skips at each level; a 1x1 convolution gives one logit.

Parameters: 31,036,481 at depth 1.
Receptive field: 204 px (measured): the widest context of the 2D networks, with sharp edges from the
skips. Large and slow on a CPU; worth it for big or ambiguous features and lots of labels.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "unet_l"
WIDTHS = (64, 128, 256, 512, 1024)
PARAMETERS = 31_036_481


def build(depth: int = 1, dropout: float = 0.5):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from ._layers import channels_for, unet

    return unet(channels_for(depth), WIDTHS, norm_kind="batch", dropout=dropout)


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="UNet L", build=build, dims=("2d", "2.5d"), size_multiple=16,
        description=f"4-level U-Net 64-...-1024 with BatchNorm and dropout; {PARAMETERS / 1e6:.1f} M parameters",
    )]
