"""MRC/CCP4 volumes (.mrc, .rec, .map, .mrcs, .st, .ali, .ccp4) via ``mrcfile``.

Reading parses the 1024-byte header with ``mrcfile``'s layout (tolerant of older writers:
no "MAP " ID, missing or wrong machine stamp, either byte order; the extended header is
skipped, never read) and memory-maps the data, so a tomogram larger than RAM can be opened.
Modes 0 (int8), 1 (int16), 2 (float32), 6 (uint16) and 12 (float16) are read. Mode 0 is
read as uint8 when the file says its bytes are unsigned: IMOD's stamp without its "signed
bytes" flag, or (no stamp) header min/max that only fit unsigned bytes (older IMOD files).
Files whose axis order (mapc/mapr/maps) is not 1, 2, 3 are transposed to (Z, Y, X).
Pre-2000 headers without "MAP " keep their origin where the ID now sits (bytes 208-219).

Writing is MRC2014 (it passes ``mrcfile.validate``) and keeps voxel size, origin and
nxstart/nystart/nzstart. uint8 is written as mode 0 with IMOD's unsigned-bytes convention
(what segmentation viewers expect); since strict MRC2014 readers see those bytes as signed,
the header statistics are marked "not computed" when values above 127 are present.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import InputFileError, UsageError
from ais_framework.specs import VolumeFormatSpec
from ais_framework.volume import Volume, iter_slabs, volume_stats

EXTENSIONS = (".mrc", ".rec", ".map", ".mrcs", ".st", ".ali", ".ccp4")
MODE_TYPES = {0: "i1", 1: "i2", 2: "f4", 6: "u2", 12: "f2"}
OTHER_MODES = {3: "complex int16", 4: "complex float32", 101: "4-bit"}
SUPPORTED = "supported modes: 0 (int8), 1 (int16), 2 (float32), 6 (uint16), 12 (float16)"
HEADER_BYTES = 1024
IMOD_STAMP = 1146047817
IMOD_SIGNED_BYTES = 1
CORRUPT_HINT = "check that this is an MRC/CCP4 volume and that it was copied completely"


def _read_header(path: Path):
    """The 1024-byte main header as a record in the file's byte order (extended header not read)."""
    size = path.stat().st_size
    if size < HEADER_BYTES:
        what = "the file is empty" if size == 0 else f"only {size} bytes, shorter than the 1024-byte MRC header"
        raise InputFileError(f"{path}: not an MRC file: {what}", CORRUPT_HINT)
    with open(path, "rb") as stream:
        raw = stream.read(HEADER_BYTES)
    header = _parse_header(raw, _byte_order(raw))
    _check_header(path, header)
    return header


def _parse_header(raw: bytes, order: str):
    from mrcfile.dtypes import HEADER_DTYPE

    return np.frombuffer(raw, dtype=HEADER_DTYPE.newbyteorder(order)).reshape(()).view(np.recarray)


def _byte_order(raw: bytes) -> str:
    """'<' or '>' from the machine stamp; without a stamp, the order in which the mode makes sense."""
    stated = {0x44: "<", 0x11: ">"}.get(raw[212])
    orders = [stated] if stated else []
    orders += [o for o in ("<", ">") if o != stated]
    for order in orders:
        if int(_parse_header(raw, order).mode) in MODE_TYPES:
            return order
    return orders[0]


def _has_map_id(header) -> bool:
    return bytes(header.map)[:3] == b"MAP"


def _axis_map(header) -> tuple[int, int, int]:
    """(mapc, mapr, maps); all zero (old writers) means the standard 1, 2, 3."""
    axes = tuple(int(header[k]) for k in ("mapc", "mapr", "maps"))
    return (1, 2, 3) if axes == (0, 0, 0) else axes  # type: ignore[return-value]


