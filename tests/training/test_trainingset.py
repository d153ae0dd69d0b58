"""Training-set extraction: boxes, counts, shapes, resampling, orientations, bad input."""
from __future__ import annotations

import mrcfile
import numpy as np
import pytest

from ais_framework.annotations import AnnotationStore
from ais_framework.errors import AisError, InputFileError, PixelSizeError, UsageError
from ais_framework.normalisation import normalise, robust_stats
from ais_framework.training.augment import extra_augment, orient
from ais_framework.training.trainingset import TrainingSet, extract_from_labels, extract_from_store, merge
from ais_framework.volume import Volume, read_volume, write_volume

SHAPE = (12, 96, 96)


def square_labels(z_slices=(4, 8), top=30, size=24):
    """Labels: a square of feature (1) on each slice, background elsewhere."""
    labels = {}
    for z in z_slices:
        mask = np.zeros(SHAPE[1:], np.uint8)
        mask[top : top + size, top : top + size] = 1
        labels[z] = mask
    return labels


@pytest.fixture
def tomogram(tmp_path):
    """A real MRC: noise plus a bright square (10 Å) where the labels say feature."""
    data = np.random.default_rng(0).normal(0.0, 1.0, SHAPE).astype(np.float32)
    data[:, 30:54, 30:54] += 20.0
    write_volume(tmp_path / "tomo.mrc", Volume(data, 10.0))
    return read_volume(tmp_path / "tomo.mrc")


def assert_clear(error: AisError):
    assert "\n" not in str(error) and error.hint


@pytest.mark.parametrize(
    "depth, dims, input_shape, label_shape",
    [
        (1, None, (1, 32, 32), (1, 32, 32)),
        (5, None, (5, 32, 32), (1, 32, 32)),
        (5, "3d", (1, 5, 32, 32), (1, 5, 32, 32)),
    ],
)
def test_shapes_for_2d_25d_and_3d(tomogram, depth, dims, input_shape, label_shape):
    ts = extract_from_labels(tomogram, square_labels(), "square", box=32, depth=depth, dims=dims)
    assert ts.inputs.shape[1:] == input_shape and ts.labels.shape[1:] == label_shape
    assert ts.inputs.dtype == np.float32 and ts.labels.dtype == np.uint8
    assert ts.dims == (dims or ("2d" if depth == 1 else "2.5d")) and ts.depth == depth and ts.box == 32
    assert set(np.unique(ts.labels)) <= {0, 1, 2}


def test_counts_copies_and_negative_ratio(tomogram):
    once = extract_from_labels(tomogram, square_labels(), "square", box=32, copies=1)
    eight = extract_from_labels(tomogram, square_labels(), "square", box=32)
    assert eight.n_positive == 8 * once.n_positive > 0
    assert eight.n_negative == round(1.3 * eight.n_positive)
    assert len(eight) == eight.n_positive + eight.n_negative
    assert eight.positive.sum() == eight.n_positive
    assert all((lab == 1).any() for lab in eight.labels[: eight.n_positive])
    assert not any((lab == 1).any() for lab in eight.labels[eight.n_positive :])


def test_few_negatives_are_used_in_several_orientations(tomogram):
    labels = {4: np.zeros(SHAPE[1:], np.uint8)}
    labels[4][:, :] = 1
    labels[4][:, :40] = 0  # a band of background: few negative tiles
    ts = extract_from_labels(tomogram, labels, "square", box=32, copies=4)
    negatives_once = extract_from_labels(tomogram, labels, "square", box=32, copies=1, negative_ratio=100)
    assert 0 < negatives_once.n_negative < ts.n_positive
    assert ts.n_negative == min(round(1.3 * ts.n_positive), 4 * negatives_once.n_negative)


