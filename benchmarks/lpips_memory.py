"""Peak memory and time of the LPIPS metric on large images: whole-image against tiled.

``LPIPSNetwork`` scores images of more than ``max_pixels`` (2 MP) tile by tile when no gradient
is recorded (``deblurgan.models.lpips``); the distance is the same up to float rounding. Each
measurement runs in a fresh process (one pair of images of the given size, VGG trunk) and reads
its peak resident set size (``ru_maxrss``, from ``os.wait4``); a tiny pair gives the fixed cost.
It prints, per size, the peak and seconds of each way, their ratio, and the two distances.

The trunk's weights do not change the memory or the time: the fetched LPIPS weights are used when
``deblur weights fetch lpips`` has run, else a random trunk (said in the output).

    python benchmarks/lpips_memory.py                 # 1, 3 and 6 MP, 2 threads
    python benchmarks/lpips_memory.py --sizes 2,6 --threads 4
    python benchmarks/lpips_memory.py --sizes 0.5 --tile-above 0.2 --tile 256  # a small image
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory_per_megapixel import run_peak_mb  # one way to measure a peak

CHILD = r"""
import json, math, sys, time, warnings, logging
import torch
logging.disable(logging.WARNING)
from deblurgan.models.lpips import LPIPSNetwork
megapixels, tiled, threads = float(sys.argv[1]), sys.argv[2] == "tiled", int(sys.argv[3])
tile_above = None if sys.argv[4] == "default" else int(float(sys.argv[4]) * 1e6)
tile = None if sys.argv[5] == "default" else int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)  # the same random trunk in both processes when none is fetched
try:
    net, weights = LPIPSNetwork.pretrained("vgg"), "fetched"
except FileNotFoundError:
    net, weights = LPIPSNetwork("vgg"), "random"
if not tiled:
    net.max_pixels = None
else:
    net.max_pixels = net.max_pixels if tile_above is None else tile_above
    net.tile = net.tile if tile is None else tile
width = round(math.sqrt(megapixels * 1e6 * 4 / 3))
height = round(width * 3 / 4)
g = torch.Generator().manual_seed(0)
x = torch.rand(1, 3, height, width, generator=g)
y = (x + 0.05 * torch.randn(x.shape, generator=g)).clamp(0, 1)
start = time.perf_counter()
with torch.no_grad():
    d = float(net(x, y))
print(json.dumps({"seconds": time.perf_counter() - start, "distance": d, "weights": weights,
                  "size": f"{width}x{height}"}))
"""


def measure(
    megapixels: float, way: str, threads: int, tile_above: str = "default", tile: str = "default"
) -> dict:
    """One fresh process: its answer and its peak RSS in MB."""
    command = [sys.executable, "-c", CHILD, str(megapixels), way, str(threads), tile_above, tile]
    code, out, peak = run_peak_mb(command)
    if code != 0:
        raise SystemExit(f"lpips_memory: the {way} run at {megapixels} MP failed")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = peak
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,3,6", help="megapixels, comma-separated")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--tile-above",
        default="default",
        metavar="MP",
        help="tile images over this many megapixels (default: the network's, 2.1 MP)",
    )
    parser.add_argument(
        "--tile", default="default", metavar="PX", help="core side (default: the network's, 1024)"
    )
    args = parser.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",")]
    fixed = measure(0.01, "whole", args.threads)
    print(f"fixed cost (a 0.01 MP pair): {fixed['peak_mb']:.0f} MB; trunk: {fixed['weights']}")
    header = f"{'MP':>4} {'size':>10} | {'whole MB':>9} {'s':>6} | {'tiled MB':>9} {'s':>6}"
    print(header + " | memory ratio | time ratio | |distance difference|")
    for mp in sizes:
        whole = measure(mp, "whole", args.threads)
        tiled = measure(mp, "tiled", args.threads, args.tile_above, args.tile)
        print(
            f"{mp:4g} {whole['size']:>10} | {whole['peak_mb']:9.0f} {whole['seconds']:6.1f} | "
            f"{tiled['peak_mb']:9.0f} {tiled['seconds']:6.1f} | "
            f"{tiled['peak_mb'] / whole['peak_mb']:12.2f} | "
            f"{tiled['seconds'] / whole['seconds']:10.2f} | "
            f"{abs(tiled['distance'] - whole['distance']):.1e}"
        )
        if not math.isfinite(tiled["distance"]):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
