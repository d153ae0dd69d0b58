"""The network runner: dihedral test-time augmentation, tiling, padding, precision."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ais_framework.api import load_model
from ais_framework.errors import UsageError
from ais_framework.inference.runner import Runner, blend_ramp, tile_origins
from ais_framework.inference.tta import dihedral, undo_dihedral


@pytest.mark.parametrize("k", range(8))
def test_each_dihedral_variant_is_undone(k):
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).reshape(2, 3, 5, 7)
    variant = dihedral(x, k)
    assert torch.equal(undo_dihedral(variant, k), x)
    assert (variant.shape[-2:] == x.shape[-2:]) == (k % 2 == 0)


def test_the_eight_variants_are_distinct():
    x = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    variants = {tuple(dihedral(x, k).flatten().tolist()) for k in range(8)}
    assert len(variants) == 8


@pytest.mark.parametrize("h,w,tile,overlap", [(64, 64, 64, 16), (100, 230, 64, 16), (512, 720, 256, 64)])
def test_tiles_cover_the_plane_with_overlap(h, w, tile, overlap):
    covered = np.zeros((h, w), dtype=int)
    origins = tile_origins(h, w, tile, overlap)
    for y, x in origins:
        assert 0 <= y <= max(0, h - tile) and 0 <= x <= max(0, w - tile)
        covered[y : y + tile, x : x + tile] += 1
    assert covered.min() >= 1
    ys = sorted({y for y, _ in origins})
    assert all(b - a <= tile - overlap for a, b in zip(ys, ys[1:]))


def test_blend_ramp_is_positive_and_flat_inside():
    ramp = blend_ramp((64, 64), 16, "cpu")
    assert ramp.min() > 0 and ramp[16:48, 16:48].eq(1).all() and ramp[0, 0] < ramp[8, 8]


def _pointwise_model(dims: str = "2d") -> SimpleNamespace:
    """A 1x1 convolution: every output pixel depends on its own input pixel only."""
    conv = torch.nn.Conv2d(1, 1, 1) if dims == "2d" else torch.nn.Conv3d(1, 1, 1)
    with torch.no_grad():
        conv.weight.fill_(2.0)
        conv.bias.fill_(-1.0)
    return SimpleNamespace(network=conv, spec=SimpleNamespace(size_multiple=16),
                           metadata=SimpleNamespace(dims=dims))


def test_tiled_and_augmented_runs_equal_the_plain_run_for_a_pointwise_network():
    batch = np.random.default_rng(0).normal(size=(3, 1, 100, 140)).astype(np.float32)
    expected = 1 / (1 + np.exp(-(2 * batch[:, 0] - 1)))
    plain = Runner(_pointwise_model(), precision="fp32")(batch)
    tiled = Runner(_pointwise_model(), precision="fp32", tile=64, tta=8)(batch)
    assert plain.shape == (3, 100, 140)
    np.testing.assert_allclose(plain, expected, atol=1e-5)
    np.testing.assert_allclose(tiled, expected, atol=1e-5)


def test_3d_batches_keep_their_slices():
    batch = np.random.default_rng(1).normal(size=(2, 1, 5, 40, 50)).astype(np.float32)
    probs = Runner(_pointwise_model("3d"), precision="fp32", tta=4)(batch)
    assert probs.shape == (2, 5, 40, 50)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-(2 * batch[:, 0] - 1))), atol=1e-5)


def test_bf16_stays_close_to_float32_on_a_trained_model(membrane_model):
    model = load_model(membrane_model)
    batch = np.random.default_rng(2).normal(size=(2, 1, 64, 80)).astype(np.float32)
    exact = Runner(model, precision="fp32")(batch)
    fast = Runner(load_model(membrane_model), precision="bf16")(batch)
    assert np.abs(fast - exact).max() < 0.05


def test_tiled_real_model_agrees_away_from_tile_seams(membrane_model):
    batch = np.random.default_rng(3).normal(size=(1, 1, 128, 128)).astype(np.float32)
    whole = Runner(load_model(membrane_model), precision="fp32")(batch)
    tiled = Runner(load_model(membrane_model), precision="fp32", tile=96)(batch)
    assert np.abs(whole - tiled).mean() < 0.05


def test_tta_outside_1_to_8_is_refused(membrane_model):
    with pytest.raises(UsageError, match="--tta"):
        Runner(load_model(membrane_model), tta=9)


def test_folding_batch_norm_keeps_the_output_and_leaves_the_model_alone(membrane_model):
    from ais_framework.inference.fold import folded_copy

    model = load_model(membrane_model)
    norms = [m for m in model.network.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    folded = folded_copy(model.network)
    x = torch.from_numpy(np.random.default_rng(4).normal(size=(2, 1, 64, 80)).astype(np.float32))
    with torch.inference_mode():
        np.testing.assert_allclose(folded(x).numpy(), model.network.eval()(x).numpy(), atol=1e-4)
    assert norms and not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert [m for m in model.network.modules() if isinstance(m, torch.nn.BatchNorm2d)] == norms


def test_live_preview_prepares_the_network_once(synth, membrane_model):
    from ais_framework import api
    from ais_framework.inference import segment
    from ais_framework.volume import read_volume

    model, volume = load_model(membrane_model), read_volume(synth["tomogram"])
    first = api.segment_slice(model, volume, 10)
    runner = next(iter(segment._RUNNERS[model.network].values()))
    again = api.segment_slice(model, volume, 10)
    assert next(iter(segment._RUNNERS[model.network].values())) is runner
    np.testing.assert_array_equal(first, again)
