"""VGGNet S: the small VGG-style encoder-decoder without skips (the reference tool's first default).

Encoder: three blocks of two 3x3 convolutions + ReLU, widths 64-128-256, each followed by a
2x2 max-pool; decoder: three stride-2 3x3 transposed convolutions (256->128->64->32) and a
1x1 convolution to one logit. No normalisation, no skip connections.

Parameters: 1,531,585 at depth 1.
Receptive field: 44 px (measured), like VGGNet M (same layout, half the widths). Without
skips the output is rebuilt from 1/8 resolution, so thin features come out blurred.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "vggnet_s"
WIDTHS = (64, 128, 256)
PARAMETERS = 1_531_585


def build(depth: int = 1):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from ._layers import channels_for, vgg

    return vgg(channels_for(depth), WIDTHS)


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="VGGNet S", build=build, dims=("2d", "2.5d"), size_multiple=8,
        description=f"VGG encoder 64-128-256 + transposed-conv decoder, no skips; {PARAMETERS / 1e6:.2f} M parameters",
    )]