def test_copies_are_the_dihedral_orientations_of_the_original(tmp_path):
    data = np.random.default_rng(1).normal(size=(3, 64, 64)).astype(np.float32)
    volume = Volume(data, 10.0)
    labels = {1: np.zeros((64, 64), np.uint8)}
    labels[1][20:30, 25:45] = 1
    ts = extract_from_labels(volume, labels, "f", box=64, copies=8, negative_ratio=0)
    assert ts.n_positive == 8 and ts.n_negative == 0
    original_image, original_label = ts.inputs[0], ts.labels[0]
    expected = normalise(data[1], robust_stats(data))
    np.testing.assert_allclose(original_image[0], expected, atol=1e-5)  # one tile: the whole slice
    np.testing.assert_array_equal(original_label[0], labels[1])
    for image, label in zip(ts.inputs[1:], ts.labels[1:]):
        assert (label == 1).sum() > 0
        assert not np.array_equal(label, original_label)


def test_rotated_copies_take_label_2_from_outside_the_tomogram():
    data = np.random.default_rng(2).normal(size=(1, 64, 64)).astype(np.float32)
    labels = {0: np.zeros((64, 64), np.uint8)}
    labels[0][24:40, 24:40] = 1
    ts = extract_from_labels(Volume(data, 10.0), labels, "f", box=64, copies=16, negative_ratio=0, seed=3)
    turned = [lab for lab in ts.labels if (lab == 2).any()]
    assert turned, "arbitrary-angle copies bring corners in from outside"
    for lab in turned:
        assert lab[0, 0, 0] == 2 or lab[0, 0, -1] == 2 or lab[0, -1, 0] == 2 or lab[0, -1, -1] == 2
        assert (lab[0, 31:33, 31:33] == 1).any()  # the centre stays the centre


def test_padding_is_labelled_ignore(tomogram):
    """Boxes larger than the slice: pixels beyond the edge are 2, the image is reflected (finite)."""
    small = Volume(np.asarray(tomogram.data[:, :40, :40]), 10.0)
    labels = {4: square_labels()[4][:40, :40]}
    ts = extract_from_labels(small, labels, "square", box=64, copies=1)
    assert len(ts) == 1
    assert (ts.labels == 2).sum() == 64 * 64 - 40 * 40
    assert np.isfinite(ts.inputs).all()


def test_resampling_to_another_pixel_size_scales_the_content(tmp_path, tomogram):
    store = AnnotationStore.create(None, tomogram)
    for z, mask in square_labels(z_slices=(6,)).items():
        store.set_slice(store.add_feature("square").name, z, mask)
    store.add_box("square", 6, 42, 42)  # the centre of the 24 px square
    store.update_feature("square", box_size=96)
    native = extract_from_store(store, "square", box=32, copies=1, negative_ratio=0)
    coarse = extract_from_store(store, "square", box=32, copies=1, negative_ratio=0, train_pixel_size=20.0)
    assert native.pixel_size == 10.0 and coarse.pixel_size == 20.0
    assert (native.labels[0] == 1).sum() == 24 * 24
    assert (coarse.labels[0] == 1).sum() == pytest.approx(12 * 12, abs=12)
    bright = coarse.inputs[0, 0] > coarse.inputs[0, 0].max() / 2
    assert bright.sum() == pytest.approx(12 * 12, abs=24)
    assert bright[11:21, 11:21].all() and not bright[:8].any()


def test_boxes_of_other_features_are_negatives(tomogram):
    store = AnnotationStore.create(None, tomogram)
    store.add_feature("square")
    store.add_feature("junk")
    store.set_slice("square", 4, square_labels()[4])
    store.add_box("square", 4, 42, 42)
    store.add_box("junk", 10, 70, 70)  # no square mask on slice 10: all background for "square"
    ts = extract_from_store(store, "square", box=32, copies=2, negative_ratio=5)
    assert ts.n_positive == 2 and ts.n_negative == 2  # the junk box, in two orientations
    assert ts.sources[0]["slices"] == [4, 10]
    for label in ts.labels[ts.n_positive :]:
        assert set(np.unique(label)) == {0}  # junk box_size 64 covers the whole 32 px box


def test_annotation_box_margin_is_ignored(tomogram):
    store = AnnotationStore.create(None, tomogram)
    store.add_feature("square", box_size=16)
    store.set_slice("square", 4, square_labels()[4])
    store.add_box("square", 4, 42, 42)
    ts = extract_from_store(store, "square", box=32, copies=1, negative_ratio=0)
    label = ts.labels[0, 0]
    assert (label != 2).sum() == 16 * 16 and (label[8:24, 8:24] == 1).all()


