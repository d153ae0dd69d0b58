"""Readers against real coordinate files from RELION 3/4/5, Warp, Dynamo and cylindra (read in place)."""
from __future__ import annotations

import numpy as np
import pytest
import starfile

from ais_framework.errors import InputFileError
from ais_framework.picks import read_picks, read_picks_all, write_picks


def test_relion4_style_star_from_the_chlamy_dataset(shared_data, tmp_path):
    path = shared_data / "chlamy-picks" / "tomo_0054_hsp60.star"
    table = starfile.read(path)
    picks = read_picks(path, pixel_size=1.96)
    assert picks.tomogram == "tomo_0054" and len(picks) == len(table) == 27
    np.testing.assert_allclose(picks.x, table["rlnCoordinateX"])
    np.testing.assert_allclose(picks.psi, table["rlnAnglePsi"], atol=1e-6)
    again = read_picks(write_picks(picks, tmp_path / "hsp60.star"))
    np.testing.assert_allclose(again.xyz, picks.xyz, atol=1e-5)
    assert again.pixel_size_A == pytest.approx(1.96)


def test_columns_in_any_order(shared_data):
    path = shared_data / "chlamy-picks" / "putative_prohibitin.star"  # rot, psi, tilt order in the file
    table = starfile.read(path)
    table = table[table["rlnTomoName"].astype(str) == "tomo_0160"]
    picks = read_picks(path, tomogram="tomo_0160")
    assert len(picks) == len(table) > 0
    np.testing.assert_allclose(picks.z, table["rlnCoordinateZ"])
    np.testing.assert_allclose(picks.tilt, table["rlnAngleTilt"])
    assert picks.pixel_size_A is None  # the file does not say
    assert len(read_picks_all(path)) == 33


def test_relion4_shifts_are_subtracted_in_tilt_series_pixels(shared_data):
    path = shared_data / "cryocat-picks" / "relion_4.0.star"
    blocks = starfile.read(path, always_dict=True)
    particles, ps = blocks["particles"], float(blocks["optics"]["rlnTomoTiltSeriesPixelSize"][0])
    tables = read_picks_all(path)
    assert sum(len(t) for t in tables) == len(particles)
    first = particles[particles["rlnTomoName"].astype(str) == tables[0].tomogram]
    expected = first["rlnCoordinateX"].to_numpy() - first["rlnOriginXAngst"].to_numpy() / ps
    np.testing.assert_allclose(tables[0].x, expected, atol=1e-6)
    assert tables[0].pixel_size_A == pytest.approx(ps)


def test_relion30_with_micrograph_names_and_relion31_optics(shared_data):
    old = read_picks(shared_data / "cryocat-picks" / "relion_3.0.star")
    assert len(old) == 3 and old.tomogram.endswith("01006_10.73Apx.mrc")
    tables = read_picks_all(shared_data / "cryocat-picks" / "relion_3.1_optics2.star", pixel_size=10.0)
    assert sum(len(t) for t in tables) == 3


def test_warp2_relion5_particles_with_pixel_coordinates(shared_data):
    path = shared_data / "cryocat-picks" / "relion5_warp2_particles_matching.star"
    tables = read_picks_all(path)
    assert sum(len(t) for t in tables) == 1218
    assert tables[0].pixel_size_A == pytest.approx(0.7894)


def test_relion5_centred_coordinates_with_tomograms_star(shared_data):
    folder = shared_data / "picks-bsd"
    path, tomograms = folder / "cylindra_relion5_particles.star", folder / "cylindra_relion5_tomograms.star"
    tables = read_picks_all(path, tomograms=tomograms)
    assert [t.tomogram for t in tables] == ["TS_01", "TS_02"]
    first = tables[0]
    assert first.tomogram_shape == (44, 136, 84) and first.pixel_size_A == pytest.approx(10.52)
    # centred Å + size/2 x pixel size, in pixels
    assert first.x[0] == pytest.approx(-176.94 / 10.52 + 42)
    assert first.y[0] == pytest.approx(765.48005 / 10.52 + 68)
    assert first.z[0] == pytest.approx(11.16 / 10.52 + 22)
    assert read_picks_all(path)[1].tomogram == "TS_02"  # tomograms.star found beside it