def _header_problem(header) -> str | None:
    dims = [int(header[k]) for k in ("nx", "ny", "nz")]
    if min(dims) <= 0:
        return f"its dimensions nx, ny, nz = {dims[0]}, {dims[1]}, {dims[2]} are not all positive"
    if int(header.mode) not in MODE_TYPES and int(header.mode) not in OTHER_MODES:
        return f"unknown data mode {int(header.mode)}"
    if int(header.nsymbt) < 0:
        return f"negative extended-header size {int(header.nsymbt)}"
    if sorted(_axis_map(header)) != [1, 2, 3]:
        return f"axis order mapc, mapr, maps = {', '.join(map(str, _axis_map(header)))} is not a permutation of 1, 2, 3"
    return None


def _check_header(path: Path, header) -> None:
    problem = _header_problem(header)
    if problem:
        what = "corrupt MRC header" if _has_map_id(header) else "not an MRC file"
        raise InputFileError(f"{path}: {what}: {problem}", CORRUPT_HINT)
    mode = int(header.mode)
    if mode in OTHER_MODES:
        raise InputFileError(f"{path}: MRC mode {mode} ({OTHER_MODES[mode]}) is not supported", SUPPORTED)
    if 401 <= int(header.ispg) <= 630 and int(header.mz) > 0 and int(header.nz) // int(header.mz) > 1:
        raise InputFileError(f"{path}: a stack of {int(header.nz) // int(header.mz)} volumes is not a single volume",
                             "split it into one volume per file first")


def _header_words(header, start: int, count: int, kind: str = "i4") -> np.ndarray:
    """``count`` 4-byte words from byte ``start`` of the raw header, in the file's byte order."""
    raw = header.tobytes()[start : start + 4 * count]
    return np.frombuffer(raw, dtype=np.dtype(kind).newbyteorder(header.mode.dtype.byteorder))


def _byte_dtype(header) -> np.dtype:
    """int8 or uint8 for mode 0 (see the module docstring)."""
    stamp, flags = (int(v) for v in _header_words(header, 152, 2))
    if stamp == IMOD_STAMP:
        return np.dtype(np.int8 if flags & IMOD_SIGNED_BYTES else np.uint8)
    if float(header.dmin) >= 0 and 127 < float(header.dmax) <= 255:
        return np.dtype(np.uint8)
    return np.dtype(np.int8)


def _data_dtype(header) -> np.dtype:
    mode = int(header.mode)
    if mode == 0:
        return _byte_dtype(header)
    return np.dtype(MODE_TYPES[mode]).newbyteorder(header.mode.dtype.byteorder)


def _check_size(path: Path, header, dtype: np.dtype, shape: tuple[int, int, int]) -> int:
    """The data offset; raises if the file is shorter than the header says."""
    offset = HEADER_BYTES + int(header.nsymbt)
    needed = offset + math.prod(shape) * dtype.itemsize
    size = path.stat().st_size
    if size < needed:
        nz, ny, nx = shape
        raise InputFileError(
            f"{path}: truncated: the header describes {nx}x{ny}x{nz} {dtype.name} "
            f"({needed:,} bytes with the header) but the file has {size:,} bytes",
            "the copy or download was probably interrupted; copy the file again",
        )
    return offset


