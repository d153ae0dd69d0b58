"""The TOML pipeline file: the README example, saving and loading, and every kind of mistake."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from ais_framework.errors import InputFileError, PixelSizeError, UsageError
from ais_framework.pipeline import (Pipeline, check_pipeline, halo_slices, load_pipeline, postprocess,
                                    save_pipeline)

NAMED = """\
[[model]]
path = "a.aism"
name = "carbon"
emit = true
[[model]]
path = "b.aism"
name = "membrane"
absorb = true
threshold = 0.3
[[interaction]]
child = "membrane"
parent = "carbon"
kind = "avoid"
radius_nm = 2
threshold = 0.5
"""


def test_readme_example_names_models_after_their_feature(example_folder):
    pipeline = load_pipeline(example_folder / "pipeline.toml")
    assert pipeline.names == ["carbon", "membrane"]
    assert [(m.emit, m.absorb) for m in pipeline.models] == [(True, False), (False, True)]
    interaction = pipeline.interactions[0]
    assert (interaction.kind, interaction.radius_nm, interaction.threshold, interaction.ball) == ("avoid", 10.0, 0.5, False)
    assert pipeline.model_path(pipeline.models[0]) == example_folder / "carbon.aism"


def test_readme_example_removes_membrane_near_carbon_and_where_carbon_is_higher(example_folder):
    pipeline = load_pipeline(example_folder / "pipeline.toml")
    carbon = np.zeros((3, 8, 40), np.float32)
    carbon[:, :, :10] = 0.9  # carbon on the left, its edge at x = 9.5
    membrane = np.full(carbon.shape, 0.6, np.float32)
    result = postprocess({"carbon": carbon, "membrane": membrane}, pipeline, pixel_size_A=5.0)  # 10 nm = 20 px
    assert not result["membrane"][:, :, :30].any()  # on the carbon (competition) and up to 20 px from it
    assert np.all(result["membrane"][:, :, 30:] == np.float32(0.6))


def test_save_and_load_round_trip_from_another_folder(example_folder, tmp_path_factory):
    pipeline = load_pipeline(example_folder / "pipeline.toml")
    pipeline.interactions[0].ball = True
    pipeline.models[1].threshold = 0.25
    target = tmp_path_factory.mktemp("elsewhere") / "sub" / "saved.toml"
    save_pipeline(pipeline, target)
    again = load_pipeline(target)
    assert [again.model_path(m).resolve() for m in again.models] == \
        [pipeline.model_path(m).resolve() for m in pipeline.models]
    assert again.interactions == pipeline.interactions
    assert [(m.name, m.emit, m.absorb, m.threshold) for m in again.models] == \
        [(m.name, m.emit, m.absorb, m.threshold) for m in pipeline.models]
    assert not list(target.parent.glob(".*"))  # no temporary file left behind
    beside = example_folder / "copy.toml"
    save_pipeline(again, beside)
    assert 'path = "carbon.aism"' in beside.read_text()  # relative paths stay short and portable


def test_awkward_names_survive_a_round_trip(tmp_path, write_pipeline):
    odd = 'mem "brane" \\ é\ttab'
    pipeline = load_pipeline(write_pipeline(tmp_path, NAMED.replace('"membrane"', '"mem \\"brane\\" \\\\ é\\ttab"'),
                                            ("a.aism", "b.aism")))
    assert pipeline.names[1] == odd
    save_pipeline(pipeline, tmp_path / "again.toml")
    assert load_pipeline(tmp_path / "again.toml").names[1] == odd


def test_interaction_threshold_falls_back_to_the_parent_model_then_to_one_half(tmp_path, write_pipeline):
    text = NAMED.replace("threshold = 0.5\n", "") + '[[interaction]]\nchild = "carbon"\nparent = "membrane"\n' \
        'kind = "colocalize"\nradius_nm = 7\n'
    pipeline = load_pipeline(write_pipeline(tmp_path, text, ("a.aism", "b.aism")))
    assert [pipeline.threshold_of(i) for i in pipeline.interactions] == [0.5, 0.3]
    carbon = np.zeros((1, 1, 12), np.float32)
    carbon[0, 0, 8] = 1.0
    for membrane_value, carbon_kept in ((0.4, True), (0.25, False)):  # the membrane model's threshold: 0.3
        membrane = np.zeros((1, 1, 12), np.float32)
        membrane[0, 0, 2] = membrane_value  # 6 px from the carbon: not avoided (2 px), within 7 px
        result = postprocess({"carbon": carbon, "membrane": membrane}, pipeline, pixel_size_A=10.0)
        assert result["membrane"][0, 0, 2] == np.float32(membrane_value)
        assert bool(result["carbon"][0, 0, 8]) is carbon_kept


def test_radius_is_converted_with_the_pixel_size(tmp_path, write_pipeline):
    pipeline = load_pipeline(write_pipeline(tmp_path, NAMED, ("a.aism", "b.aism")))  # avoid within 2 nm
    carbon = np.zeros((1, 1, 12), np.float32)
    carbon[0, 0, 0] = 1.0
    membrane = np.full((1, 1, 12), 1.0, np.float32)
    for pixel_size, first_kept in ((10.0, 3), (5.0, 5), (4.0, 6)):  # 2 px, 4 px, 5 px
        result = postprocess({"carbon": carbon, "membrane": membrane}, pipeline, pixel_size_A=pixel_size)
        assert np.flatnonzero(result["membrane"][0, 0])[0] == first_kept
    with pytest.raises(PixelSizeError, match="pixel size"):
        postprocess({"carbon": carbon, "membrane": membrane}, pipeline, pixel_size_A=0.0)


def test_postprocess_needs_every_model_of_the_pipeline(tmp_path, write_pipeline):
    pipeline = load_pipeline(write_pipeline(tmp_path, NAMED, ("a.aism", "b.aism")))
    with pytest.raises(UsageError, match="no predictions for membrane"):
        postprocess({"carbon": np.zeros((1, 2, 2), np.float32)}, pipeline, pixel_size_A=10.0)
    with pytest.raises(UsageError, match="differ in shape"):
        postprocess({"carbon": np.zeros((1, 2, 2), np.float32), "membrane": np.zeros((2, 2, 2), np.float32)},
                    pipeline, pixel_size_A=10.0)
    with pytest.raises(UsageError, match="'membrane' are uint8, not probabilities"):
        postprocess({"carbon": np.zeros((1, 2, 2), np.float32), "membrane": np.zeros((1, 2, 2), np.uint8)},
                    pipeline, pixel_size_A=10.0)


# ---- mistakes in the file -------------------------------------------------------------------

MISTAKES = [  # (change to NAMED, words the error must contain)
    (("radius_nm = 2", "radius_nm = 0"), ["line 14", "[[interaction]] 1", "'radius_nm'", "greater than 0"]),
    (("radius_nm = 2", "radius_nm = -3.5"), ["line 14", "'radius_nm'", "-3.5"]),
    (("radius_nm = 2\n", ""), ["line 10", "'radius_nm': missing"]),
    (('kind = "avoid"', 'kind = "avoidd"'), ["line 13", "'kind'", "unknown interaction kind 'avoidd'",
                                             "installed: avoid, colocalize"]),
    (('kind = "avoid"', 'kind = "competition"'), ["line 13", "competition is not an interaction", "emit = true"]),
    (('parent = "carbon"', 'parent = "carbn"'), ["line 12", "parent 'carbn' is not a model", "carbon, membrane"]),
    (('child = "membrane"', 'child = "carbon"'), ["line 12", "'carbon' cannot interact with itself"]),
    (('name = "membrane"', 'name = "carbon"'), ["line 7", "[[model]] 2", "two models are called 'carbon'"]),
    (("radius_nm = 2", "radius = 2"), ["line 14", "unknown field", "radius_nm"]),
    (("emit = true", 'emit = "yes"'), ["line 4", "[[model]] 1", "'emit'", "valid boolean"]),
    (("threshold = 0.3", "threshold = 1.5"), ["line 9", "'threshold'", "less than or equal to 1"]),
    (('path = "b.aism"', 'path = "missing/b.aism"'), ["line 6", "model file not found", "missing/b.aism"]),
    (("radius_nm = 2\n", "radius_nm = 2\nradius_nm = 3\n"), ["line 15", "not valid TOML"]),
    (("[[interaction]]", "[[interation]]"), ["unknown table 'interation'", "[[interaction]]"]),
]


@pytest.mark.parametrize("change, words", MISTAKES, ids=[m[0][1].split("\n")[0] or m[0][0] for m in MISTAKES])
def test_mistakes_are_named_with_their_line(tmp_path, change, words, write_pipeline):
    path = write_pipeline(tmp_path, NAMED.replace(*change), ("a.aism", "b.aism"))
    with pytest.raises(InputFileError) as caught:
        load_pipeline(path)
    error = caught.value
    text = f"{error.message} {error.hint}"
    assert str(path) in error.message
    assert all(word in text for word in words), text


def test_a_pipeline_without_models_or_file_is_refused(tmp_path, write_pipeline):
    with pytest.raises(InputFileError, match="no \\[\\[model\\]\\] table"):
        load_pipeline(write_pipeline(tmp_path, "# nothing yet\n"))
    with pytest.raises(InputFileError, match="pipeline file not found"):
        load_pipeline(tmp_path / "absent.toml")


def test_a_model_that_is_not_a_package_is_named(tmp_path, write_pipeline):
    text = NAMED.replace('name = "carbon"\n', "")
    path = write_pipeline(tmp_path, text, ("b.aism",))
    (tmp_path / "a.aism").write_text("not a zip")
    with pytest.raises(InputFileError, match="line 2: \\[\\[model\\]\\] 1, field 'path'"):
        load_pipeline(path)


def test_pipelines_built_in_code_are_checked_like_files(tmp_path, write_pipeline):
    shutil.copy(write_pipeline(tmp_path, NAMED, ("a.aism", "b.aism")), tmp_path / "unused.toml")
    pipeline = load_pipeline(tmp_path / "pipeline.toml")
    with pytest.raises(ValueError, match="greater than 0"):
        pipeline.interactions[0].radius_nm = 0  # edits are validated as they are made
    pipeline.interactions[0].parent = "ice"
    with pytest.raises(UsageError, match="\\[\\[interaction\\]\\] 1, field 'parent': parent 'ice'"):
        check_pipeline(pipeline)
    with pytest.raises(UsageError):
        save_pipeline(pipeline, tmp_path / "broken.toml")
    assert not (tmp_path / "broken.toml").exists()


# ---- halo ----------------------------------------------------------------------------------

def chain(*interactions: tuple[str, str, str, float, bool]) -> Pipeline:
    return Pipeline.model_validate({
        "model": [{"path": f"{n}.aism", "name": n} for n in "abcd"],
        "interaction": [{"child": c, "parent": p, "kind": k, "radius_nm": r, "ball": b} for c, p, k, r, b in interactions],
    })


def test_halo_adds_up_along_chains_of_ball_interactions():
    assert halo_slices(chain(("b", "a", "avoid", 3.0, True), ("c", "b", "colocalize", 2.5, True)), 10.0) == 5
    assert halo_slices(chain(("b", "a", "avoid", 3.0, True), ("c", "d", "colocalize", 2.5, True)), 10.0) == 3
    assert halo_slices(chain(("b", "a", "avoid", 3.0, True), ("a", "c", "colocalize", 2.5, True)), 10.0) == 3
    assert halo_slices(chain(("b", "a", "avoid", 3.0, True), ("c", "b", "colocalize", 2.5, False)), 10.0) == 3
    assert halo_slices(chain(("b", "a", "avoid", 3.0, True)), 7.0) == 4  # 30 Å at 7 Å: 4.3 px
    assert halo_slices(chain(("b", "a", "avoid", 30.0, False)), 10.0) == 0
