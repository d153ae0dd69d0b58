"""The annotation store: round trip, moved tomograms, label volume import/export, bad input."""
from __future__ import annotations

import io
import json
import os
import shutil
import zipfile

import numpy as np
import pytest

from ais_framework.annotations import AnnotationStore, Feature, default_store_path, fingerprint
from ais_framework.errors import AisError, InputFileError, UnknownNameError, UsageError
from ais_framework.volume import Volume, read_volume, write_volume

SHAPE = (10, 24, 32)


def make_tomogram(path, seed=0, pixel_size=8.5):
    data = np.random.default_rng(seed).normal(size=SHAPE).astype(np.float32)
    volume = Volume(data, pixel_size, origin=(12.0, -4.0, 30.0), voxel_size=(pixel_size,) * 3)
    write_volume(path, volume)
    return path


def labels_volume(seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([0, 1, 2], dtype=np.uint8), size=SHAPE, p=[0.6, 0.3, 0.1])


def assert_clear(error: AisError):
    assert "\n" not in str(error) and error.hint


@pytest.fixture
def store(tmp_path):
    return AnnotationStore.create(None, make_tomogram(tmp_path / "tomo.mrc"))


def test_default_store_path_is_beside_the_tomogram(tmp_path):
    assert default_store_path(tmp_path / "t1.mrc") == tmp_path / "t1.annotations.zip"


def test_round_trip_keeps_features_masks_boxes(store):
    labels = labels_volume()
    store.add_feature("membrane", "#FF8800", box_size=48)
    store.add_feature("ribosome")
    store.set_slice("membrane", 3, labels[3])
    store.set_slice("membrane", 7, labels[7].astype(bool))
    store.set_slice("ribosome", 3, labels[4])
    store.add_box("membrane", 3, 10, 12)
    store.add_box("membrane", 3, 10, 12)  # not doubled
    store.add_box("ribosome", 5, 20, 30)
    store.save()

    again = AnnotationStore.open(store.path)
    assert again.features == [Feature("membrane", "#ff8800", 48), Feature("ribosome", store.features[1].colour, 64)]
    assert again.annotated_slices("membrane") == [3, 7]
    np.testing.assert_array_equal(again.get_slice("membrane", 3), labels[3])
    np.testing.assert_array_equal(again.get_slice("membrane", 7), labels[7] != 0)
    np.testing.assert_array_equal(again.get_slice("ribosome", 3), labels[4])
    assert again.get_slice("ribosome", 4) is None
    assert again.boxes("membrane") == [(3, 10, 12)] and again.boxes("ribosome") == [(5, 20, 30)]
    assert again.shape == SHAPE and again.pixel_size == pytest.approx(8.5)


def test_file_format_is_versioned_json_and_npz_without_pickle(store):
    store.add_feature("membrane")
    store.set_slice("membrane", 2, labels_volume()[2])
    store.save()
    with zipfile.ZipFile(store.path) as archive:
        meta = json.loads(archive.read("annotations.json"))
        member = f"masks/f{meta['features'][0]['id']}/z00002.npz"
        with np.load(io.BytesIO(archive.read(member)), allow_pickle=False) as npz:
            mask = npz["mask"]
    assert meta["format"] == "ais-fw-annotations" and meta["format_version"] == 1
    assert meta["tomogram"]["path"] == "tomo.mrc" and meta["tomogram"]["shape"] == list(SHAPE)
    assert meta["features"][0]["slices"] == [2]
    assert mask.dtype == np.uint8 and mask.shape == SHAPE[1:]


def test_rename_recolour_remove(store):
    store.add_feature("a")
    store.set_slice("a", 1, np.ones(SHAPE[1:], np.uint8))
    store.rename_feature("a", "b")
    store.update_feature("b", colour="#00ff00", box_size=32)
    store.save()
    again = AnnotationStore.open(store.path)
    assert again.features == [Feature("b", "#00ff00", 32)]
    assert again.get_slice("b", 1).sum() == SHAPE[1] * SHAPE[2]
    again.remove_feature("b")
    with pytest.raises(UnknownNameError):
        again.annotated_slices("b")