def _to_zyx(data: np.ndarray, header) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Transpose file order (sections, rows, columns) to (Z, Y, X); start as (x, y, z)."""
    axes = _axis_map(header)  # spatial axis (1=X, 2=Y, 3=Z) of columns, rows, sections
    crs_start = (int(header.nxstart), int(header.nystart), int(header.nzstart))
    array_axis = {axes[0]: 2, axes[1]: 1, axes[2]: 0}
    start = tuple(crs_start[axes.index(a)] for a in (1, 2, 3))
    if axes == (1, 2, 3):
        return data, start  # type: ignore[return-value]
    return data.transpose(array_axis[3], array_axis[2], array_axis[1]), start  # type: ignore[return-value]


def _voxel_size(header) -> tuple[float, float, float] | None:
    """Å per voxel along x, y, z from cella / (mx, my, mz); a missing z takes x; None if x or y is unusable."""
    sizes = []
    for cell, count in (("x", "mx"), ("y", "my"), ("z", "mz")):
        n, length = int(header[count]), float(header.cella[cell])
        size = length / n if n > 0 and math.isfinite(length) else 0.0
        sizes.append(round(size, 6) if size > 0 else 0.0)
    if sizes[0] <= 0 or sizes[1] <= 0:
        return None
    return sizes[0], sizes[1], sizes[2] if sizes[2] > 0 else sizes[0]


def _origin(header) -> tuple[float, float, float]:
    """The origin in Å; pre-2000 headers keep it at bytes 208-219, where "MAP " and the machine stamp now are.

    Taken from there only when there is no "MAP ", no valid machine stamp, a zero origin
    in the MRC2000 place and a non-zero x origin in the old place (as in old IMOD files).
    """
    origin = tuple(float(header.origin[k]) for k in "xyz")
    stamp_ok = bytes(header.machst)[:1] in (b"\x44", b"\x11")
    if _has_map_id(header) or stamp_ok or any(origin):
        return origin  # type: ignore[return-value]
    old = _header_words(header, 208, 3, "f4")
    if not np.all(np.isfinite(old)) or not abs(old[0]) > 1e-6:
        return origin  # type: ignore[return-value]  # no old-style x origin where "MAP " belongs
    return tuple(float(v) if abs(v) > 1e-6 else 0.0 for v in old)  # type: ignore[return-value]


def read_mrc(path: Path, pixel_size: float | None = None) -> Volume:
    """Open an MRC file as a memory-mapped (Z, Y, X) volume."""
    path = Path(path)
    header = _read_header(path)
    dtype = _data_dtype(header)
    shape = (int(header.nz), int(header.ny), int(header.nx))
    offset = _check_size(path, header, dtype, shape)
    data, start = _to_zyx(np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape), header)
    voxel = _voxel_size(header)
    volume = Volume(data=data, pixel_size=voxel[0] if voxel else None, origin=_origin(header),
                    voxel_size=voxel, start=start, path=path)
    return volume.with_pixel_size(pixel_size) if pixel_size is not None else volume


def _storage(dtype: np.dtype) -> tuple[np.dtype, int]:
    """The dtype stored in the file and its MRC mode."""
    table = {"i1": 0, "u1": 0, "i2": 1, "f4": 2, "u2": 6, "f2": 12}
    key = dtype.kind + str(dtype.itemsize)
    if key in table:
        return np.dtype(key), table[key]
    if dtype.kind == "b":
        return np.dtype(np.uint8), 0
    if dtype.kind in "fiu":
        return np.dtype(np.float32), 2
    raise UsageError(f"cannot write data of type {dtype} as MRC", "convert it to float32 first")


def write_mrc(path: Path, volume: Volume, slices_per_slab: int = 16) -> None:
    """Write an MRC2014 file slab by slab (memory stays small for memory-mapped input)."""
    import mrcfile

    data = volume.data
    stored, mode = _storage(np.dtype(data.dtype))
    with mrcfile.new_mmap(path, shape=data.shape, mrc_mode=mode, overwrite=True) as mrc:
        target = mrc.data.view(np.uint8) if stored == np.uint8 else mrc.data
        z = 0
        for slab in iter_slabs(data, slices_per_slab):
            target[z : z + slab.shape[0]] = np.asarray(slab, dtype=stored)
            z += slab.shape[0]
        _fill_header(mrc.header, volume, volume_stats(data), unsigned_bytes=stored == np.uint8)


def _fill_header(header, volume: Volume, stats: dict, unsigned_bytes: bool) -> None:
    vx, vy, vz = volume.header_voxel_size()
    nz, ny, nx = volume.shape
    header.cella = (vx * nx, vy * ny, vz * nz)
    header.origin = volume.origin
    header.nxstart, header.nystart, header.nzstart = volume.start
    header.dmin, header.dmax, header.dmean, header.rms = _header_stats(stats, unsigned_bytes)
    if unsigned_bytes:
        _set_imod_unsigned(header)


def _header_stats(stats: dict[str, float], unsigned_bytes: bool) -> tuple[float, float, float, float]:
    """min, max, mean, rms, or MRC2014's "not computed" values where a strict reader would disagree."""
    values = (stats["min"], stats["max"], stats["mean"], stats["std"])
    signed_view_differs = unsigned_bytes and stats["max"] > 127
    if signed_view_differs or not all(math.isfinite(v) for v in values):
        return 0.0, -1.0, -2.0, -1.0
    return values  # type: ignore[return-value]


