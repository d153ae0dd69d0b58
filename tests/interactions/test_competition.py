"""Competition: emitting models suppress, voxel by voxel, the absorbing models that are lower."""
from __future__ import annotations

import numpy as np

from ais_framework.pipeline import Pipeline, postprocess
from ais_plugins.interactions import competition


def voxels(*values: float) -> np.ndarray:
    return np.array(values, np.float32).reshape(1, 1, -1)


def pipeline(*models: dict) -> Pipeline:
    return Pipeline.model_validate({"model": [{"path": f"{m['name']}.aism", **m} for m in models]})


PROBS = {  # five voxels, side by side
    "carbon": voxels(0.9, 0.2, 0.1, 0.5, 0.3),
    "ice": voxels(0.1, 0.8, 0.1, 0.5, 0.3),
    "membrane": voxels(0.5, 0.9, 0.4, 0.5, 0.2),
    "vesicle": voxels(0.95, 0.6, 0.05, 0.4, 0.7),
}


def test_two_emitters_and_a_model_that_both_emits_and_absorbs():
    rules = pipeline({"name": "carbon", "emit": True}, {"name": "ice", "emit": True},
                     {"name": "membrane", "absorb": True}, {"name": "vesicle", "emit": True, "absorb": True})
    result = postprocess(PROBS, rules, pixel_size_A=10.0)
    # strongest emitter per voxel: 0.95 (vesicle), 0.8 (ice), 0.1 (carbon/ice), 0.5 (tie), 0.7 (vesicle)
    assert np.array_equal(result["membrane"], voxels(0.0, 0.9, 0.4, 0.5, 0.0))
    assert np.array_equal(result["vesicle"], voxels(0.95, 0.0, 0.0, 0.0, 0.7))
    assert result["carbon"] is PROBS["carbon"] and result["ice"] is PROBS["ice"]  # emitters only: untouched
    assert np.array_equal(PROBS["membrane"], voxels(0.5, 0.9, 0.4, 0.5, 0.2))  # inputs not modified


def test_a_model_never_suppresses_itself():
    rules = pipeline({"name": "vesicle", "emit": True, "absorb": True}, {"name": "membrane"})
    result = postprocess(PROBS, rules, pixel_size_A=10.0)
    assert result["vesicle"] is PROBS["vesicle"] and result["membrane"] is PROBS["membrane"]


def test_without_absorbers_or_emitters_nothing_changes():
    for flags in ({"emit": True}, {"absorb": True}):
        rules = pipeline({"name": "carbon", **flags}, {"name": "membrane", **flags})
        result = postprocess(PROBS, rules, pixel_size_A=10.0)
        assert all(result[name] is PROBS[name] for name in PROBS)


def test_competition_rule_keeps_ties_and_zeroes_lower_values():
    result = competition.apply(voxels(0.2, 0.5, 0.7), voxels(0.3, 0.5, 0.1))
    assert np.array_equal(result, voxels(0.0, 0.5, 0.7)) and result.dtype == np.float32
