"""MRC/CCP4 volumes (.mrc, .rec, .map, .mrcs, .st, .ali, .ccp4) via ``mrcfile``.

Reading memory-maps the data, so a tomogram larger than RAM can be opened. Modes 0
(int8), 1 (int16), 2 (float32), 6 (uint16) and 12 (float16) are read; mode 0 files
written by IMOD without its "signed bytes" flag are read as uint8, as IMOD does.
Writing keeps the voxel size, origin and nxstart/nystart/nzstart; uint8 is written as
mode 0 with IMOD's unsigned-bytes convention (what segmentation viewers expect).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import InputFileError
from ais_framework.specs import VolumeFormatSpec
from ais_framework.volume import Volume, iter_slabs, volume_stats

EXTENSIONS = (".mrc", ".rec", ".map", ".mrcs", ".st", ".ali", ".ccp4")
READ_MODES = {0, 1, 2, 6, 12}
IMOD_STAMP = 1146047817
IMOD_SIGNED_BYTES = 1


def _read_header(path: Path):
    import mrcfile

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with mrcfile.open(path, mode="r", permissive=True, header_only=True) as mrc:
                header = mrc.header.copy() if mrc.header is not None else None
    except Exception as exc:  # mrcfile raises many kinds on garbage
        raise InputFileError(f"{path}: not a readable MRC file ({exc})", "check the file is an MRC/CCP4 volume") from exc
    if header is None or header.nbytes < 1024:
        raise InputFileError(f"{path}: not an MRC file (the 1024-byte header is missing)", "check the file")
    return header, [str(w.message) for w in caught]


def _data_layout(path: Path, header) -> tuple[np.dtype, tuple[int, ...], int]:
    import mrcfile.utils as mu

    mode = int(header.mode)
    if mode not in READ_MODES:
        raise InputFileError(
            f"{path}: MRC mode {mode} is not supported",
            "supported modes: 0 (int8), 1 (int16), 2 (float32), 6 (uint16), 12 (float16)",
        )
    try:
        dtype = mu.data_dtype_from_header(header)
        shape = mu.data_shape_from_header(header)
    except ValueError as exc:
        raise InputFileError(f"{path}: bad MRC header ({exc})", "the file may be corrupt") from exc
    if mode == 0 and int(header.imodStamp) == IMOD_STAMP and not int(header.imodFlags) & IMOD_SIGNED_BYTES:
        dtype = np.dtype(np.uint8)
    offset = 1024 + int(header.nsymbt)
    return dtype, shape, offset


def _as_zyx(path: Path, shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) == 2:
        return (1, *shape)  # a single image is a one-slice volume
    if len(shape) == 3:
        return shape  # type: ignore[return-value]
    raise InputFileError(f"{path}: a stack of volumes (shape {shape}) is not a single volume", "split it first")


def read_mrc(path: Path) -> Volume:
    header, _ = _read_header(path)
    dtype, shape, offset = _data_layout(path, header)
    zyx = _as_zyx(path, shape)
    needed = offset + int(np.prod(zyx)) * dtype.itemsize
    size = path.stat().st_size
    if size < needed:
        raise InputFileError(
            f"{path}: truncated: the header describes {zyx[2]}x{zyx[1]}x{zyx[0]} {dtype.name} "
            f"({needed:,} bytes) but the file has {size:,} bytes",
            "the copy or download was probably interrupted; copy the file again",
        )
    data = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=zyx)
    voxel = _voxel_size(header)
    return Volume(
        data=data,
        pixel_size=voxel[0] if voxel[0] > 0 else None,
        origin=tuple(float(header.origin[k]) for k in "xyz"),
        voxel_size=voxel if all(v > 0 for v in voxel) else None,
        start=(int(header.nxstart), int(header.nystart), int(header.nzstart)),
        path=path,
    )


def _voxel_size(header) -> tuple[float, float, float]:
    sizes = []
    for cell, count in (("x", "mx"), ("y", "my"), ("z", "mz")):
        n = int(header[count])
        sizes.append(float(header.cella[cell]) / n if n > 0 else 0.0)
    return tuple(round(s, 6) for s in sizes)  # type: ignore[return-value]


def _storage(dtype: np.dtype) -> tuple[np.dtype, int]:
    """The dtype stored in the file and its MRC mode."""
    table = {"i1": 0, "u1": 0, "i2": 1, "f4": 2, "u2": 6, "f2": 12}
    key = dtype.kind + str(dtype.itemsize)
    if key in table:
        return dtype, table[key]
    if dtype.kind in "fiub":
        return np.dtype(np.float32), 2
    raise InputFileError(f"cannot write data of type {dtype} as MRC", "convert it to float32 first")


def write_mrc(path: Path, volume: Volume, slices_per_slab: int = 16) -> None:
    import mrcfile

    data = volume.data
    stored, mode = _storage(np.dtype(data.dtype))
    with mrcfile.new_mmap(path, shape=data.shape, mrc_mode=mode, overwrite=True) as mrc:
        target = mrc.data.view(np.uint8) if stored == np.uint8 else mrc.data
        z = 0
        for slab in iter_slabs(data, slices_per_slab):
            target[z : z + slab.shape[0]] = np.asarray(slab, dtype=stored)
            z += slab.shape[0]
        _fill_header(mrc.header, volume, data, unsigned_bytes=stored == np.uint8)


def _fill_header(header, volume: Volume, data: np.ndarray, unsigned_bytes: bool) -> None:
    vx, vy, vz = volume.header_voxel_size()
    nz, ny, nx = data.shape
    header.cella = (vx * nx, vy * ny, vz * nz)
    header.origin = volume.origin
    header.nxstart, header.nystart, header.nzstart = volume.start
    stats = volume_stats(data)
    header.dmin, header.dmax, header.dmean, header.rms = stats["min"], stats["max"], stats["mean"], stats["std"]
    if unsigned_bytes:
        header.imodStamp = IMOD_STAMP
        header.imodFlags = int(header.imodFlags) & ~IMOD_SIGNED_BYTES


@hookimpl
def ais_fw_volume_formats():
    return [
        VolumeFormatSpec(
            name="mrc",
            title="MRC/CCP4 volume",
            extensions=EXTENSIONS,
            read=read_mrc,
            write=write_mrc,
            description="memory-mapped reading of modes 0, 1, 2, 6, 12; header voxel size and origin kept",
        )
    ]
