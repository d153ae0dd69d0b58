"""UNet 3D: a three-level 3D U-Net for slabs, pooling in-plane only so any slab thickness works.

Maps (N, 1, D, H, W) -> (N, 1, D, H, W) logits. Levels of two 3x3x3 convolutions +
GroupNorm (independent of the small batches 3D training uses) + ReLU, widths 16-32-64
and a 128-wide bottleneck; 1x2x2 max-pool down and 1x2x2 transposed convolution up (Z is
never pooled), skips at each level; a 1x1x1 convolution gives one logit.
H and W must be multiples of 8; D may be any size (5-slice slabs and up).

Parameters: 1,358,257 at depth 1.
Receptive field: 100 px in-plane like ``unet_lite``, and 29 slices in Z from the
fourteen 3x3x3 convolutions at full Z resolution: the network sees a feature's 3D shape.
Costs ~27x ``unet_lite`` per voxel; meant for a GPU.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "unet3d"
PARAMETERS = 1_358_257


def build(depth: int = 1, base: int = 16):
    """The network: (N, 1, D, H, W) -> (N, 1, D, H, W) logits.

    ``depth``: the slab thickness the model is trained on (any; the network needs none).
    ``base``: the width of the first level; each deeper level doubles it.
    """
    from ._layers import channels_for, unet

    channels_for(depth)  # validates it
    return unet(1, (base, 2 * base, 4 * base, 8 * base), dims=3, norm_kind="group", pool=(1, 2, 2))


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="UNet 3D", build=build, dims=("3d",), size_multiple=8,
        description=f"3-level 3D U-Net 16-...-128 with GroupNorm for slabs (in-plane pooling); "
                    f"{PARAMETERS / 1e6:.2f} M parameters",
    )]
