"""A small, documented tomogram simulator with known ground truth (``ais-fw synth``).

The scene is built in physical units (nm), so the same seed and the same field of view in nm
give the same objects at any pixel size; only the voxel grid, the carbon texture and the noise
change. What it contains:

* **Lipid vesicles**: slightly ellipsoidal shells (radii 15-40 nm, limited to what fits in the
  volume) made of two dense leaflets 3.6 nm apart; the membrane mask is the 5 nm bilayer.
  Vesicles do not overlap each other, the carbon or the volume border.
* **Carbon support film**: a dense, grainy slab 15-20 nm thick covering one side of the field of
  view. Its edge is an arc of the hole (radius 0.5-1 µm), so it is slightly curved and rough.
* **Small membrane-bound particles** (ATP-synthase-like): 9 nm heads whose centres sit 20 nm
  (±1.5) off the outer membrane surface along the normal, joined to it by a thin stalk.
* **Large free particles** (ribosome-like): ~25 nm, lumpy (two subunits plus small lumps), in the
  space left free.

Image formation: the density is negated (features darker than the background), Gaussian noise is
added, and a Fourier filter applies a missing wedge (tilt range ±60° about Y, so things elongate
along Z) and a 1.2 nm Gaussian blur. The tomogram is float32, scaled to mean 0 and std 1.

Ground truth: uint8 0/1 masks per feature and CSV coordinate lists (x, y, z in pixels, voxel
centres at integers; x_A, y_A, z_A = pixels x pixel size, the MRC origin being 0).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .atomic import write_text_atomic
from .errors import AisError, UsageError
from .volume import Volume, check_pixel_size, volume_stats, write_volume

DEFAULT_SHAPE = (96, 256, 256)
DEFAULT_PIXEL_SIZE = 10.0
MIN_SIDE = 32
MAX_VOXELS = 2**29  # about 10 GB of working memory

# Scene parameters, nm unless said otherwise.
VESICLE_RADIUS = (15.0, 40.0)
VESICLE_ELLIPTICITY = 0.1      # semi-axes vary by up to ±10 %
VESICLES_PER_NM3 = 1 / 600_000
BILAYER = 5.0                  # membrane mask thickness
LEAFLET_GAP, LEAFLET_SIGMA = 3.6, 0.7
SMALL_HEAD_RADIUS, SMALL_OFFSET, STALK_RADIUS = 4.5, 20.0, 1.2
SMALL_PER_NM2 = 1 / 1200       # of vesicle surface
LARGE_PER_NM3 = 1 / 200_000
CARBON_THICKNESS, HOLE_RADIUS = (15.0, 20.0), (500.0, 1000.0)
GAP = 2.0                      # minimum space between objects
DENSITY = {"membrane": 1.0, "carbon": 0.8, "protein": 0.8, "stalk": 0.5}
TILT_MAX_DEG, BLUR = 60.0, 1.2
NOISE_STD = 0.35               # after filtering, in density units (membrane leaflet = 1.0)

DESCRIPTION = (
    "Synthetic tomogram from ais-fw's own simulator: lipid vesicles (radii 15-40 nm), ~25 nm "
    "ribosome-like free particles and 9 nm particles on stalks 20 nm off the vesicle membranes, beside "
    "a 15-20 nm carbon film with a curved edge on one side. Negative contrast, Gaussian noise, missing "
    "wedge (±60° about Y) and 1.2 nm blur; normalised to mean 0, std 1. Masks (0/1) and coordinates "
    "(pixels and Å) give the exact ground truth."
)


@dataclass
class Vesicle:
    centre: np.ndarray      # (z, y, x) nm
    axes: np.ndarray        # semi-axes nm, in the vesicle's own frame
    rotation: np.ndarray    # 3x3, columns = own axes in (z, y, x)


@dataclass
class Scene:
    extent: np.ndarray      # (z, y, x) nm
    carbon: dict
    vesicles: list = field(default_factory=list)
    small: list = field(default_factory=list)   # (head centre, anchor on membrane, normal, vesicle index)
    large: list = field(default_factory=list)   # (centre, [(offset, radius), ...])


class Occupancy:
    """Bounding spheres of placed objects, to keep new ones clear of them."""

    def __init__(self):
        self.centres, self.radii, self.owners = np.zeros((0, 3)), np.zeros(0), np.zeros(0, int)

    def free(self, centre, radius, skip_owner=None) -> bool:
        """True when a sphere keeps GAP from every object (but those owned by ``skip_owner``)."""
        gaps = np.linalg.norm(self.centres - centre, axis=1) - self.radii - radius
        skipped = self.owners == skip_owner if skip_owner is not None else False
        return bool(np.all((gaps >= GAP) | skipped))

    def add(self, centre, radius, owner=-1) -> None:
        self.centres = np.vstack([self.centres, centre])
        self.radii, self.owners = np.append(self.radii, radius), np.append(self.owners, owner)


def write_synthetic(outdir: Path, seed: int, shape: tuple, pixel_size: float) -> dict:
    """Simulate a tomogram with ground truth and write it into ``outdir``; return its manifest.

    The manifest (also written as ``synth.json``, with paths relative to ``outdir``) holds the
    seed, shape, pixel size, object counts, file paths and a description. In the returned dict
    ``tomogram`` and ``files`` are paths under ``outdir``. The same arguments give identical files.
    """
    outdir, shape, pixel_size = _validate(outdir, seed, shape, pixel_size)
    scene_seed, texture_seed, noise_seed = np.random.SeedSequence(seed).spawn(3)
    px = pixel_size / 10.0
    scene = plan_scene(np.random.default_rng(scene_seed), np.array(shape) * px)
    density, masks = render_scene(scene, shape, px, np.random.default_rng(texture_seed))
    tomogram = form_image(density, shape, px, np.random.default_rng(noise_seed))
    manifest = _write_outputs(outdir, seed, pixel_size, scene, tomogram, masks)
    full = {**manifest, "outdir": str(outdir), "tomogram": str(outdir / manifest["tomogram"])}
    full["files"] = {name: str(outdir / rel) for name, rel in manifest["files"].items()}
    return full


def _validate(outdir, seed, shape, pixel_size) -> tuple[Path, tuple[int, int, int], float]:
    pixel_size = check_pixel_size(pixel_size)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"seed must be a whole number >= 0, got {seed!r}", "e.g. --seed 1")
    try:
        sizes = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        sizes = ()
    if len(sizes) != 3 or min(sizes) < MIN_SIDE:
        raise UsageError(f"shape must be 3 whole sizes (Z Y X) of at least {MIN_SIDE} pixels, got {shape!r}",
                         f"e.g. --shape {' '.join(map(str, DEFAULT_SHAPE))}")
    shape = sizes
    if int(np.prod(shape, dtype=np.int64)) > MAX_VOXELS:
        raise UsageError(f"shape {shape} is too large to simulate in memory (~20 bytes per voxel)",
                         f"keep Z*Y*X below {MAX_VOXELS:,}, or use a larger pixel size")
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"{outdir} exists and is not a folder", "give a folder to write into")
    return outdir, shape, pixel_size


# ---------------------------------------------------------------- planning the scene (nm)

def plan_scene(rng: np.random.Generator, extent: np.ndarray) -> Scene:
    """Place the carbon, vesicles, small and large particles in a box of ``extent`` nm (z, y, x)."""
    scene = Scene(extent=extent, carbon=_plan_carbon(rng, extent))
    occupied = Occupancy()
    _place_vesicles(rng, scene, occupied)
    _place_small(rng, scene, occupied)
    _place_large(rng, scene, occupied)
    return scene


def _plan_carbon(rng, extent) -> dict:
    """A slab outside a round hole whose edge crosses one side of the field of view."""
    angle = rng.uniform(0, 2 * np.pi)
    direction = np.array([np.sin(angle), np.cos(angle)])      # (y, x)
    half = 0.5 * (abs(direction[0]) * extent[1] + abs(direction[1]) * extent[2])
    radius = rng.uniform(*HOLE_RADIUS)
    edge = rng.uniform(0.25, 0.6) * half                      # carbon covers 20-37 % of the width
    thickness = min(rng.uniform(*CARBON_THICKNESS), extent[0] / 3)
    z_mid = rng.uniform(thickness / 2 + 3, extent[0] - thickness / 2 - 3)
    return {"hole_centre": extent[1:] / 2 + (edge - radius) * direction, "hole_radius": radius,
            "z_range": (z_mid - thickness / 2, z_mid + thickness / 2)}


def _clear_of_carbon(carbon, centre, radius) -> bool:
    inside_hole = carbon["hole_radius"] - np.linalg.norm(centre[1:] - carbon["hole_centre"])
    z_lo, z_hi = carbon["z_range"]
    dz = max(0.0, z_lo - centre[0], centre[0] - z_hi)
    return bool(np.hypot(max(0.0, inside_hole), dz) >= radius + 3 * GAP)  # edge is rough (±2 nm)


def _fits(scene, occupied, centre, radius, skip_owner=None) -> bool:
    inside = np.all(centre - radius >= 0) and np.all(centre + radius <= scene.extent)
    return bool(inside) and _clear_of_carbon(scene.carbon, centre, radius) and \
        occupied.free(centre, radius, skip_owner)


def _random_rotation(rng) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_quat(rng.normal(size=4)).as_matrix()


def _place_vesicles(rng, scene, occupied) -> None:
    r_hi = min(VESICLE_RADIUS[1], scene.extent.min() / 2 / (1 + VESICLE_ELLIPTICITY) - BILAYER)
    r_lo = min(VESICLE_RADIUS[0], r_hi)
    target = max(1, round(np.prod(scene.extent) * VESICLES_PER_NM3))
    for _ in range(40 * target):
        if len(scene.vesicles) == target or r_hi < 8:
            break
        radius = rng.uniform(r_lo, r_hi)
        axes = radius * (1 + rng.uniform(-VESICLE_ELLIPTICITY, VESICLE_ELLIPTICITY, 3))
        centre, bound = rng.uniform(0, 1, 3) * scene.extent, axes.max() + BILAYER / 2
        rotation = _random_rotation(rng)
        if _fits(scene, occupied, centre, bound):
            occupied.add(centre, bound, owner=len(scene.vesicles))
            scene.vesicles.append(Vesicle(centre, axes, rotation))


def _surface_point(vesicle: Vesicle, direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The point of the membrane's mid-plane along ``direction`` (own frame) and its normal."""
    point = direction / np.sqrt(np.sum((direction / vesicle.axes) ** 2))
    normal = point / vesicle.axes**2
    normal /= np.linalg.norm(normal)
    return vesicle.centre + vesicle.rotation @ point, vesicle.rotation @ normal


