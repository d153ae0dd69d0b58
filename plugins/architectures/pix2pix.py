"""Pix2pix: a conditional GAN, a U-Net generator trained against a PatchGAN discriminator.

Generator (what ``build`` returns): five stride-2 4x4 convolutions down (64-128-256-512-512,
LeakyReLU 0.2 and BatchNorm, none on the 1/32 bottleneck), five stride-2 4x4 transposed
convolutions up (ReLU, BatchNorm, dropout 0.5 on the two deepest), with the encoder
features concatenated at each level. It ends in one logit per pixel: the original's tanh
is left out, since the framework applies the sigmoid.
Discriminator (``spec.discriminator(depth)``): a 70x70 PatchGAN on cat(input, mask), i.e.
depth + 1 channels: 4x4 convolutions 64-128-256 with stride 2 and 512 with stride 1
(BatchNorm except the first, LeakyReLU 0.2), then one logit per patch ("is this a real
mask for this input?").
The framework trains both with a GAN loss (generator: adversarial + weighted per-pixel
loss against the mask; discriminator: real vs generated) through manual optimisation.

Parameters: 16,653,505 (generator) and 2,764,609 (discriminator) at depth 1.
Receptive field: 158 px for the generator (measured; five stride-2 levels); 70 px per
patch for the discriminator, which judges local texture and sharpness.
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

NAME = "pix2pix"
WIDTHS = (64, 128, 256, 512, 512)
PARAMETERS = 16_653_505
DISCRIMINATOR_PARAMETERS = 2_764_609


def build(depth: int = 1):
    """The generator for ``depth`` input slices: (N, depth, H, W) -> (N, 1, H, W) logits."""
    from torch import nn

    from ._layers import Skip, channels_for

    def level(cin: int, widths: tuple[int, ...]) -> nn.Module:
        width, innermost = widths[0], len(widths) == 1
        down = [nn.LeakyReLU(0.2), nn.Conv2d(cin, width, 4, 2, 1, bias=innermost)]
        inner = [] if innermost else [nn.BatchNorm2d(width), level(width, widths[1:])]
        up = [nn.ReLU(), nn.ConvTranspose2d(width if innermost else 2 * width, cin, 4, 2, 1, bias=False),
              nn.BatchNorm2d(cin)]
        dropout = [nn.Dropout(0.5)] if len(widths) <= 2 else []
        return Skip(nn.Sequential(*down, *inner, *up, *dropout))

    return nn.Sequential(
        nn.Conv2d(channels_for(depth), WIDTHS[0], 4, 2, 1),
        level(WIDTHS[0], WIDTHS[1:]),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * WIDTHS[0], 1, 4, 2, 1),
    )


def discriminator(depth: int = 1):
    """The PatchGAN: (N, depth + 1, H, W) = cat(input, mask) -> (N, 1, H/8 - 2, W/8 - 2) patch logits."""
    from torch import nn

    from ._layers import channels_for

    layers, cin = [], channels_for(depth) + 1
    for i, (width, stride) in enumerate(((64, 2), (128, 2), (256, 2), (512, 1))):
        layers += [nn.Conv2d(cin, width, 4, stride, 1, bias=i == 0)]
        layers += [nn.BatchNorm2d(width)] if i else []
        layers += [nn.LeakyReLU(0.2, inplace=True)]
        cin = width
    return nn.Sequential(*layers, nn.Conv2d(cin, 1, 4, 1, 1))


@hookimpl
def ais_fw_architectures():
    return [ArchitectureSpec(
        name=NAME, title="Pix2pix", build=build, dims=("2d", "2.5d"), size_multiple=32, discriminator=discriminator,
        description=f"U-Net generator + PatchGAN discriminator, trained as a GAN; "
                    f"{PARAMETERS / 1e6:.1f} M parameters (generator)",
    )]