def test_clear_slice_and_remove_nearest_box(store):
    store.add_feature("a")
    store.set_slice("a", 1, np.zeros(SHAPE[1:], np.uint8))
    store.clear_slice("a", 1)
    assert store.annotated_slices("a") == []
    store.add_box("a", 2, 5, 5)
    store.add_box("a", 2, 20, 20)
    assert store.remove_box("a", 2, 18, 19, radius=5) == (2, 20, 20)
    assert store.remove_box("a", 2, 20, 20, radius=5) is None  # the one left is too far
    assert store.boxes("a") == [(2, 5, 5)]


def test_save_is_skipped_when_nothing_changed(store):
    store.add_feature("a")
    store.save()
    stamp = os.stat(store.path).st_mtime_ns
    assert not store.dirty
    store.save()
    assert os.stat(store.path).st_mtime_ns == stamp
    store.add_box("a", 0, 1, 1)
    assert store.dirty


def test_survives_moving_tomogram_and_store_together(tmp_path):
    project = tmp_path / "project"
    tomo = make_tomogram(project / "data" / "tomo.mrc")
    store = AnnotationStore.create(project / "ann" / "tomo.annotations.zip", tomo)
    store.add_feature("a")
    store.save()
    shutil.move(project, tmp_path / "elsewhere")
    moved = AnnotationStore.open(tmp_path / "elsewhere" / "ann" / "tomo.annotations.zip")
    assert moved.tomogram_path().resolve() == (tmp_path / "elsewhere" / "data" / "tomo.mrc").resolve()


def test_finds_the_tomogram_by_name_beside_the_store(tmp_path):
    tomo = make_tomogram(tmp_path / "a" / "tomo.mrc")
    store = AnnotationStore.create(tmp_path / "a" / "tomo.annotations.zip", tomo)
    (tmp_path / "b" / "sub").mkdir(parents=True)
    shutil.move(store.path, tmp_path / "b" / "tomo.annotations.zip")
    shutil.move(tomo, tmp_path / "b" / "sub" / "tomo.mrc")
    moved = AnnotationStore.open(tmp_path / "b" / "tomo.annotations.zip")
    assert moved.tomogram_path() == tmp_path / "b" / "sub" / "tomo.mrc"
    assert moved.dirty  # the new relative path is saved with the next save
    moved.save()
    assert json.loads(zipfile.ZipFile(moved.path).read("annotations.json"))["tomogram"]["path"] == "sub/tomo.mrc"


def test_a_different_file_with_the_same_name_is_detected(tmp_path):
    tomo = make_tomogram(tmp_path / "a" / "tomo.mrc", seed=0)
    store = AnnotationStore.create(tmp_path / "a" / "tomo.annotations.zip", tomo)
    shutil.move(store.path, tmp_path / "b.annotations.zip")
    tomo.unlink()
    make_tomogram(tmp_path / "a" / "tomo.mrc", seed=1)  # same name, same size, other content
    moved = AnnotationStore.open(tmp_path / "b.annotations.zip")
    with pytest.raises(InputFileError, match="content differs") as info:
        moved.tomogram_path()
    assert_clear(info.value)
    with pytest.raises(InputFileError, match="content differs"):
        moved.relink(tmp_path / "a" / "tomo.mrc")
    moved.relink(tmp_path / "a" / "tomo.mrc", check=False)
    assert moved.tomogram_path() == tmp_path / "a" / "tomo.mrc"


def test_a_missing_tomogram_is_reported(store, tmp_path):
    os.unlink(tmp_path / "tomo.mrc")
    with pytest.raises(InputFileError, match="has moved") as info:
        store.tomogram_path()
    assert_clear(info.value)


