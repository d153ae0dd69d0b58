"""My Network: a small dilated convolutional network for ais-fw (the architecture template).

Copy this file, rename it, change the NAME, TITLE and the layers in ``build()``, and register
the module under the ``ais_fw`` entry-point group of your package's pyproject.toml::

    [project.entry-points.ais_fw]
    arch_my_network = "my_package_module"

``ais-fw plugins new architecture NAME`` writes such a package for you, with a test that
runs the contract (``ais_framework.testing.check_architecture``).

The network: a 3x3 convolution, four 3x3 convolutions with dilations 1, 2, 4 and 8 (each
with BatchNorm + ReLU), a last 3x3 convolution and a 1x1 convolution to one logit per pixel.
Parameters: 11,873 at depth 1 (width 16).
Receptive field: 35 px. Dilation widens what each pixel sees without pooling, so the
output keeps full resolution and any box size works (``size_multiple=1``).
"""
from __future__ import annotations

from ais_framework import hookimpl
from ais_framework.specs import ArchitectureSpec

# The stable id: used on the command line and stored in every model trained with it.
# Lowercase letters, digits and '_'. Never change it once models exist.
NAME = "my_network"
# What users see in lists.
TITLE = "My Network"
DILATIONS = (1, 2, 4, 8)


def build(depth: int = 1, width: int = 16):
    """Return the network as a ``torch.nn.Module``.

    The contract (checked by ``ais_framework.testing.check_architecture``):
    - input: float32 (N, depth, H, W): ``depth`` neighbouring slices as channels (1 = 2D,
      odd numbers above 1 = 2.5D), H and W multiples of the spec's ``size_multiple``;
    - output: float32 (N, 1, H, W) LOGITS. Do not end with a sigmoid: the framework applies
      the loss (masked BCE on logits) and the sigmoid at inference;
    - the same ``build(depth, **options)`` call must rebuild the same layers, because
      saved models are loaded by building the network and loading the weights into it.

    Extra keyword arguments (here ``width``) are architecture options users may set; the
    framework stores them with the model. Give each one a default.

    torch is imported here, not at the top of the file: ``ais-fw plugins`` imports every
    plugin module, and importing torch costs about a second. If your network needs its own
    ``forward()`` (skip connections, branches), put the ``nn.Module`` subclass in a second
    module of your package and import that here, inside ``build()``.
    """
    from torch import nn

    def unit(cin: int, cout: int, dilation: int = 1) -> list:
        # padding = dilation keeps H and W unchanged for a 3x3 kernel
        return [nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    layers = unit(depth, width)
    for dilation in DILATIONS:
        layers += unit(width, width, dilation)
    layers += unit(width, width)
    layers.append(nn.Conv2d(width, 1, kernel_size=1))  # one logit per pixel, no sigmoid
    return nn.Sequential(*layers)


@hookimpl
def ais_fw_architectures():
    """Called by ais-fw when it loads plugins; returns this module's architectures."""
    return [
        ArchitectureSpec(
            name=NAME,
            title=TITLE,
            build=build,
            # "2d": depth 1; "2.5d": depth > 1 slices as channels; a 3D network says ("3d",)
            # and maps (N, 1, D, H, W) -> (N, 1, D, H, W) logits instead.
            dims=("2d", "2.5d"),
            # Box sizes must be a multiple of this: 2 ** (number of poolings) for a U-Net.
            size_multiple=1,
            description="dilated convolutions 1-8 at full resolution, 35 px receptive field",
        )
    ]
