"""ResNet: a full-resolution residual network whose dilations grow the receptive field.

A 3x3 stem convolution (32 channels), then four residual blocks, each two 3x3 convolutions
+ BatchNorm with dilations 1, 2, 4 and 8 and widths 32-32-64-64 (a 1x1 convolution on the
shortcut where the width changes), and a 1x1 convolution to one logit. No pooling: every
layer works at full resolution, so small features are never down-sampled away.

Parameters: 169,249 at depth 1.
Receptive field: 63 px (3 + 4 x (1 + 2 + 4 + 8)), reached through dilation rather than
pooling; costlier per pixel than a U-Net of similar size because nothing is down-sampled.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "resnet"
STAGES = ((32, 1), (32, 2), (64, 4), (64, 8))  # (width, dilation) of each residual block
PARAMETERS = 169_249


def build(depth: int = 1):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from torch import nn

    from ._layers import Residual, channels_for, conv, conv_block, norm

    def block(cin: int, width: int, dilation: int) -> nn.Module:
        body = nn.Sequential(
            conv(cin, width, dilation=dilation, bias=False), norm("batch", width), nn.ReLU(inplace=True),
            conv(width, width, dilation=dilation, bias=False), norm("batch", width),
        )
        shortcut = None if cin == width else nn.Sequential(conv(cin, width, 1, bias=False), norm("batch", width))
        return Residual(body, shortcut)

    layers = [conv_block(channels_for(depth), STAGES[0][0], n=1, norm_kind="batch")]
    channels = STAGES[0][0]
    for width, dilation in STAGES:
        layers.append(block(channels, width, dilation))
        channels = width
    layers.append(conv(channels, 1, kernel=1))
    return nn.Sequential(*layers)


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="ResNet", build=build, dims=("2d", "2.5d"), size_multiple=1,
        description=f"full-resolution residual network with dilations 1-8; {PARAMETERS / 1e6:.2f} M parameters",
    )]
