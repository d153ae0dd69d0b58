"""``ais-fw segment --pipeline``: competition and interactions applied while streaming."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from ais_framework import api
from ais_framework.cli.main import main
from ais_framework.volume import read_volume

PIXEL_SIZE = 20.0  # the synth fixture's (conftest.py)

RADIUS_NM = 10


def _pipeline(folder: Path, carbon: Path, membrane: Path) -> Path:
    path = folder / "pipeline.toml"
    path.write_text(f"""
[[model]]
path = "{carbon}"
emit = true
[[model]]
path = "{membrane}"
absorb = true
[[interaction]]
child = "membrane"
parent = "carbon"
kind = "avoid"
radius_nm = {RADIUS_NM}
threshold = 0.5
""")
    return path


def _near(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """Voxels within ``radius_px`` of ``mask`` in their own slice (the avoid rule's disc)."""
    return np.stack([ndimage.distance_transform_edt(~m) <= radius_px if m.any() else np.zeros_like(m)
                     for m in mask])


def test_avoid_removes_membrane_false_positives_at_the_carbon_edge(synth, carbon_model, membrane_model, tmp_path):
    toml = _pipeline(tmp_path, carbon_model, membrane_model)
    plain = api.segment([synth["tomogram"]], tmp_path / "plain", models=[str(membrane_model), str(carbon_model)],
                        device="cpu", precision="fp32")[0]["outputs"]
    assert main(["segment", synth["tomogram"], "--pipeline", str(toml), "-o", str(tmp_path / "piped"),
                 "--device", "cpu", "--precision", "fp32", "-q"]) == 0
    piped = {n: tmp_path / "piped" / Path(p).name for n, p in plain.items()}
    truth_membrane = read_volume(synth["files"]["membrane_mask"]).data > 0
    carbon_edge = _near(read_volume(synth["files"]["carbon_mask"]).data > 0, RADIUS_NM * 10 / PIXEL_SIZE)
    before = read_volume(plain["membrane"]).data >= 128
    after = read_volume(piped["membrane"]).data >= 128
    false_before = (before & ~truth_membrane & carbon_edge).sum()
    false_after = (after & ~truth_membrane & carbon_edge).sum()
    assert false_before > 0 and false_after < false_before / 2
    carbon = read_volume(piped["carbon"]).data >= 128
    assert not (after & _near(carbon, RADIUS_NM * 10 / PIXEL_SIZE)).any()  # the rule, exactly
    np.testing.assert_array_equal(read_volume(piped["carbon"]).data, read_volume(plain["carbon"]).data)


def test_pipeline_output_does_not_depend_on_the_window(synth, carbon_model, membrane_model, tmp_path):
    toml = _pipeline(tmp_path, carbon_model, membrane_model)
    text = toml.read_text().replace('kind = "avoid"', 'kind = "avoid"\nball = true')
    toml.write_text(text)
    outputs = []
    for window in (3, 40):
        result = api.segment([synth["tomogram"]], tmp_path / f"w{window}", pipeline=toml, device="cpu",
                             precision="fp32", window=window)[0]
        outputs.append(read_volume(result["outputs"]["membrane"]).data.astype(int))
    assert np.abs(outputs[0] - outputs[1]).max() <= 1


def test_model_and_pipeline_together_are_refused(synth, membrane_model, tmp_path, capsys):
    toml = _pipeline(tmp_path, membrane_model, membrane_model)
    code = main(["segment", synth["tomogram"], "-m", str(membrane_model), "--pipeline", str(toml), "-o", str(tmp_path)])
    assert code == 2 and "either --model or --pipeline" in capsys.readouterr().err
