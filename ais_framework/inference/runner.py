"""Running one model's network on normalised batches, as fast as the device allows.

A :class:`Runner` owns a copy of the network on its device (eval mode, batch normalisation
folded into the convolutions, channels-last, inference mode, bf16/fp16 autocast where the
hardware computes it natively) and turns a float32
batch into probabilities:

- 2D/2.5D models: (N, C, H, W) -> (N, H, W); 3D models: (N, 1, D, H, W) -> (N, D, H, W);
- test-time augmentation: the mean over ``tta`` dihedral variants of the XY plane;
- padding to the network's size multiple (reflect), cropped away afterwards;
- when the device runs out of memory, the batch is split, then the XY plane is tiled with
  overlapping tiles blended by a linear ramp.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UsageError
from .fold import folded_copy
from .tta import dihedral, undo_dihedral

MIN_TILE = 64


class Runner:
    def __init__(self, model: Any, device: str = "cpu", precision: str = "auto", tta: int = 1,
                 tile: int | None = None):
        import torch

        from ..devices import inference_dtype

        if not 1 <= tta <= 8:
            raise UsageError(f"--tta must be 1 to 8, got {tta}", "1 is no augmentation, 8 every dihedral variant")
        self.device = torch.device(device)
        self.dtype = inference_dtype(device, precision)
        self.tta = tta
        self.tile = tile
        self.multiple = int(model.spec.size_multiple)
        self.three_d = model.metadata.dims == "3d"
        network = folded_copy(model.network).to(self.device)
        self.network = network if self.three_d else network.to(memory_format=torch.channels_last)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities (float32) for a normalised batch (see the module docstring)."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)
        with torch.inference_mode():
            total = None
            for variant in range(self.tta):
                probs = undo_dihedral(self._split_on_oom(dihedral(x, variant)), variant)
                total = probs if total is None else total.add_(probs)
            total /= self.tta
        return total[:, 0].cpu().numpy()

    def _split_on_oom(self, x):
        """Forward ``x``; on out-of-memory, halve the batch, then tile the plane."""
        try:
            return self._forward(x) if self.tile is None else self._tiled(x, self.tile)
        except RuntimeError as exc:
            if not _out_of_memory(exc):
                raise
        _free_cache(self.device)
        if x.shape[0] > 1:
            half = x.shape[0] // 2
            return _cat(self._split_on_oom(x[:half]), self._split_on_oom(x[half:]))
        self.tile = self._smaller_tile(x)
        return self._split_on_oom(x)

    def _smaller_tile(self, x) -> int:
        current = self.tile or max(x.shape[-2:])
        smaller = max(MIN_TILE, (current // 2) // self.multiple * self.multiple)
        if smaller >= current:
            raise UsageError(f"the device {self.device} is out of memory even for {current}-pixel tiles",
                             "use --device cpu, a smaller --batch-size, or free GPU memory")
        return smaller

    def _forward(self, x):
        """Sigmoid probabilities (float32) of the padded plane, cropped back to its size."""
        import torch
        import torch.nn.functional as F

        h, w = x.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode) if x.dim() == 4 else _pad3d(x, ph, pw, mode)
        if not self.three_d:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            logits = self.network(x)
        return torch.sigmoid(logits.float())[..., :h, :w]

    def _tiled(self, x, tile: int):
        """``_forward`` over overlapping XY tiles, blended with linear-ramp weights."""
        import torch

        h, w = x.shape[-2:]
        overlap = max(self.multiple, tile // 4)
        out = torch.zeros(x.shape[:1] + (1,) + x.shape[2:-2] + (h, w), device=x.device)
        weight = torch.zeros((h, w), device=x.device)
        for y0, x0 in tile_origins(h, w, tile, overlap):
            piece = x[..., y0 : y0 + tile, x0 : x0 + tile]
            ramp = blend_ramp(piece.shape[-2:], overlap, x.device)
            out[..., y0 : y0 + tile, x0 : x0 + tile] += self._forward(piece) * ramp
            weight[y0 : y0 + tile, x0 : x0 + tile] += ramp
        return out / weight


def tile_origins(h: int, w: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Top-left corners of tiles of ``tile`` pixels covering (h, w) with at least ``overlap``."""
    def starts(n: int) -> list[int]:
        if n <= tile:
            return [0]
        step = tile - overlap
        last = n - tile
        return sorted(set(list(range(0, last, step)) + [last]))

    return [(y, x) for y in starts(h) for x in starts(w)]


def blend_ramp(shape: tuple[int, int], overlap: int, device: Any):
    """Weights rising linearly over ``overlap`` pixels from each edge (never zero)."""
    import torch

    def ramp(n: int):
        i = torch.arange(n, device=device, dtype=torch.float32)
        edge = torch.minimum(i + 1, n - i)
        return torch.clamp(edge / max(overlap, 1), max=1.0)

    return ramp(shape[0])[:, None] * ramp(shape[1])[None, :]


def _pad3d(x, ph: int, pw: int, mode: str):
    import torch.nn.functional as F

    n, c, d, h, w = x.shape
    flat = F.pad(x.reshape(n, c * d, h, w), (0, pw, 0, ph), mode=mode)
    return flat.reshape(n, c, d, h + ph, w + pw)


def _cat(a, b):
    import torch

    return torch.cat([a, b])


def _out_of_memory(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text or "failed to allocate" in text


def _free_cache(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.empty_cache()
