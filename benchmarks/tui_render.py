"""Time to redraw the terminal UI's slice view: a 512x720 slice with overlays at 200x60 cells.

    python benchmarks/tui_render.py [--repeats 30] [--cells 200x60]

The steps are those of ``SliceView`` when it redraws (ais_framework/tui/widgets/slice_view.py):

* first frame: as a new slice, with the style cache still empty;
* new slice (another picture each time): integral images of the slice and of the overlay masks (two annotated features
  with ignore labels and one live prediction), box-averaged sampling, levels, blending,
  15 training boxes and 40 picks, half-block run-length segments, Textual strips;
* same slice (pan, zoom, threshold, a brush stroke elsewhere): the integral images cached;
* terminal output: the strips encoded as escape sequences (what Textual then writes).

Target: a redraw (new slice) under 50 ms. Prints the median and the 90th percentile.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from rich.console import Console
from textual.strip import Strip

from ais_framework.tui.render import HalfBlockPainter, Layer, Scene, View, auto_levels, draw_scene, integral_image

SLICE = (512, 720)


def make_inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: SLICE[0], : SLICE[1]]
    image = rng.normal(0, 1, SLICE).astype(np.float32) + 2.0 * np.sin(xx / 40.0) * np.cos(yy / 55.0)
    ring = np.abs(np.hypot(yy - 250, xx - 360) - 120) < 3
    mask_a = np.where(ring, 1, 0).astype(np.uint8)
    mask_a[400:430, 100:200] = 2
    mask_b = ((yy - 100) ** 2 + (xx - 600) ** 2 < 40**2).astype(np.uint8)
    prediction = np.clip(1.0 - np.abs(np.hypot(yy - 250, xx - 360) - 121) / 6.0, 0, 1).astype(np.float32)
    boxes = [(float(rng.integers(32, 480)), float(rng.integers(32, 690)), 64, (230, 25, 75)) for _ in range(15)]
    picks = [(rng.uniform(0, SLICE[0], 40), rng.uniform(0, SLICE[1], 40), (255, 225, 25))]
    return image, mask_a, mask_b, prediction, boxes, picks


def redraw(inputs, painter: HalfBlockPainter, cells: tuple[int, int], cache: dict | None) -> list[Strip]:
    image, mask_a, mask_b, prediction, boxes, picks = inputs
    if cache is None or not cache:
        tables = {"slice": integral_image(image), "a1": integral_image(mask_a == 1), "a2": integral_image(mask_a == 2),
                  "b1": integral_image(mask_b == 1), "p": integral_image(prediction >= 0.5)}
        if cache is not None:
            cache.update(tables)
    else:
        tables = cache
    layers = [Layer(tables["p"], (255, 204, 0), 0.45), Layer(tables["a1"], (230, 25, 75), 0.6),
              Layer(tables["a2"], (150, 150, 150), 0.5), Layer(tables["b1"], (60, 180, 75), 0.6)]
    scene = Scene(tables["slice"], SLICE, auto_levels(image) if cache is None else (-3.0, 3.0), layers, boxes, picks)
    view = View.fit(SLICE, cells)
    rgb = draw_scene(scene, view, cells, (40, 40, 40))
    return [Strip(row, cells[0]) for row in painter.segments(rgb)]


def timed(function, repeats: int) -> list[float]:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(name: str, times: list[float]) -> None:
    p90 = sorted(times)[int(0.9 * (len(times) - 1))]
    print(f"{name:<34} median {statistics.median(times):6.1f} ms   p90 {p90:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--cells", default="200x60", help="width x height in terminal cells")
    args = parser.parse_args()
    cells = tuple(int(v) for v in args.cells.split("x"))
    slices = [make_inputs(seed) for seed in range(args.repeats + 1)]  # each "new slice" is another picture
    inputs, painter, cache = slices[0], HalfBlockPainter(), {}
    console = Console(width=cells[0], color_system="truecolor", force_terminal=True, file=open("/dev/null", "w"))
    print(f"slice {SLICE[0]}x{SLICE[1]} px, {cells[0]}x{cells[1]} cells ({cells[0]}x{2 * cells[1]} screen px)")
    start = time.perf_counter()
    redraw(inputs, painter, cells, None)
    first = (time.perf_counter() - start) * 1000
    queue = iter(slices[1:] * 2)
    new = timed(lambda: redraw(next(queue), painter, cells, None), args.repeats)
    redraw(inputs, painter, cells, cache)
    same = timed(lambda: redraw(inputs, painter, cells, cache), args.repeats)
    strips = redraw(inputs, painter, cells, cache)
    rows = [list(strip) for strip in strips]
    encode = timed(lambda: "".join(Strip(row, cells[0]).render(console) for row in rows), args.repeats)
    segments = sum(len(strip) for strip in strips)
    print(f"{'first frame (empty style cache)':<34} {first:6.1f} ms")
    report("redraw, new slice", new)
    report("redraw, same slice (cached)", same)
    report("encode to escape sequences", encode)
    print(f"{segments} segments for {cells[0] * cells[1]} cells; target: new-slice redraw under 50 ms")


if __name__ == "__main__":
    main()