def test_fingerprint_sees_a_change_in_the_middle(tmp_path):
    path = make_tomogram(tmp_path / "t.mrc")
    before = fingerprint(path)
    with open(path, "r+b") as handle:
        size = os.path.getsize(path)
        handle.seek(4 * max(0, size - 65536) // 8)
        handle.write(b"\x01\x02\x03\x04")
    assert fingerprint(path) != before and fingerprint(path)["size"] == before["size"]


def test_import_restricted_to_slices_and_export(store, tmp_path):
    labels = labels_volume(seed=5)
    write_volume(tmp_path / "labels.mrc", Volume(labels, 8.5))
    assert store.import_label_volume(tmp_path / "labels.mrc", "membrane", slices=[2, 6]) == [2, 6]
    assert store.annotated_slices("membrane") == [2, 6]
    store.export_label_volume("membrane", tmp_path / "out.mrc")
    out = read_volume(tmp_path / "out.mrc")
    tomo = read_volume(tmp_path / "tomo.mrc")
    for z in range(SHAPE[0]):
        np.testing.assert_array_equal(out.data[z], labels[z] if z in (2, 6) else 0)
    assert out.pixel_size == pytest.approx(tomo.pixel_size) and out.origin == pytest.approx(tomo.origin)


def test_import_all_labelled_slices_by_default(store):
    labels = np.zeros(SHAPE, np.uint8)
    labels[4, 3, 3], labels[8, 5, 5] = 1, 2
    assert store.import_label_volume(Volume(labels, store.pixel_size), "a") == [4, 8]


@pytest.mark.parametrize(
    "labels, slices, error, message",
    [
        (np.zeros((10, 24, 30), np.uint8), None, InputFileError, r"shape \(10, 24, 30\), tomogram"),
        (np.full(SHAPE, 255, np.uint8), [1], InputFileError, "found label values 255"),
        (np.zeros(SHAPE, np.uint8), None, AisError, "no labelled pixels"),
        (np.zeros(SHAPE, np.uint8), [3, 10], UsageError, "outside the tomogram"),
    ],
)
def test_bad_label_volumes(store, tmp_path, labels, slices, error, message):
    write_volume(tmp_path / "labels.mrc", Volume(labels, 8.5))
    with pytest.raises(error, match=message) as info:
        store.import_label_volume(tmp_path / "labels.mrc", "a", slices=slices)
    assert_clear(info.value)
    assert store.features == []  # nothing half-imported


@pytest.mark.parametrize(
    "action, message",
    [
        (lambda s: s.set_slice("a", 0, np.full(SHAPE[1:], 3, np.uint8)), "found label values 3"),
        (lambda s: s.set_slice("a", 0, np.zeros((4, 4), np.uint8)), "mask shape"),
        (lambda s: s.set_slice("a", -1, np.zeros(SHAPE[1:], np.uint8)), "outside the tomogram"),
        (lambda s: s.add_box("a", 0, 100, 0), "outside the slice"),
        (lambda s: s.add_feature("a"), "already exists"),
        (lambda s: s.add_feature("x/y"), "bad feature name"),
        (lambda s: s.update_feature("a", colour="red"), "bad colour"),
        (lambda s: s.get_slice("nope", 0), "no feature 'nope'"),
    ],
)
def test_bad_edits_raise_clear_errors(store, action, message):
    store.add_feature("a")
    with pytest.raises(AisError, match=message) as info:
        action(store)
    assert_clear(info.value)


def test_create_refuses_to_overwrite(store):
    with pytest.raises(UsageError, match="already exists"):
        AnnotationStore.create(store.path, store.tomogram_path())


@pytest.mark.parametrize("content", [b"not a zip", None])
def test_open_rejects_other_files(tmp_path, content):
    path = tmp_path / "x.annotations.zip"
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("annotations.json", json.dumps({"format": "ais-fw-annotations", "format_version": 99}))
    else:
        path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        AnnotationStore.open(path)
    assert_clear(info.value)