def _place_small(rng, scene, occupied) -> None:
    """Heads 20 nm off their own membrane, and at least as far from every other membrane."""
    centres = np.array([v.centre for v in scene.vesicles]).reshape(-1, 3)
    bounds = np.array([v.axes.max() + BILAYER / 2 for v in scene.vesicles])
    for index, vesicle in enumerate(scene.vesicles):
        area = 4 * np.pi * np.mean(vesicle.axes) ** 2
        target, placed = max(1, round(area * SMALL_PER_NM2)), 0
        for _ in range(10 * target):
            if placed == target:
                break
            anchor, normal = _surface_point(vesicle, rng.normal(size=3))
            head = anchor + normal * (BILAYER / 2 + SMALL_OFFSET + rng.uniform(-1.5, 1.5))
            stalk_mid, stalk_half = (anchor + head) / 2, np.linalg.norm(head - anchor) / 2
            others = np.linalg.norm(centres - head, axis=1) - bounds >= SMALL_OFFSET
            others[index] = True
            if others.all() and _fits(scene, occupied, head, SMALL_HEAD_RADIUS) and \
                    _fits(scene, occupied, stalk_mid, stalk_half - BILAYER, skip_owner=index):
                occupied.add(head, SMALL_HEAD_RADIUS)
                occupied.add(stalk_mid, stalk_half, owner=index)
                scene.small.append((head, anchor, normal, index))
                placed += 1


