"""``ais-fw mesh``: marching cubes of segmentations into OBJ, STL and GLB files.

Shapes are checked against geometry (a sphere's area and volume), the files are read back
(by our reader, the raw bytes and, where installed, trimesh) and the synthetic ground truth
gives real blobs at known positions.
"""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from ais_framework import api
from ais_framework.cli.main import main
from ais_framework.colours import feature_colour, rgb
from ais_framework.errors import AisError, UsageError
from ais_framework.mesh import mesh_volume
from ais_framework.mesh_files import read_glb, read_mesh
from ais_framework.volume import Volume, read_volume


def closed_and_oriented(faces: np.ndarray) -> bool:
    """Every edge is shared by exactly two triangles that run along it in opposite directions."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).astype(np.int64)
    n = int(faces.max()) + 1
    forward, backward = edges[:, 0] * n + edges[:, 1], edges[:, 1] * n + edges[:, 0]
    return len(np.unique(forward)) == len(forward) and bool(np.isin(backward, forward).all())


def area_and_volume(vertices: np.ndarray, faces: np.ndarray) -> tuple[float, float]:
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    cross = np.cross(b - a, c - a)
    return 0.5 * np.linalg.norm(cross, axis=1).sum(), np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0


def sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8, name="ball__vesicle.mrc", **kwargs):
    """A 40³ uint8 segmentation holding one 120 Å sphere centred at voxel (20, 19, 21.5)."""
    data = to_uint8(soft_sphere((40, 40, 40), (20, 19, 21.5), 120.0))
    return write_segmentation(tmp_path / name, data, **kwargs)


# -- geometry -----------------------------------------------------------------------------------
def test_sphere_area_volume_and_position_in_nm(tmp_path, soft_sphere, write_segmentation, to_uint8):
    path = sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8, origin=(100.0, -50.0, 30.0))
    mesh = mesh_volume(read_volume(path), level=0.5, dust_nm3=0)
    assert mesh.area == pytest.approx(4 * np.pi * 12.0**2, rel=0.02)
    assert mesh.enclosed_volume == pytest.approx(4 / 3 * np.pi * 12.0**3, rel=0.02)
    # x, y, z in nm = (origin Å + index × 10 Å) / 10
    centre = (mesh.vertices.min(axis=0) + mesh.vertices.max(axis=0)) / 2
    np.testing.assert_allclose(centre, [(100 + 215) / 10, (-50 + 190) / 10, (30 + 200) / 10], atol=0.15)
    assert closed_and_oriented(mesh.faces)
    outward = np.einsum("ij,ij->i", mesh.vertices - centre, mesh.normals)
    assert (outward > 0).all()


def test_angstrom_units_scale_everything_by_ten(tmp_path, soft_sphere, write_segmentation, to_uint8):
    volume = read_volume(sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8))
    nm, angstrom = mesh_volume(volume, units="nm"), mesh_volume(volume, units="A")
    np.testing.assert_allclose(angstrom.vertices, nm.vertices * 10, rtol=1e-5)
    assert angstrom.enclosed_volume == pytest.approx(nm.enclosed_volume * 1000, rel=1e-5)


def test_anisotropic_voxels_follow_the_header(tmp_path, soft_sphere, write_segmentation, to_uint8):
    """Z voxels twice as long: the sphere is 20 voxels tall in Z, 40 wide; the mesh is round again."""
    data = to_uint8(soft_sphere((24, 40, 40), (12, 20, 20), 120.0, voxel_zyx=(20.0, 10.0, 10.0)))
    path = write_segmentation(tmp_path / "tall.mrc", data, voxel_size=(10.0, 10.0, 20.0))
    mesh = mesh_volume(read_volume(path), dust_nm3=0)
    extent = mesh.vertices.max(axis=0) - mesh.vertices.min(axis=0)
    np.testing.assert_allclose(extent, [24.0, 24.0, 24.0], atol=0.6)
    assert mesh.enclosed_volume == pytest.approx(4 / 3 * np.pi * 12.0**3, rel=0.03)


def test_binary_mask_float_and_uint8_give_the_same_surface(tmp_path, soft_sphere):
    probabilities = soft_sphere((40, 40, 40), (20, 20, 20), 120.0)
    float_mesh = mesh_volume(Volume(probabilities.astype(np.float32), pixel_size=10.0), dust_nm3=0)
    byte_mesh = mesh_volume(Volume(np.round(probabilities * 255).astype(np.uint8), pixel_size=10.0), dust_nm3=0)
    mask_mesh = mesh_volume(Volume((probabilities >= 0.5).astype(np.uint8), pixel_size=10.0), dust_nm3=0)
    assert byte_mesh.enclosed_volume == pytest.approx(float_mesh.enclosed_volume, rel=0.005)
    # a 0/1 mask is taken as 0..1 (not 0..255): a staircase sphere of about the same volume
    assert mask_mesh.enclosed_volume == pytest.approx(4 / 3 * np.pi * 12.0**3, rel=0.03)
    assert mask_mesh.area == pytest.approx(4 * np.pi * 12.0**2, rel=0.10)
    assert closed_and_oriented(mask_mesh.faces)


def test_level_moves_the_surface(tmp_path, soft_sphere):
    volume = Volume(soft_sphere((40, 40, 40), (20, 20, 20), 120.0).astype(np.float32), pixel_size=10.0)
    inner, outer = mesh_volume(volume, level=0.8, dust_nm3=0), mesh_volume(volume, level=0.2, dust_nm3=0)
    # p = 1 / (1 + exp((r - 120 Å) / 10 Å)) → r = 120 + 10 ln(1/p - 1)
    for mesh, level in ((inner, 0.8), (outer, 0.2)):
        radius_nm = (120 + 10 * np.log(1 / level - 1)) / 10
        assert mesh.enclosed_volume == pytest.approx(4 / 3 * np.pi * radius_nm**3, rel=0.03)


# -- blobs and dust ----------------------------------------------------------------------------
def test_dust_is_removed_and_neighbours_stay_separate(soft_sphere):
    data = np.maximum(soft_sphere((40, 60, 40), (20, 18, 20), 100.0), soft_sphere((40, 60, 40), (20, 41, 20), 100.0))
    data[3, 3, 3] = data[35, 50, 5] = data[36, 50, 5] = 1.0  # specks of 1 and 2 voxels (1 and 2 nm³)
    volume = Volume(data.astype(np.float32), pixel_size=10.0)
    kept = mesh_volume(volume, dust_nm3=0)
    cleaned = mesh_volume(volume, dust_nm3=5)
    assert (len(kept.blob_voxels), kept.dust_blobs) == (4, 0)
    assert (len(cleaned.blob_voxels), cleaned.dust_blobs) == (2, 2)
    # the two spheres (3 voxels apart) are meshed separately, each closed, each with the full volume
    for start, end in zip(cleaned.blob_faces, cleaned.blob_faces[1:] + [len(cleaned.faces)]):
        faces = cleaned.faces[start:end]
        assert closed_and_oriented(faces)
        assert area_and_volume(cleaned.vertices.astype(np.float64), faces)[1] == pytest.approx(
            4 / 3 * np.pi * 10.0**3, rel=0.03)


def test_blob_touching_the_volume_edge_is_closed():
    data = np.zeros((20, 20, 20), dtype=np.uint8)
    data[:8, 5:15, 5:15] = 255  # a slab cut by the top face of the volume
    mesh = mesh_volume(Volume(data, pixel_size=10.0), dust_nm3=0)
    assert closed_and_oriented(mesh.faces)
    assert mesh.enclosed_volume > 0


def test_synthetic_particles_become_blobs_at_their_positions(synth, tmp_path):
    truth = synth["files"]
    output = tmp_path / "particles.obj"
    summary = api.mesh_segmentation(truth["large_particles_mask"], output, dust_nm3=1000)
    centres_nm = np.loadtxt(truth["large_particles"], delimiter=",", skiprows=1, usecols=(3, 4, 5)) / 10
    assert summary["blobs"] == len(centres_nm) == 3
    vertices, faces = read_mesh(output)
    groups = output.read_text().split("\ng blob_")[1:]
    blob_centres = []
    for group in groups:
        corners = [int(line.split()[1].split("/")[0]) - 1 for line in group.splitlines()[1:]]
        blob_centres.append(vertices[corners].mean(axis=0))
    for centre in centres_nm:  # each true particle has a blob within 3 nm (particles are 25 nm)
        assert min(np.linalg.norm(np.array(blob_centres) - centre, axis=1)) < 3.0
    assert closed_and_oriented(faces)


def test_membrane_mesh_of_synthetic_vesicles(synth, tmp_path):
    summary = api.mesh_segmentation(synth["files"]["membrane_mask"], tmp_path / "membrane.stl")
    membrane = read_volume(synth["files"]["membrane_mask"]).data
    # the mesh encloses about the mask's volume (1 nm³ voxels), vesicles are hollow shells
    assert summary["blobs"] >= 1 and summary["feature"] == "membrane"
    assert summary["volume"] == pytest.approx(float(np.count_nonzero(membrane)), rel=0.06)


# -- files ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".obj", ".stl", ".glb"])
def test_every_format_reads_back_closed_with_the_same_shape(tmp_path, soft_sphere, write_segmentation,
                                                           to_uint8, suffix):
    path = sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8)
    output = tmp_path / f"ball{suffix}"
    summary = api.mesh_segmentation(path, output, dust_nm3=0)
    vertices, faces = read_mesh(output)
    assert len(faces) == summary["faces"]
    assert len(vertices) <= summary["vertices"]  # STL corners are merged back into vertices
    assert closed_and_oriented(faces)
    area, volume = area_and_volume(vertices, faces)
    assert area == pytest.approx(summary["area"], rel=1e-4)
    assert volume == pytest.approx(summary["volume"], rel=1e-4)
    assert volume == pytest.approx(4 / 3 * np.pi * 12.0**3, rel=0.02)
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


@pytest.mark.parametrize("suffix", [".obj", ".stl", ".glb"])
def test_trimesh_reads_our_files_as_watertight(tmp_path, soft_sphere, write_segmentation, to_uint8, suffix):
    trimesh = pytest.importorskip("trimesh", reason="trimesh (test extra) cross-checks our files")
    path = sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8)
    summary = api.mesh_segmentation(path, tmp_path / f"ball{suffix}", dust_nm3=0)
    loaded = trimesh.load(tmp_path / f"ball{suffix}", force="mesh")
    assert len(loaded.faces) == summary["faces"]
    assert loaded.is_watertight and loaded.is_winding_consistent
    assert loaded.volume == pytest.approx(summary["volume"], rel=1e-4)


def test_glb_layout_follows_the_gltf_spec(tmp_path, soft_sphere, write_segmentation, to_uint8):
    path = sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8)
    output = tmp_path / "ball.glb"
    summary = api.mesh_segmentation(path, output, dust_nm3=0, units="A")
    raw = output.read_bytes()
    magic, version, length = struct.unpack_from("<4sII", raw)
    json_length, json_type = struct.unpack_from("<I4s", raw, 12)
    assert (magic, version, length, json_type) == (b"glTF", 2, len(raw), b"JSON")
    assert json_length % 4 == 0 and len(raw) % 4 == 0
    bin_length, bin_type = struct.unpack_from("<I4s", raw, 20 + json_length)
    assert bin_type == b"BIN\x00" and 20 + json_length + 8 + bin_length == len(raw)
    document, binary = read_glb(output)
    assert document["asset"]["version"] == "2.0" and document["asset"]["extras"]["units"] == "A"
    position, normal, indices = document["accessors"]
    assert position["count"] == normal["count"] == summary["vertices"]
    assert indices["count"] == 3 * summary["faces"] and indices["componentType"] == 5125
    for view in document["bufferViews"]:
        assert view["byteOffset"] % 4 == 0 and view["byteOffset"] + view["byteLength"] <= len(binary)
    vertices, _ = read_mesh(output)
    np.testing.assert_allclose(position["min"], vertices.min(axis=0), rtol=1e-6)
    np.testing.assert_allclose(position["max"], vertices.max(axis=0), rtol=1e-6)
    colour = document["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"]
    np.testing.assert_allclose(colour[:3], np.array(rgb(feature_colour("vesicle"))) / 255)


def test_stl_and_obj_say_what_they_hold(tmp_path, soft_sphere, write_segmentation, to_uint8):
    path = sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8)
    api.mesh_segmentation(path, tmp_path / "ball.stl", dust_nm3=0, colour="#102030")
    summary = api.mesh_segmentation(path, tmp_path / "ball.obj", dust_nm3=0, colour="#102030")
    raw = (tmp_path / "ball.stl").read_bytes()
    (count,) = struct.unpack_from("<I", raw, 80)
    assert count == summary["faces"] and len(raw) == 84 + 50 * count
    assert raw[:80].decode().startswith("ais-fw mesh vesicle units nm colour #102030")
    text = (tmp_path / "ball.obj").read_text()
    assert "# colour 0.0627 0.1255 0.1882" in text and "\no vesicle\n" in text
    assert text.count("\nv ") == text.count("\nvn ") == summary["vertices"]
    assert text.count("\ng blob_") == summary["blobs"] == 1


# -- bad input ------------------------------------------------------------------------------------
def test_empty_segmentation_says_so_and_writes_nothing(tmp_path, write_segmentation):
    path = write_segmentation(tmp_path / "t__empty.mrc", np.zeros((16, 16, 16), dtype=np.uint8))
    output = tmp_path / "empty.obj"
    output.write_text("an older mesh\n")
    with pytest.raises(AisError, match="nothing to mesh: no voxel reaches level 0.5"):
        api.mesh_segmentation(path, output)
    assert output.read_text() == "an older mesh\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.obj", "t__empty.mrc"]


def test_all_dust_names_the_largest_blob(tmp_path, write_segmentation):
    data = np.zeros((16, 16, 16), dtype=np.uint8)
    data[4:6, 4:6, 4:6] = 255  # 8 nm³
    path = write_segmentation(tmp_path / "specks.mrc", data)
    with pytest.raises(AisError, match="all 1 blobs are smaller than --dust-nm3 100") as error:
        api.mesh_segmentation(path, tmp_path / "specks.glb")
    assert "the largest is 8 nm³" in error.value.hint
    assert not (tmp_path / "specks.glb").exists()


@pytest.mark.parametrize("options, message", [
    ({"level": 1.0}, "--level must be between 0 and 1"),
    ({"level": 0}, "--level must be between 0 and 1"),
    ({"dust_nm3": -1}, "--dust-nm3 must be 0 or more"),
    ({"units": "um"}, "unknown units"),
])
def test_bad_options_are_usage_errors(tmp_path, soft_sphere, write_segmentation, to_uint8, options, message):
    path = sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8)
    with pytest.raises(UsageError, match=message):
        api.mesh_segmentation(path, tmp_path / "ball.obj", **options)


def test_unknown_mesh_extension_lists_the_known_ones(tmp_path, soft_sphere, write_segmentation, to_uint8):
    path = sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8)
    with pytest.raises(UsageError, match="cannot write meshes ending in '.ply'") as error:
        api.mesh_segmentation(path, tmp_path / "ball.ply")
    assert ".obj, .stl, .glb" in error.value.hint


def test_values_beyond_255_are_refused(tmp_path):
    volume = Volume(np.full((8, 8, 8), 1000, dtype=np.int16), pixel_size=10.0)
    with pytest.raises(UsageError, match="values go up to 1000"):
        mesh_volume(volume)


# -- command line ---------------------------------------------------------------------------------
def test_cli_writes_a_mesh_and_reports_it(tmp_path, soft_sphere, write_segmentation, to_uint8, capsys):
    path = sphere_file(tmp_path, soft_sphere, write_segmentation, to_uint8)
    code = main(["mesh", str(path), "-o", str(tmp_path / "ball.glb"), "--units", "Å", "--dust-nm3", "0", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["units"] == "A" and summary["blobs"] == 1
    assert summary["volume"] == pytest.approx(4 / 3 * np.pi * 120.0**3, rel=0.02)
    assert main(["mesh", str(path), "-o", str(tmp_path / "ball.obj")]) == 0
    assert "wrote" in capsys.readouterr().out


def test_cli_errors_are_one_line_with_a_hint(tmp_path, write_segmentation, capsys):
    path = write_segmentation(tmp_path / "empty.mrc", np.zeros((8, 8, 8), dtype=np.uint8))
    assert main(["mesh", str(path), "-o", str(tmp_path / "empty.stl")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: nothing to mesh") and err[1].startswith("hint: ")
    assert main(["mesh", str(path), "-o", str(tmp_path / "x.stl"), "--level", "2"]) == 2
    assert not list(tmp_path.glob("*.stl"))
