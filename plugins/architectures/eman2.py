"""EMAN2-style network: few, large 15x15 kernels, in the manner of EMAN2's tomogram segmentation.

A 15x15 convolution (40 channels) + ReLU at full resolution, a 2x2 max-pool, a second
15x15 convolution (40) + ReLU and a third 15x15 convolution to one logit at half
resolution, then bilinear up-sampling of the logits back to full size.

Parameters: 378,081 at depth 1.
Receptive field: 74 px (measured) from only three layers: each kernel
sees a large patch directly, which matches smooth features (membranes, carbon) seen in
noisy data; the half-resolution output cannot resolve detail below 2 px.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "eman2"
KERNEL = 15
WIDTH = 40
PARAMETERS = 378_081


def build(depth: int = 1):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from torch import nn

    from ._layers import channels_for, conv

    return nn.Sequential(
        conv(channels_for(depth), WIDTH, KERNEL), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        conv(WIDTH, WIDTH, KERNEL), nn.ReLU(inplace=True),
        conv(WIDTH, 1, KERNEL),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
    )


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="EMAN2", build=build, dims=("2d", "2.5d"), size_multiple=2,
        description=f"three 15x15 convolutions, one pooling (EMAN2 tomoseg style); {PARAMETERS / 1e6:.2f} M parameters",
    )]
