"""Every coordinate format writes what it reads back: positions, angles, scores, filaments, names."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ais_framework.errors import AisError, UnknownNameError, UsageError
from ais_framework.picks import Picks, read_picks, read_picks_all, write_picks

FORMATS = {"star": ".star", "relion5": ".star", "tbl": ".tbl", "json": ".json", "csv": ".csv", "tsv": ".tsv"}


def example(name: str = "TS_01", n: int = 7, seed: int = 0, angles: bool = True, filaments: bool = False) -> Picks:
    rng = np.random.default_rng(seed)
    zyx = rng.uniform(5, 90, (n, 3))
    eulers = Rotation.random(n, random_state=seed).as_euler("ZYZ", degrees=True) if angles else None
    return Picks.from_zyx(zyx, pixel_size_A=7.5, tomogram=name, score=rng.uniform(0, 1, n),
                          rot=None if eulers is None else eulers[:, 0], tilt=None if eulers is None else eulers[:, 1],
                          psi=None if eulers is None else eulers[:, 2], tomogram_shape=(100, 120, 140),
                          filament_id=rng.integers(1, 4, n) if filaments else None)


def same_rotation(a: np.ndarray, b: np.ndarray) -> bool:
    ra, rb = (Rotation.from_euler("ZYZ", x, degrees=True) for x in (a, b))
    return bool(np.all((ra.inv() * rb).magnitude() < 1e-4))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_round_trip_keeps_positions_angles_scores_and_names(tmp_path, fmt):
    picks = example(filaments=True)
    path = write_picks(picks, tmp_path / f"picks{FORMATS[fmt]}", fmt=fmt)
    back = read_picks(path, fmt=fmt, tomogram="TS_01")
    np.testing.assert_allclose(back.xyz, picks.xyz, atol=1e-4)
    assert back.pixel_size_A == pytest.approx(7.5)
    assert same_rotation(back.angles(), picks.angles())
    np.testing.assert_allclose(back.score, picks.score, atol=1e-5)
    np.testing.assert_array_equal(back.filament_id, picks.filament_id)
    if fmt == "relion5":
        assert back.tomogram_shape == (100, 120, 140)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_several_tomograms_in_one_file(tmp_path, fmt):
    parts = [example("TS_01", 5, seed=1), example("TS_02", 3, seed=2)]
    path = write_picks(parts, tmp_path / f"many{FORMATS[fmt]}", fmt=fmt)
    tables = read_picks_all(path, fmt=fmt)
    assert [t.tomogram for t in tables] == ["TS_01", "TS_02"]
    for written, read in zip(parts, tables):
        np.testing.assert_allclose(read.xyz, written.xyz, atol=1e-4)
    with pytest.raises(UsageError, match="2 tomograms"):
        read_picks(path, fmt=fmt)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_empty_picks_write_a_valid_empty_file(tmp_path, fmt):
    path = write_picks(Picks.empty("TS_09", pixel_size_A=10.0, tomogram_shape=(10, 20, 30)),
                       tmp_path / f"none{FORMATS[fmt]}", fmt=fmt)
    assert path.is_file()
    assert sum(len(t) for t in read_picks_all(path, fmt=fmt)) == 0
    assert len(read_picks(path, fmt=fmt)) == 0


def test_extension_chooses_the_format_and_detects_relion5(tmp_path):
    picks = example()
    write_picks(picks, tmp_path / "a.star", fmt="relion5")
    assert "rlnCenteredCoordinateXAngst" in (tmp_path / "a.star").read_text()
    np.testing.assert_allclose(read_picks(tmp_path / "a.star").xyz, picks.xyz, atol=1e-4)  # detected
    write_picks(picks, tmp_path / "b.star")  # .star writes RELION 3/4 by default
    text = (tmp_path / "b.star").read_text()
    assert "rlnCoordinateX" in text and "rlnCenteredCoordinateXAngst" not in text
    np.testing.assert_allclose(read_picks(tmp_path / "b.star").xyz, picks.xyz, atol=1e-4)


def test_relion5_centres_coordinates_on_the_tomogram(tmp_path):
    picks = Picks(x=[70.0], y=[0.0], z=[50.0], pixel_size_A=2.0, tomogram="t", tomogram_shape=(100, 120, 140))
    write_picks(picks, tmp_path / "c.star", fmt="relion5")
    import starfile

    particles = starfile.read(tmp_path / "c.star", always_dict=True)["particles"]
    assert particles["rlnCenteredCoordinateXAngst"][0] == pytest.approx(0.0)
    assert particles["rlnCenteredCoordinateYAngst"][0] == pytest.approx(-120.0)
    assert particles["rlnCenteredCoordinateZAngst"][0] == pytest.approx(0.0)


def test_relion5_needs_the_tomogram_shape(tmp_path):
    picks = Picks(x=[1.0], y=[2.0], z=[3.0], pixel_size_A=2.0, tomogram="t")
    with pytest.raises(UsageError, match="shape"):
        write_picks(picks, tmp_path / "d.star", fmt="relion5")
    assert not (tmp_path / "d.star").exists()  # nothing half-written


def test_dynamo_writes_its_table_map_beside_the_table(tmp_path):
    write_picks([example("TS_01", 2), example("TS_07", 2)], tmp_path / "t.tbl")
    assert (tmp_path / "t.doc").read_text() == "1\tTS_01\n2\tTS_07\n"
    rows = np.loadtxt(tmp_path / "t.tbl")
    assert rows.shape == (4, 36) and list(rows[:, 19]) == [1, 1, 2, 2]


def test_dynamo_angles_follow_the_known_relion_relation():
    from ais_plugins.io.dynamo_tbl import dynamo_to_relion, relion_to_dynamo

    dynamo = Rotation.random(20, random_state=4).as_euler("zxz", degrees=True)  # tdrot, tilt, narot
    relion = dynamo_to_relion(dynamo)
    same = Rotation.from_euler("zxz", dynamo, degrees=True).inv() * Rotation.from_euler("ZYZ", relion, degrees=True)
    assert np.all(same.magnitude() < 1e-9)  # one rotation matrix, as copick's conversion has it
    np.testing.assert_allclose(relion_to_dynamo(relion), dynamo, atol=1e-9)


def test_copick_json_is_in_angstrom_with_rotation_matrices(tmp_path):
    picks = example(n=2)
    write_picks(picks, tmp_path / "p.json")
    body = json.loads((tmp_path / "p.json").read_text())
    assert body["unit"] == "angstrom" and body["run_name"] == "TS_01" and body["voxel_spacing"] == 7.5
    point = body["points"][0]
    assert point["location"]["x"] == pytest.approx(picks.x[0] * 7.5)
    matrix = np.array(point["transformation_"])
    expected = Rotation.from_euler("ZYZ", picks.angles()[0], degrees=True).inv().as_matrix()
    np.testing.assert_allclose(matrix[:3, :3], expected, atol=1e-9)
    np.testing.assert_allclose(matrix[3], [0, 0, 0, 1])


def test_unknown_format_lists_the_known_ones(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown coordinate format 'xyz'") as error:
        write_picks(example(), tmp_path / "x.star", fmt="xyz")
    assert "relion5" in error.value.hint and "tbl" in error.value.hint
    with pytest.raises(UnknownNameError, match="'.dat'"):
        write_picks(example(), tmp_path / "x.dat")


def test_a_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "keep.json"
    target.write_text("old")
    with pytest.raises(AisError):
        write_picks(Picks(x=[1.0], y=[1.0], z=[1.0], tomogram="t"), target)  # no pixel size: Å impossible
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]