def _ribosome_blobs(rng) -> list[tuple[np.ndarray, float]]:
    """A ~25 nm lumpy particle: a large and a small subunit plus a few surface lumps."""
    axis = _random_rotation(rng)
    blobs = [(axis[:, 0] * 3.5, 10.0), (axis[:, 0] * -6.5 + axis[:, 1] * 2.0, 7.5)]
    for _ in range(rng.integers(4, 8)):
        direction = rng.normal(size=3)
        blobs.append((blobs[0][0] + direction / np.linalg.norm(direction) * 9.0, rng.uniform(2.5, 4.0)))
    return blobs


def _place_large(rng, scene, occupied) -> None:
    target = max(1, round(np.prod(scene.extent) * LARGE_PER_NM3))
    for _ in range(20 * target):
        if len(scene.large) == target:
            break
        blobs = _ribosome_blobs(rng)
        bound = max(np.linalg.norm(offset) + radius for offset, radius in blobs)
        centre = rng.uniform(0, 1, 3) * scene.extent
        if _fits(scene, occupied, centre, bound):
            occupied.add(centre, bound)
            scene.large.append((centre, blobs))


# ---------------------------------------------------------------- rendering (voxels)

def render_scene(scene: Scene, shape, px: float, rng) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Density (float32, Z padded for the Fourier filter) and the 0/1 masks of every feature."""
    density = np.zeros((_padded_z(shape[0], px), *shape[1:]), np.float32)
    masks = {name: np.zeros(shape, np.uint8) for name in ("membrane", "carbon", "small_particles", "large_particles")}
    view = density[: shape[0]]
    _render_carbon(scene.carbon, view, masks["carbon"], px, rng)
    for vesicle in scene.vesicles:
        _render_vesicle(vesicle, view, masks["membrane"], px)
    for head, anchor, normal, _ in scene.small:
        _render_stalk(anchor + normal * BILAYER / 2, head - normal * SMALL_HEAD_RADIUS / 2, view, px)
        _render_blobs(head, [(np.zeros(3), SMALL_HEAD_RADIUS)], view, masks["small_particles"], px)
    for centre, blobs in scene.large:
        _render_blobs(centre, blobs, view, masks["large_particles"], px)
    return density, masks


def _padded_z(nz: int, px: float) -> int:
    from scipy.fft import next_fast_len

    return next_fast_len(nz + int(np.ceil(20.0 / px)), real=True)  # 20 nm gap against wrap-around


def _local_grid(centre, radius, shape, px):
    """Slices of the box around ``centre`` (nm) and its (z, y, x) offsets in nm, broadcastable."""
    c, r = np.asarray(centre) / px, radius / px
    lo = np.maximum(np.floor(c - r).astype(int), 0)
    hi = np.minimum(np.ceil(c + r).astype(int) + 1, shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    offsets = [((np.arange(a, b) - ci) * px).astype(np.float32) for a, b, ci in zip(lo, hi, c)]
    return box, (offsets[0][:, None, None], offsets[1][None, :, None], offsets[2][None, None, :])


def _soft(distance, width=0.5):
    """1 inside (distance < 0), 0 outside, with a smooth edge ``width`` nm wide."""
    return 0.5 * (1 - np.tanh(distance / width))


def _render_vesicle(vesicle: Vesicle, density, mask, px) -> None:
    box, d = _local_grid(vesicle.centre, vesicle.axes.max() + BILAYER, mask.shape, px)
    own = [sum(d[j] * np.float32(vesicle.rotation[j, i]) for j in range(3)) for i in range(3)]
    norm = np.sqrt(sum(q * q for q in own))
    scaled = np.sqrt(sum((q / np.float32(a)) ** 2 for q, a in zip(own, vesicle.axes)))
    radius_here = np.divide(norm, scaled, out=np.full_like(norm, vesicle.axes.min()), where=scaled > 0)
    dist = norm - radius_here  # radial distance to the mid-plane; fine for near-spheres
    leaflets = sum(np.exp(-((dist + s) ** 2) / (2 * LEAFLET_SIGMA**2)) for s in (-LEAFLET_GAP / 2, LEAFLET_GAP / 2))
    density[box] += DENSITY["membrane"] * leaflets
    mask[box] |= np.abs(dist) <= BILAYER / 2


def _render_blobs(centre, blobs, density, mask, px) -> None:
    """Soft spheres (offset from ``centre``, radius) merged into one particle; mask = their union."""
    bound = max(np.linalg.norm(offset) + radius for offset, radius in blobs) + 1.0
    box, (dz, dy, dx) = _local_grid(centre, bound, mask.shape, px)
    total = np.zeros(np.broadcast_shapes(dz.shape, dy.shape, dx.shape), np.float32)
    for offset, radius in blobs:
        total += _soft(np.sqrt((dz - offset[0]) ** 2 + (dy - offset[1]) ** 2 + (dx - offset[2]) ** 2) - radius)
    density[box] += DENSITY["protein"] * np.minimum(total, 1.0)
    mask[box] |= total >= 0.5


def _render_stalk(start, end, density, px) -> None:
    """A thin rod from ``start`` to ``end`` (nm); density only, it is not in any mask."""
    mid, half = (start + end) / 2, np.linalg.norm(end - start) / 2
    box, d = _local_grid(mid, half + STALK_RADIUS + 1, density.shape, px)
    axis = (end - start) / max(2 * half, 1e-6)
    along = np.clip(sum(d[i] * np.float32(axis[i]) for i in range(3)), -half, half)
    dist = np.sqrt(sum((d[i] - along * np.float32(axis[i])) ** 2 for i in range(3)))
    density[box] += DENSITY["stalk"] * _soft(dist - STALK_RADIUS)


def _smooth_noise(rng, shape, sigma_px) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    field_ = gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma_px, mode="wrap")
    return field_ / max(float(field_.std()), 1e-6)


def _render_carbon(carbon, density, mask, px, rng) -> None:
    """Grainy slab outside the hole; edge and surfaces are rough by about ±1-2 nm."""
    nz, ny, nx = mask.shape
    y, x = np.arange(ny)[:, None] * px, np.arange(nx)[None, :] * px
    hy, hx = carbon["hole_centre"]
    edge = np.hypot(y - hy, x - hx) - carbon["hole_radius"] + 1.5 * _smooth_noise(rng, (ny, nx), 8 / px)
    z_lo, z_hi = carbon["z_range"]
    k0, k1 = max(int((z_lo - 4) / px), 0), min(int(np.ceil((z_hi + 4) / px)) + 1, nz)
    z = (np.arange(k0, k1) * px)[:, None, None]
    bottom = z_lo + 0.8 * _smooth_noise(rng, (ny, nx), 10 / px)
    top = z_hi + 0.8 * _smooth_noise(rng, (ny, nx), 10 / px)
    inside = (edge >= 0) & (z >= bottom) & (z <= top)
    grain = _smooth_noise(rng, inside.shape, 2.0 / px)
    density[k0:k1] += inside * (DENSITY["carbon"] * (1 + 0.8 * grain)).clip(0)
    mask[k0:k1] |= inside


# ---------------------------------------------------------------- image formation

def _transfer(shape, px, full_x: bool) -> tuple[np.ndarray, np.ndarray]:
    """The filter as a (Z, X) part (missing wedge x blur) and a Y part (blur); frequencies in 1/nm."""
    from scipy.fft import fftfreq, rfftfreq

    kz = fftfreq(shape[0], px)[:, None]
    kx = (fftfreq if full_x else rfftfreq)(shape[2], px)[None, :]
    angle = np.degrees(np.arctan2(np.abs(kz), np.abs(kx)))
    wedge = 0.5 * (1 - np.tanh((angle - TILT_MAX_DEG) / 3.0))  # soft edge of ~3°

    def blur(k):
        return np.exp(-2 * (np.pi * BLUR * k) ** 2)

    return (wedge * blur(kz) * blur(kx)).astype(np.float32), blur(fftfreq(shape[1], px)).astype(np.float32)


def apply_transfer(density: np.ndarray, px: float) -> np.ndarray:
    """``density`` (Z padded, see ``_padded_z``) seen through the missing wedge and the blur."""
    from scipy import fft

    spectrum = fft.rfftn(density, workers=-1)
    zx, y_part = _transfer(density.shape, px, full_x=False)
    spectrum *= zx[:, None, :]
    spectrum *= y_part[None, :, None]
    return fft.irfftn(spectrum, s=density.shape, workers=-1, overwrite_x=True)


def form_image(density: np.ndarray, shape, px: float, rng) -> np.ndarray:
    """Negative contrast + noise, then missing wedge and blur; float32 with mean 0 and std 1.

    The noise is added before the filter (as in a real reconstruction it shares the missing
    wedge); its level is set so that after filtering its std is ``NOISE_STD`` density units.
    ``density`` (Z padded) is used as work space.
    """
    zx_full, y_part = _transfer(density.shape, px, full_x=True)
    sigma = NOISE_STD / np.sqrt(np.mean(zx_full**2) * np.mean(y_part**2))
    for z in range(0, density.shape[0], 16):
        slab = density[z : z + 16]
        slab *= -1
        slab += np.float32(sigma) * rng.standard_normal(slab.shape, dtype=np.float32)
    image = apply_transfer(density, px)[: shape[0]]
    stats = volume_stats(image)
    image -= np.float32(stats["mean"])
    image /= np.float32(stats["std"])
    return image


# ---------------------------------------------------------------- writing

def _write_outputs(outdir: Path, seed, pixel_size, scene: Scene, tomogram, masks) -> dict:
    stem = f"synth_{seed}"
    files = {f"{name}_mask": f"truth/{name}.mrc" for name in masks}
    files.update(vesicles="truth/vesicles.csv", small_particles="truth/small_particles.csv",
                 large_particles="truth/large_particles.csv", manifest="synth.json")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AisError(f"cannot create {outdir}: {exc.strerror}", "check the path and its permissions") from exc
    _save_volume(outdir / f"{stem}.mrc", tomogram, pixel_size)
    for name, mask in masks.items():
        _save_volume(outdir / files[f"{name}_mask"], mask, pixel_size)
    for name, rows in _coordinate_tables(scene, pixel_size).items():
        write_text_atomic(outdir / files[name], rows)
    manifest = _manifest(seed, pixel_size, scene, tomogram.shape, f"{stem}.mrc", files)
    write_text_atomic(outdir / files["manifest"], json.dumps(manifest, indent=2) + "\n")
    return manifest


def _save_volume(path: Path, data: np.ndarray, pixel_size: float) -> None:
    write_volume(path, Volume(data=data, pixel_size=pixel_size, voxel_size=(pixel_size,) * 3))


def _coordinate_tables(scene: Scene, pixel_size: float) -> dict[str, str]:
    """CSV text per list: x, y, z (pixels), x_A, y_A, z_A (Å), then extra columns."""
    px = pixel_size / 10.0

    def table(header, rows):
        lines = [",".join(["x", "y", "z", "x_A", "y_A", "z_A", *header])]
        for centre, extra in rows:
            zyx = np.asarray(centre)
            xyz = [f"{v / px:.2f}" for v in zyx[::-1]] + [f"{v * 10:.1f}" for v in zyx[::-1]]
            lines.append(",".join(xyz + [str(e) for e in extra]))
        return "\n".join(lines) + "\n"

    return {
        "vesicles": table(["id", "radius_A"], [(v.centre, (i + 1, f"{np.mean(v.axes) * 10:.1f}"))
                                               for i, v in enumerate(scene.vesicles)]),
        "small_particles": table(["vesicle_id"], [(s[0], (s[3] + 1,)) for s in scene.small]),
        "large_particles": table([], [(c, ()) for c, _ in scene.large]),
    }


def _manifest(seed, pixel_size, scene: Scene, shape, tomogram: str, files: dict) -> dict:
    return {
        "simulator": f"ais-fw {__version__} synth",
        "seed": int(seed),
        "shape_zyx": [int(n) for n in shape],
        "pixel_size_A": pixel_size,
        "extent_nm_zyx": [round(float(v), 3) for v in scene.extent],
        "counts": {"vesicles": len(scene.vesicles), "small_particles": len(scene.small), "large_particles": len(scene.large)},
        "carbon_z_range_nm": [round(float(v), 2) for v in scene.carbon["z_range"]],
        "tomogram": tomogram,
        "files": files,
        "parameters": {"tilt_range_deg": [-TILT_MAX_DEG, TILT_MAX_DEG], "tilt_axis": "Y",
                       "blur_nm": BLUR, "noise_std": NOISE_STD, "small_offset_nm": SMALL_OFFSET,
                       "membrane_thickness_nm": BILAYER, "vesicle_radius_nm": list(VESICLE_RADIUS)},
        "description": DESCRIPTION,
    }