def test_store_without_boxes_tiles_annotated_slices(tomogram):
    store = AnnotationStore.create(None, tomogram)
    store.add_feature("square")
    for z, mask in square_labels().items():
        store.set_slice("square", z, mask)
    from_store = extract_from_store(store, "square", box=32, seed=4)
    from_labels = extract_from_labels(tomogram, square_labels(), "square", box=32, seed=4)
    np.testing.assert_array_equal(from_store.inputs, from_labels.inputs)
    np.testing.assert_array_equal(from_store.labels, from_labels.labels)


def test_extract_from_store_finds_the_tomogram_itself(tmp_path, tomogram):
    store = AnnotationStore.create(None, tmp_path / "tomo.mrc")
    labels = square_labels(range(SHAPE[0]))
    store.import_label_volume(Volume(np.stack([labels[z] for z in range(SHAPE[0])]), 10.0), "square", [5])
    ts = extract_from_store(store, "square", box=32)
    assert ts.n_positive > 0 and ts.sources[0]["tomogram"] == str(tmp_path / "tomo.mrc")


def test_same_seed_same_set_other_seed_other_set(tomogram):
    a = extract_from_labels(tomogram, square_labels(), "square", box=32, seed=7)
    b = extract_from_labels(tomogram, square_labels(), "square", box=32, seed=7)
    c = extract_from_labels(tomogram, square_labels(), "square", box=32, seed=8)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.inputs.shape != c.inputs.shape or not np.array_equal(a.inputs, c.inputs)


def test_normalisation_is_recorded_and_applied(tomogram):
    ts = extract_from_labels(tomogram, square_labels(), "square", box=32, copies=1)
    stats = robust_stats(tomogram.data)
    assert ts.normalisation == stats and ts.sources[0]["normalisation"] == stats
    background = ts.inputs[ts.n_positive :]
    assert abs(float(np.median(background))) < 0.2


def test_extraction_reads_windows_not_the_whole_tomogram(tomogram):
    class Recording(np.ndarray):
        reads: list = []

        def __getitem__(self, key):
            Recording.reads.append(key)
            return np.asarray(super().__getitem__(key))

    data = np.asarray(tomogram.data).view(Recording)
    extract_from_labels(Volume(data, 10.0), square_labels(), "square", box=32)
    windows = [key for key in Recording.reads if isinstance(key, tuple)]
    assert windows and all(k[1].stop - k[1].start < SHAPE[1] for k in windows)


