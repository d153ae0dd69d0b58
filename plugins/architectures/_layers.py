"""Building blocks the builtin architectures share: convolutions with 'same' padding,
normalisation, and three wiring blocks (U-Net skip, residual sum, parallel branches).

This module imports torch at the top, so the architecture modules import it only inside
their ``build()`` functions: listing plugins (``ais-fw plugins``) never loads torch.
Blocks take ``dims=2`` or ``dims=3``; every network is then a tree of ``nn.Sequential``
and these blocks, so all classes live at module level (networks pickle and deep-copy).
"""
from __future__ import annotations

from collections import OrderedDict
from math import gcd

import torch
from torch import nn

CONV = {2: nn.Conv2d, 3: nn.Conv3d}
CONV_T = {2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
POOL = {2: nn.MaxPool2d, 3: nn.MaxPool3d}
BATCH_NORM = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}


def conv(cin: int, cout: int, kernel: int = 3, *, dims: int = 2, dilation: int = 1, bias: bool = True) -> nn.Module:
    """A stride-1 convolution whose output has the input's size (odd ``kernel``)."""
    return CONV[dims](cin, cout, kernel, padding=dilation * (kernel // 2), dilation=dilation, bias=bias)


def norm(kind: str | None, channels: int, dims: int = 2) -> nn.Module:
    """``"batch"``, ``"group"`` (up to 8 groups, independent of the batch size) or ``None``."""
    if kind == "batch":
        return BATCH_NORM[dims](channels)
    if kind == "group":
        return nn.GroupNorm(gcd(8, channels), channels)
    if kind is None:
        return nn.Identity()
    raise ValueError(f"unknown normalisation {kind!r}; use 'batch', 'group' or None")


def conv_block(cin: int, cout: int, *, n: int = 2, kernel: int = 3, dims: int = 2, norm_kind: str | None = None,
               dilation: int = 1) -> nn.Sequential:
    """``n`` times: convolution, normalisation (if any), ReLU."""
    layers: list[nn.Module] = []
    for i in range(n):
        layers.append(conv(cin if i == 0 else cout, cout, kernel, dims=dims, dilation=dilation,
                           bias=norm_kind is None))
        if norm_kind is not None:
            layers.append(norm(norm_kind, cout, dims))
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Skip(nn.Module):
    """U-Net skip connection: ``cat([x, inner(x)])`` along channels (``inner`` keeps the size)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.inner(x)], dim=1)


class Residual(nn.Module):
    """``relu(body(x) + shortcut(x))``; the shortcut is a 1x1 convolution when widths differ."""

    def __init__(self, body: nn.Module, shortcut: nn.Module | None = None):
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Identity()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class Branches(nn.Module):
    """Runs every branch on the same input and concatenates the outputs (an Inception module)."""

    def __init__(self, *branches: nn.Module):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def unet(cin: int, widths: tuple[int, ...], *, dims: int = 2, norm_kind: str | None = "batch",
         pool: int | tuple[int, ...] = 2, dropout: float = 0.0) -> nn.Sequential:
    """A U-Net with ``len(widths) - 1`` poolings, ending in a 1x1 convolution to one logit.

    Each level is: two 3x3 convolutions (``encode``), a skip around (pool, the next level,
    a transposed convolution back up), and two 3x3 convolutions on the concatenation
    (``decode``). ``widths[-1]`` is the bottleneck, which gets ``dropout`` if non-zero.
    """
    return nn.Sequential(OrderedDict(
        body=_level(cin, widths, dims, norm_kind, pool, dropout),
        head=conv(widths[0], 1, kernel=1, dims=dims),
    ))


def _level(cin: int, widths: tuple[int, ...], dims: int, norm_kind: str | None, pool, dropout: float) -> nn.Module:
    width = widths[0]
    encode = conv_block(cin, width, dims=dims, norm_kind=norm_kind)
    if len(widths) == 1:
        return nn.Sequential(encode, nn.Dropout(dropout)) if dropout else encode
    deeper = nn.Sequential(OrderedDict(
        pool=POOL[dims](pool),
        level=_level(width, widths[1:], dims, norm_kind, pool, dropout),
        up=CONV_T[dims](widths[1], width, kernel_size=pool, stride=pool),
    ))
    return nn.Sequential(OrderedDict(
        encode=encode,
        skip=Skip(deeper),
        decode=conv_block(2 * width, width, dims=dims, norm_kind=norm_kind),
    ))


def vgg(cin: int, widths: tuple[int, ...], *, norm_kind: str | None = None, dropout: float = 0.0) -> nn.Sequential:
    """A VGG-style encoder-decoder without skips, ending in a 1x1 convolution to one logit.

    Encoder: per width, two 3x3 convolutions and a 2x2 max-pool. Decoder: per width, in
    reverse, a stride-2 3x3 transposed convolution halving the channels.
    """
    encoder: list[nn.Module] = []
    channels = cin
    for width in widths:
        encoder += [conv_block(channels, width, norm_kind=norm_kind), nn.MaxPool2d(2)]
        channels = width
    if dropout:
        encoder.append(nn.Dropout(dropout))
    decoder: list[nn.Module] = []
    for width in reversed(widths):
        decoder += [nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1,
                                       bias=norm_kind is None),
                    norm(norm_kind, width // 2), nn.ReLU(inplace=True)]
    return nn.Sequential(OrderedDict(
        encoder=nn.Sequential(*encoder),
        decoder=nn.Sequential(*decoder),
        head=conv(widths[0] // 2, 1, kernel=1),
    ))


def channels_for(depth: int) -> int:
    """The input channels of a 2D/2.5D network for ``depth`` slices (a positive integer)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive number of slices, not {depth!r}")
    return depth
