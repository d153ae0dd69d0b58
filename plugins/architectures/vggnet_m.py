"""VGGNet M: the reference tool's default network, a VGG-style encoder-decoder without skips.

Encoder: three blocks of two 3x3 convolutions + ReLU, widths 128-256-512, each followed by
a 2x2 max-pool; decoder: three stride-2 3x3 transposed convolutions (512->256->128->64)
and a 1x1 convolution to one logit. No normalisation, no skip connections.

Parameters: 6,122,881 at depth 1.
Receptive field: 44 px (measured): six 3x3 convolutions over three scales and the
transposed convolutions; without skips the output is rebuilt from 1/8 resolution, so
edges come out soft. All its width sits at full and half resolution, which is costly.
Expensive for its quality: ``unet_lite`` is the cheaper default.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "vggnet_m"
WIDTHS = (128, 256, 512)
PARAMETERS = 6_122_881


def build(depth: int = 1):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from ._layers import channels_for, vgg

    return vgg(channels_for(depth), WIDTHS)


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="VGGNet M", build=build, dims=("2d", "2.5d"), size_multiple=8,
        description=f"VGG encoder 128-256-512 + transposed-conv decoder, no skips; {PARAMETERS / 1e6:.2f} M parameters",
    )]