def test_save_and_load_round_trip(tmp_path, tomogram):
    ts = extract_from_labels(tomogram, square_labels(), "square", box=32, depth=3)
    again = TrainingSet.load(ts.save(tmp_path / "set.npz"))
    np.testing.assert_array_equal(again.inputs, ts.inputs)
    np.testing.assert_array_equal(again.labels, ts.labels)
    for name in ("feature", "box", "depth", "dims", "pixel_size", "normalisation", "n_positive", "n_negative"):
        assert getattr(again, name) == getattr(ts, name)
    assert again.sources == ts.sources
    with np.load(tmp_path / "set.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"inputs", "labels", "meta"}
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(InputFileError):
        TrainingSet.load(tmp_path / "bad.npz")


def test_merge_keeps_positives_first(tomogram):
    a = extract_from_labels(tomogram, square_labels(), "square", box=32, copies=1)
    b = extract_from_labels(tomogram, square_labels((2,)), "square", box=32, copies=2)
    both = merge([a, b])
    assert both.n_positive == a.n_positive + b.n_positive and both.n_negative == a.n_negative + b.n_negative
    assert all((lab == 1).any() for lab in both.labels[: both.n_positive])
    assert both.normalisation == {"method": "median_mad"} and len(both.sources) == 2
    with pytest.raises(UsageError, match="different box"):
        merge([a, extract_from_labels(tomogram, square_labels(), "square", box=48, copies=1)])


@pytest.mark.parametrize(
    "options, error, message",
    [
        (dict(box=50), UsageError, "not a multiple of 16"),
        (dict(box=8), UsageError, "not a multiple of 16"),
        (dict(depth=4), UsageError, "must be odd"),
        (dict(depth=4, dims="3d"), UsageError, "must be odd"),
        (dict(depth=3, dims="2d"), UsageError, "2D boxes have depth 1"),
        (dict(dims="4d"), UsageError, "unknown dims"),
        (dict(train_pixel_size=0), UsageError, "pixel size"),
        (dict(copies=0), UsageError, "copies"),
    ],
)
def test_bad_options(tomogram, options, error, message):
    with pytest.raises(error, match=message) as info:
        extract_from_labels(tomogram, square_labels(), "square", **options)
    assert_clear(info.value)


@pytest.mark.parametrize(
    "labels, error, message",
    [
        ({4: np.zeros(SHAPE[1:], np.uint8)}, AisError, "no labelled pixels"),
        ({}, AisError, "no labelled pixels"),
        ({4: np.full(SHAPE[1:], 7, np.uint8)}, InputFileError, "found label values 7"),
        ({4: np.zeros((10, 10), np.uint8)}, InputFileError, "have shape"),
        ({12: square_labels()[4]}, UsageError, "outside the tomogram"),
    ],
)
def test_bad_labels(tomogram, labels, error, message):
    with pytest.raises(error, match=message) as info:
        extract_from_labels(tomogram, labels, "square")
    assert_clear(info.value)


def test_missing_pixel_size(tomogram):
    with pytest.raises(PixelSizeError) as info:
        extract_from_labels(Volume(tomogram.data, None), square_labels(), "square")
    assert_clear(info.value)


def test_store_feature_without_labels(tomogram):
    store = AnnotationStore.create(None, tomogram)
    store.add_feature("square")
    store.add_box("square", 3, 40, 40)
    with pytest.raises(AisError, match="no labelled pixels"):
        extract_from_store(store, "square")
    with pytest.raises(AisError, match="no feature 'other'"):
        extract_from_store(store, "other")


def test_orient_codes():
    image = np.arange(3 * 4 * 4, dtype=np.float32).reshape(3, 4, 4)
    label = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    variants = {orient(image, label, code, False)[0].tobytes() for code in range(16)}
    assert len(variants) == 16
    same_image, same_label = orient(image, label, 0, False)
    np.testing.assert_array_equal(same_image, image)
    flipped_image, flipped_label = orient(image, label, 8, False)
    np.testing.assert_array_equal(flipped_image, image[::-1])
    np.testing.assert_array_equal(flipped_label, label)  # 2.5D: the centre-slice label stays


def test_extra_augment():
    x = np.random.default_rng(0).normal(size=(3, 16, 16)).astype(np.float32)
    np.testing.assert_array_equal(extra_augment(x, np.random.default_rng(1), p=0.0), x)
    changed = extra_augment(x, np.random.default_rng(1), p=1.0)
    assert changed.dtype == np.float32 and changed.shape == x.shape and not np.allclose(changed, x)
    np.testing.assert_array_equal(changed, extra_augment(x, np.random.default_rng(1), p=1.0))
    batch = extra_augment(np.stack([x, x]), np.random.default_rng(2), p=1.0, batched=True)
    assert not np.allclose(batch[0], batch[1])


def test_store_of_a_tomogram_without_pixel_size(tmp_path):
    with mrcfile.new(tmp_path / "nopix.mrc") as mrc:  # a header without a voxel size
        mrc.set_data(np.zeros(SHAPE, np.float32))
        mrc.voxel_size = 0.0
    store = AnnotationStore.create(None, tmp_path / "nopix.mrc")
    store.add_feature("square")
    store.set_slice("square", 4, square_labels()[4])
    with pytest.raises(PixelSizeError) as info:
        extract_from_store(store, "square")
    assert_clear(info.value)
    given = AnnotationStore.create(tmp_path / "given.annotations.zip", tmp_path / "nopix.mrc", pixel_size=12.0)
    given.add_feature("square")
    given.set_slice("square", 4, square_labels()[4])
    assert extract_from_store(given, "square", box=32).pixel_size == 12.0
