"""InceptionNet: three full-resolution Inception modules with growing dilation.

A 3x3 stem convolution (32 channels), then three Inception modules. Each runs four
branches on the same input and concatenates them (64 channels): a 1x1 convolution (16),
1x1 -> 3x3 (24), 1x1 -> 5x5 (16) and 3x3 max-pool -> 1x1 (8), every convolution followed
by BatchNorm + ReLU. The 3x3 and 5x5 branches are dilated 1, 2 and 4 in the three modules.
A 1x1 convolution gives one logit. No pooling between modules: full resolution throughout.

Parameters: 28,593 at depth 1.
Receptive field: 31 px (3 + 4 x (1 + 2 + 4)); each module mixes several scales at once,
good for textured features whose size varies.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "inceptionnet"
DILATIONS = (1, 2, 4)
PARAMETERS = 28_593


def build(depth: int = 1):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from torch import nn

    from ._layers import Branches, channels_for, conv_block

    def unit(cin: int, cout: int, kernel: int = 1, dilation: int = 1) -> nn.Sequential:
        return conv_block(cin, cout, n=1, kernel=kernel, dilation=dilation, norm_kind="batch")

    def module(cin: int, dilation: int) -> nn.Module:
        return Branches(
            unit(cin, 16),
            nn.Sequential(unit(cin, 16), unit(16, 24, 3, dilation)),
            nn.Sequential(unit(cin, 8), unit(8, 16, 5, dilation)),
            nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), unit(cin, 8)),
        )

    layers = [unit(channels_for(depth), 32, 3)]
    channels = 32
    for dilation in DILATIONS:
        layers.append(module(channels, dilation))
        channels = 16 + 24 + 16 + 8
    layers.append(nn.Conv2d(channels, 1, 1))
    return nn.Sequential(*layers)


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="InceptionNet", build=build, dims=("2d", "2.5d"), size_multiple=1,
        description=f"three full-resolution Inception modules (1/3/5/pool branches); "
                    f"{PARAMETERS / 1e6:.2f} M parameters",
    )]
