"""TIFF stacks (.tif, .tiff) via ``tifffile``.

A multi-page stack is read as (Z, Y, X); a single 2-D image as a one-slice volume.
Uncompressed, contiguous files are memory-mapped; compressed ones are read into memory.

Pixel size (converted to Å) comes from, in this order:

1. OME-XML ``PhysicalSizeX``/``PhysicalSizeZ`` with their units (µm when no unit is given,
   as the OME schema says);
2. ImageJ metadata: the X resolution (pixels per ``unit``) and ``spacing`` (Z, in ``unit``);
   ``spacing`` stands in for X when the resolution is missing or 1 pixel per unit (the
   writers' default, i.e. not set);
3. the baseline TIFF resolution tags, but only with a metric ResolutionUnit (cm, mm, µm).

Pixels per inch, a resolution without unit, or an unknown unit mean "not stated": the
pixel size is then None and the framework asks for ``--pixel-size``.

Writing produces an ImageJ hyperstack (uint8, uint16, int16 or float32; other types are
widened to one of these) with resolution and ``spacing`` in nm, which ImageJ/Fiji and this
reader both understand. TIFF has no origin field, so the origin is not stored.
"""
from __future__ import annotations

import contextlib
import logging
import math
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import InputFileError, PixelSizeError, UsageError
from ais_framework.specs import VolumeFormatSpec
from ais_framework.volume import PIXEL_SIZE_HINT, Volume

EXTENSIONS = (".tif", ".tiff")

# Å per unit, keyed by the lower-cased unit name as ImageJ, OME and people write it.
_ANGSTROM_PER_UNIT = {
    **dict.fromkeys(("å", "\u212b", "a", "angstrom", "angstroms", "ångström", "ångstrom"), 1.0),
    **dict.fromkeys(("nm", "nanometer", "nanometers", "nanometre", "nanometres"), 10.0),
    **dict.fromkeys(("µm", "\u03bcm", "um", "micron", "microns", "micrometer", "micrometers",
                     "micrometre", "micrometres"), 1e4),
    **dict.fromkeys(("mm", "millimeter", "millimetre"), 1e7),
    **dict.fromkeys(("cm", "centimeter", "centimetre"), 1e8),
    **dict.fromkeys(("m", "meter", "metre"), 1e10),
    **dict.fromkeys(("pm", "picometer", "picometre"), 1e-2),
}
# TIFF ResolutionUnit values that are lengths: 3 = centimetre; 4 and 5 are tifffile's mm and µm.
_RESOLUTION_UNITS = {3: "cm", 4: "mm", 5: "µm"}
DAMAGE_WORDS = ("invalid page offset", "invalid offset", "corrupt", "truncat")
TRUNCATED_HINT = "the copy or download was probably interrupted; copy the file again"
_IMAGEJ_DTYPES = {"u1": np.uint8, "u2": np.uint16, "i2": np.int16, "f4": np.float32}


def angstrom_per_unit(unit: object) -> float | None:
    """Å in one ``unit`` (e.g. "nm" -> 10.0), or None for an unknown or missing unit."""
    if not isinstance(unit, str):
        return None
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), unit)
    return _ANGSTROM_PER_UNIT.get(text.strip().lower())


def _positive(value: float | None) -> float | None:
    if value is None or not math.isfinite(value) or value <= 0:
        return None
    return float(f"{value:.7g}")  # rationals and float32 carry about 7 digits


def _resolution(page, tag_name: str) -> float | None:
    """Pixels per unit from an XResolution/YResolution rational, or None."""
    tag = page.tags.get(tag_name)
    if tag is None:
        return None
    try:
        num, den = tag.value
        return num / den if den else None
    except (TypeError, ValueError):
        return None


