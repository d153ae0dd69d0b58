"""VGGNet L: the large VGG-style encoder-decoder: four levels, BatchNorm and dropout, no skips.

Encoder: four blocks of two 3x3 convolutions + BatchNorm + ReLU, widths 128-256-512-1024,
each followed by a 2x2 max-pool, then dropout (0.25 by default); decoder: four stride-2
3x3 transposed convolutions + BatchNorm + ReLU (1024->512->256->128->64) and a 1x1
convolution to one logit.

Parameters: 25,004,609 at depth 1.
Receptive field: 92 px (measured; the fourth level doubles the context), but the output is
rebuilt from 1/16 resolution without skips, so it suits big, smooth features (carbon,
cytoplasm) rather than thin membranes. Slow on a CPU.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "vggnet_l"
WIDTHS = (128, 256, 512, 1024)
PARAMETERS = 25_004_609


def build(depth: int = 1, dropout: float = 0.25):
    """The network for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from ._layers import channels_for, vgg

    return vgg(channels_for(depth), WIDTHS, norm_kind="batch", dropout=dropout)


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="VGGNet L", build=build, dims=("2d", "2.5d"), size_multiple=16,
        description=f"VGG encoder 128-...-1024 with BatchNorm + transposed-conv decoder, no skips; "
                    f"{PARAMETERS / 1e6:.1f} M parameters",
    )]