def test_relion5_refinement_output_folds_subtomogram_angles(shared_data):
    path = shared_data / "picks-bsd" / "cylindra_relion5_class3d_run_it025_data.star"
    tables = read_picks_all(path, tomograms=shared_data / "picks-bsd" / "cylindra_relion5_tomograms.star")
    assert sum(len(t) for t in tables) == 10
    assert all(t.has_angles for t in tables)


def test_relion5_without_tomogram_sizes_says_what_is_needed(shared_data, tmp_path):
    copy = tmp_path / "particles.star"
    copy.write_bytes((shared_data / "picks-bsd" / "cylindra_relion5_particles.star").read_bytes())
    with pytest.raises(InputFileError, match="tomograms.star|size"):
        read_picks_all(copy)


def test_dynamo_table_with_its_table_map(shared_data, tmp_path):
    folder = shared_data / "picks-bsd"
    rows = np.loadtxt(folder / "dynamotable_t_double.tbl")
    tables = read_picks_all(folder / "dynamotable_t_double.tbl", table_map=folder / "dynamotable_tmap_complex.doc",
                            pixel_size=15.0)
    assert sum(len(t) for t in tables) == len(rows) == 300
    assert tables[0].tomogram == "tomo_ts01.mrc_15.00Apx.mrc"
    np.testing.assert_allclose(tables[0].x, rows[rows[:, 19] == 1][:, 23] + rows[rows[:, 19] == 1][:, 3])
    np.testing.assert_allclose(tables[0].score, rows[rows[:, 19] == 1][:, 9])
    written = write_picks(tables, tmp_path / "copy.tbl")
    again = read_picks_all(written, pixel_size=15.0)
    assert [t.tomogram for t in again] == [t.tomogram for t in tables]
    np.testing.assert_allclose(again[1].xyz, tables[1].xyz, atol=1e-5)


def test_short_dynamo_table_from_cryocat(shared_data):
    tables = read_picks_all(shared_data / "cryocat-picks" / "dynamo_b4_motl_CR_tm_topbott_clean600_1.tbl")
    assert sum(len(t) for t in tables) > 0 and all(t.pixel_size_A is None for t in tables)


def test_synth_ground_truth_csv_gives_its_pixel_size(tmp_path):
    from ais_framework.synth import write_synthetic

    write_synthetic(tmp_path, seed=3, shape=(96, 256, 256), pixel_size=12.0)
    picks = read_picks(tmp_path / "truth" / "large_particles.csv")
    assert picks.pixel_size_A == pytest.approx(12.0) and len(picks) > 0


def test_ais_headerless_tsv(tmp_path):
    (tmp_path / "old_coords.txt").write_text("10\t20\t30\n11\t21\t31\n")
    picks = read_picks(tmp_path / "old_coords.txt")
    np.testing.assert_allclose(picks.xyz, [[10, 20, 30], [11, 21, 31]])


@pytest.mark.parametrize("text, message", [
    ("data_particles\n\nloop_\n_rlnCoordinateX #1\n_rlnCoordinateY #2\n1 2\n", "rlnCoordinateZ"),
    ("data_particles\n\nloop_\n_rlnCoordinateX #1\n_rlnCoordinateY #2\n_rlnCoordinateZ #3\n1 2 abc\n", "not a number"),
])
def test_star_with_missing_or_bad_columns(tmp_path, text, message):
    (tmp_path / "bad.star").write_text(text)
    with pytest.raises(InputFileError, match=message):
        read_picks(tmp_path / "bad.star")


def test_bad_csv_and_json(tmp_path):
    (tmp_path / "a.csv").write_text("name,value\nfoo,1\n")
    with pytest.raises(InputFileError, match="no x, y, z columns"):
        read_picks(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("x_A,y_A,z_A\n1,2,3\n")
    with pytest.raises(InputFileError, match="pixel size"):
        read_picks(tmp_path / "b.csv")
    (tmp_path / "c.json").write_text("{not json")
    with pytest.raises(InputFileError, match="not valid JSON"):
        read_picks(tmp_path / "c.json")
