"""What the segmentation engine relies on: a pipeline applied slab by slab, each slab given
``halo_slices`` extra slices on each side and cropped, equals the pipeline on the whole volume."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from ais_framework.pipeline import Pipeline, halo_slices, postprocess

SHAPE = (36, 40, 44)
PIXEL_SIZE_A = 10.0  # radii below: nm = px


def smooth_probabilities(seed: int) -> np.ndarray:
    """Blobs of 0..1 'probability' a few pixels across, like a network's output."""
    noise = np.random.default_rng(seed).normal(size=SHAPE)
    smooth = ndimage.gaussian_filter(noise, 2.0)
    return ((smooth - smooth.min()) / (smooth.max() - smooth.min())).astype(np.float32)


PROBS = {name: smooth_probabilities(seed) for seed, name in enumerate(("carbon", "membrane", "vesicle", "particle"))}


def pipeline(ball: bool) -> Pipeline:
    """Competition, then a chain: membrane avoids carbon, vesicle keeps near membrane, particle near vesicle."""
    return Pipeline.model_validate({
        "model": [{"path": "c.aism", "name": "carbon", "emit": True},
                  {"path": "m.aism", "name": "membrane", "absorb": True},
                  {"path": "v.aism", "name": "vesicle", "emit": True, "absorb": True},
                  {"path": "p.aism", "name": "particle"}],
        "interaction": [
            {"child": "membrane", "parent": "carbon", "kind": "avoid", "radius_nm": 2.5, "threshold": 0.6, "ball": ball},
            {"child": "vesicle", "parent": "membrane", "kind": "colocalize", "radius_nm": 3.2, "threshold": 0.55,
             "ball": ball},
            {"child": "particle", "parent": "vesicle", "kind": "colocalize", "radius_nm": 2.0, "threshold": 0.5,
             "ball": ball},
        ]})


def slab_by_slab(pipeline: Pipeline, slab: int, halo: int) -> dict[str, np.ndarray]:
    """The engine's way: overlapping slabs, each cropped to its own slices, stitched."""
    stitched = {name: np.empty(SHAPE, np.float32) for name in PROBS}
    for start in range(0, SHAPE[0], slab):
        stop = min(start + slab, SHAPE[0])
        low, high = max(0, start - halo), min(SHAPE[0], stop + halo)
        result = postprocess({name: array[low:high] for name, array in PROBS.items()}, pipeline, PIXEL_SIZE_A)
        for name in stitched:
            stitched[name][start:stop] = result[name][start - low:stop - low]
    return stitched


def test_the_chained_pipeline_changes_every_model_it_names():
    whole = postprocess(PROBS, pipeline(ball=True), PIXEL_SIZE_A)
    for name in ("membrane", "vesicle", "particle"):
        assert 0 < np.count_nonzero(whole[name] != PROBS[name]) < PROBS[name].size


@pytest.mark.parametrize("ball", [True, False])
@pytest.mark.parametrize("slab", [1, 7, 16])
def test_slabs_with_the_halo_give_the_whole_volume_result(ball, slab):
    rules = pipeline(ball)
    halo = halo_slices(rules, PIXEL_SIZE_A)
    assert halo == (2 + 3 + 2 if ball else 0)  # the chain's radii add up: floor(2.5) + floor(3.2) + 2
    whole = postprocess(PROBS, rules, PIXEL_SIZE_A)
    stitched = slab_by_slab(rules, slab, halo)
    for name in PROBS:
        assert np.array_equal(stitched[name], whole[name]), name


def test_a_smaller_halo_than_the_chain_needs_gives_seams():
    rules = pipeline(ball=True)
    whole = postprocess(PROBS, rules, PIXEL_SIZE_A)
    longest_link = slab_by_slab(rules, 5, 3)  # enough for any one interaction, not for the chain
    assert not np.array_equal(longest_link["vesicle"], whole["vesicle"])
    two_links = slab_by_slab(rules, 5, 5)  # enough for membrane -> vesicle, not for the particle
    assert np.array_equal(two_links["vesicle"], whole["vesicle"])
    assert not np.array_equal(two_links["particle"], whole["particle"])