def _set_imod_unsigned(header) -> None:
    """IMOD's stamp (byte 152) with the signed-bytes flag (byte 156) clear: mode 0 is unsigned."""
    flags = int(_header_words(header, 156, 1)[0]) & ~IMOD_SIGNED_BYTES
    words = np.array([IMOD_STAMP, flags], dtype=np.dtype("i4").newbyteorder(header.mode.dtype.byteorder))
    raw = bytearray(bytes(header.extra2))
    raw[152 - 112 : 160 - 112] = words.tobytes()
    header.extra2 = np.void(bytes(raw))


class MrcSlabWriter:
    """Writes an MRC file slab by slab: the header's geometry first, its statistics at ``close``.

    Slabs go straight to the file (no memory map), so memory stays at one slab however
    large the volume; slices never written read as zeros.
    """

    def __init__(self, path: Path, template: Volume, dtype: np.dtype):
        import mrcfile

        self.path, self.template = Path(path), template
        self.stored, mode = _storage(np.dtype(dtype))
        with mrcfile.new_mmap(self.path, shape=template.shape, mrc_mode=mode, overwrite=True) as mrc:
            self.offset = int(mrc.header.nbytes + mrc.extended_header.nbytes)
        self.slice_bytes = int(np.prod(template.shape[1:])) * self.stored.itemsize
        os.truncate(self.path, self.offset + self.slice_bytes * template.shape[0])  # sparse zeros
        self.totals = np.zeros(3)  # count, sum, sum of squares
        self.low, self.high = math.inf, -math.inf

    def write(self, z: int, slab: np.ndarray) -> None:
        """Write ``slab`` (n, Y, X) at slices ``z .. z + n - 1``."""
        data = np.ascontiguousarray(slab, dtype=self.stored)
        with open(self.path, "r+b") as handle:
            handle.seek(self.offset + z * self.slice_bytes)
            handle.write(data.tobytes())
        self._add_stats(data)

    def _add_stats(self, data: np.ndarray) -> None:
        if data.dtype == np.uint8:  # exact integer sums are several times faster than float ones
            squares = data.astype(np.uint16)
            squares *= squares
            self.totals += (data.size, float(data.sum(dtype=np.uint64)), float(squares.sum(dtype=np.uint64)))
        else:
            values = data.astype(np.float32, copy=False).ravel()
            self.totals += (values.size, values.sum(dtype=np.float64), float(np.dot(values, values)))
        self.low, self.high = min(self.low, float(data.min())), max(self.high, float(data.max()))

    def close(self) -> None:
        """Fill in the header's statistics (the unwritten slices count as zeros)."""
        import mrcfile

        count = int(np.prod(self.template.shape))
        n, total, squares = self.totals
        low, high = (min(self.low, 0.0), max(self.high, 0.0)) if n < count else (self.low, self.high)
        mean = total / count
        stats = {"min": low, "max": high, "mean": mean, "std": math.sqrt(max(squares / count - mean**2, 0.0))}
        with mrcfile.mmap(self.path, mode="r+") as mrc:  # maps the data, reads none of it
            _fill_header(mrc.header, self.template, stats, unsigned_bytes=self.stored == np.uint8)


@hookimpl
def ais_fw_volume_formats():
    return [
        VolumeFormatSpec(
            name="mrc",
            title="MRC/CCP4 volume",
            extensions=EXTENSIONS,
            read=read_mrc,
            write=write_mrc,
            open_writer=MrcSlabWriter,
            description="memory-mapped reading of modes 0, 1, 2, 6, 12; header voxel size and origin kept",
        )
    ]