def _ome_pixel_size(tif) -> tuple[float | None, float | None]:
    try:
        root = ET.fromstring(tif.ome_metadata)
    except (ET.ParseError, TypeError, ValueError):
        return None, None
    pixels = next((el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Pixels"), None)
    if pixels is None:
        return None, None
    return tuple(_ome_size(pixels, axis) for axis in "XZ")  # type: ignore[return-value]


def _ome_size(pixels, axis: str) -> float | None:
    try:
        size = float(pixels.get(f"PhysicalSize{axis}", "nan"))
    except ValueError:
        return None
    scale = angstrom_per_unit(pixels.get(f"PhysicalSize{axis}Unit", "µm"))
    return _positive(size * scale) if scale else None


def _imagej_pixel_size(tif) -> tuple[float | None, float | None]:
    meta = tif.imagej_metadata or {}
    scale = angstrom_per_unit(meta.get("unit"))
    if scale is None:
        return None, None
    spacing = meta.get("spacing")
    z = _positive(float(spacing) * scale) if isinstance(spacing, (int, float)) else None
    per_unit = _resolution(tif.pages[0], "XResolution")
    if per_unit == 1.0 and z is not None:
        per_unit = None  # 1 pixel per unit is the writers' default: "not set"; trust the spacing
    x = _positive(scale / per_unit) if per_unit else None
    return (x or z), z


def _tiff_tag_pixel_size(tif) -> tuple[float | None, float | None]:
    page = tif.pages[0]
    unit_tag = page.tags.get("ResolutionUnit")
    unit = _RESOLUTION_UNITS.get(int(unit_tag.value)) if unit_tag is not None else None
    per_unit = _resolution(page, "XResolution")
    if unit is None or not per_unit:
        return None, None
    return _positive(angstrom_per_unit(unit) / per_unit), None


def pixel_size_of(tif) -> tuple[float | None, float | None]:
    """(X/Y pixel size, Z spacing) in Å from an open ``tifffile.TiffFile``; None where not stated."""
    readers = []
    if tif.is_ome:
        readers.append(_ome_pixel_size)
    if tif.is_imagej:
        readers.append(_imagej_pixel_size)
    readers.append(_tiff_tag_pixel_size)
    for reader in readers:
        x, z = reader(tif)
        if x is not None:
            return x, z
    return None, None


def _as_zyx(path: Path, data: np.ndarray, axes: str) -> np.ndarray:
    """Reshape a series to (Z, Y, X): one extra axis (Z, pages, time, channels) becomes Z."""
    if "S" in axes and data.shape[axes.index("S")] > 1:
        raise InputFileError(f"{path}: a colour (RGB) image is not a tomogram",
                             "save it as a greyscale stack (e.g. in Fiji: Image > Type > 8-bit)")
    extra = {a: n for a, n in zip(axes, data.shape) if a not in "YX" and n > 1}
    if len(extra) > 1 or not axes.endswith("YX"):
        shape = ", ".join(f"{a}={n}" for a, n in zip(axes, data.shape))
        raise InputFileError(f"{path}: the image has more than 3 dimensions ({shape})",
                             "save one Z stack per file (e.g. one channel, one time point)")
    return data.reshape((-1, *data.shape[-2:]))


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(re.sub(r"^<[^>]*>\s*", "", record.getMessage()))


@contextlib.contextmanager
def _tifffile_warnings() -> Iterator[list[str]]:
    """Collect what tifffile logs (instead of printing it) while a file is read."""
    logger = logging.getLogger("tifffile")
    handler, propagate = _Collect(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _check_complete(path: Path, series, warnings_seen: list[str]) -> None:
    """Raise if tifffile found broken page offsets or the data runs past the end of the file."""
    damage = [m for m in warnings_seen if any(word in m.lower() for word in DAMAGE_WORDS)]
    if damage:
        raise InputFileError(f"{path}: damaged or truncated TIFF ({damage[0]})", TRUNCATED_HINT)
    offset, nbytes, size = series.dataoffset, series.size * series.dtype.itemsize, path.stat().st_size
    if offset is not None and offset + nbytes > size:
        raise InputFileError(f"{path}: truncated: the image data needs {offset + nbytes:,} bytes "
                             f"but the file has {size:,}", TRUNCATED_HINT)


def _open_series(path: Path):
    """(array, or None when it can be memory-mapped; axes; pixel size; z spacing)."""
    import tifffile

    with _tifffile_warnings() as seen, tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        x, z = pixel_size_of(tif)
        _check_complete(path, series, seen)
        data = None if series.dataoffset is not None else series.asarray()
        _check_complete(path, series, seen)
        return data, series.axes, x, z


def _read_error(path: Path, exc: Exception) -> InputFileError:
    if "imagecodecs" in str(exc):
        return InputFileError(f"{path}: the TIFF is compressed in a way that needs the 'imagecodecs' package",
                              "pip install imagecodecs, or save the stack uncompressed")
    message = " ".join(str(exc).split())[:200] or type(exc).__name__
    return InputFileError(f"{path}: not a readable TIFF file ({message})",
                          "check that the file is a TIFF image and was copied completely")


def read_tiff(path: Path, pixel_size: float | None = None) -> Volume:
    """Read a TIFF stack or image as a (Z, Y, X) volume (memory-mapped where possible)."""
    import tifffile

    path = Path(path)
    try:
        data, axes, x, z = _open_series(path)
        if data is None:
            data = tifffile.memmap(path, mode="r")
    except InputFileError:
        raise
    except Exception as exc:  # tifffile raises many kinds on damaged files
        raise _read_error(path, exc) from exc
    volume = Volume(data=_as_zyx(path, data, axes), pixel_size=x, path=path,
                    voxel_size=(x, x, z or x) if x else None)
    return volume.with_pixel_size(pixel_size) if pixel_size is not None else volume


def _imagej_dtype(dtype: np.dtype) -> np.dtype:
    """The ImageJ-compatible type to store ``dtype`` in (lossless where ImageJ allows)."""
    key = dtype.kind + str(dtype.itemsize)
    if key in _IMAGEJ_DTYPES:
        return np.dtype(_IMAGEJ_DTYPES[key])
    if dtype.kind == "b":
        return np.dtype(np.uint8)
    if key == "i1":
        return np.dtype(np.int16)
    if dtype.kind in "fiu":
        return np.dtype(np.float32)
    raise UsageError(f"cannot write data of type {dtype} as TIFF", "convert it to float32 first")


def _per_nm(size_angstrom: float) -> tuple[int, int]:
    """Pixels per nm as a TIFF rational whose inverse is the pixel size in nm (exact on read)."""
    nm = Fraction(size_angstrom / 10.0).limit_denominator(1_000_000)
    return nm.denominator, nm.numerator


def write_tiff(path: Path, volume: Volume) -> None:
    """Write an ImageJ hyperstack (Z, Y, X) with its pixel size in nm."""
    import tifffile

    data = volume.data
    stored = _imagej_dtype(np.dtype(data.dtype))
    vx, vy, vz = volume.header_voxel_size()
    if not (vx > 0 and vy > 0 and vz > 0):
        raise PixelSizeError(f"{path}: cannot write a TIFF without a pixel size", PIXEL_SIZE_HINT)
    pages = (np.ascontiguousarray(data[z], dtype=stored) for z in range(data.shape[0]))
    tifffile.imwrite(
        path, pages, shape=data.shape, dtype=stored, imagej=True, photometric="minisblack",
        resolution=(_per_nm(vx), _per_nm(vy)),
        metadata={"axes": "ZYX", "unit": "nm", "spacing": float(f"{vz / 10.0:.9g}")},
    )


@hookimpl
def ais_fw_volume_formats():
    return [
        VolumeFormatSpec(
            name="tiff",
            title="TIFF stack",
            extensions=EXTENSIONS,
            read=read_tiff,
            write=write_tiff,
            description="multi-page or 2-D TIFF; pixel size from ImageJ or OME metadata; writes ImageJ stacks",
        )
    ]
