"""Peak memory of ``deblur`` per megapixel with the shipped model: it sets the default pixel limit.

Each size runs ``deblur IMAGE -o OUT`` (the command a user types: read, pad, tile, restore,
write) in a fresh process, and reads that process's peak resident set size (``ru_maxrss``, from
``os.wait4``). A tiny image gives the fixed cost (Python, torch, the model); the slope between
the two largest sizes gives the memory per megapixel, which the whole-image buffers (the decoded
pixels, the float tensors in and out, the tile blending weights, the encoded output) dominate;
above one tile the model's own workspace is a constant (one tile at a time). The limit printed
is the largest image whose peak, on the line through the two largest sizes, fits ``--budget-mb``
(default 5400: an 8 GB machine, 2.6 GB left to the system and desktop), and the peak predicted
at the package's default limit (``deblurgan.io.DEFAULT_MAX_PIXELS``). ``deblur --help`` quotes
these numbers (``MB_PER_MEGAPIXEL`` and ``FIXED_MB`` in ``deblurgan.cli.restore``).

    python benchmarks/memory_per_megapixel.py                    # 4, 16 and 36 MP, 2 threads
    python benchmarks/memory_per_megapixel.py --sizes 4,16 --format png
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image


def _photo(path: Path, megapixels: float, rng: np.random.Generator) -> tuple[int, int]:
    """A 4:3 image of smooth gradients and noise (compresses like a photo, not like a flat fill)."""
    width = round(math.sqrt(megapixels * 1e6 * 4 / 3))
    height = round(width * 3 / 4)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    base = np.concatenate([x * np.ones_like(y), y * np.ones_like(x), (x + y) / 2], axis=2)
    noise = rng.integers(0, 24, size=(height, width, 3), dtype=np.uint8)
    pixels = (base * 230).astype(np.uint8) + noise
    Image.fromarray(pixels).save(path, quality=92)
    return width, height


def run_peak_mb(command: list[str], env: dict[str, str] | None = None) -> tuple[int, str, float]:
    """Run ``command`` in a fresh process: ``(exit code, its stdout, its peak RSS in MB)``.

    The peak is the child's ``ru_maxrss`` from ``os.wait4`` (kB on Linux, bytes on macOS).
    """
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return os.waitstatus_to_exitcode(status), out, kib / 1024


def _peak_mb(image: Path, out: Path, threads: int) -> float:
    """Peak RSS (MB) of one ``deblur`` process restoring ``image``."""
    command = [sys.executable, "-m", "deblurgan", str(image), "-o", str(out), "-q", "-f"]
    command += ["--device", "cpu", "--threads", str(threads), "--no-max-pixels"]
    code, _, peak = run_peak_mb(command, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    if code != 0:
        raise SystemExit(f"deblur failed on {image} (exit {code})")
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,16,36", help="megapixels, comma-separated")
    parser.add_argument("--format", choices=("jpg", "png"), default="jpg")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--budget-mb", type=float, default=5400.0)
    args = parser.parse_args()
    sizes = sorted(float(s) for s in args.sizes.split(","))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        tiny = root / f"tiny.{args.format}"
        _photo(tiny, 0.01, rng)
        fixed = _peak_mb(tiny, root / f"tiny_out.{args.format}", args.threads)
        print(f"fixed cost (0.01 MP image): peak {fixed:.0f} MB")
        peaks = []
        for megapixels in sizes:
            source = root / f"{megapixels:g}mp.{args.format}"
            width, height = _photo(source, megapixels, rng)
            peak = _peak_mb(source, root / f"{megapixels:g}mp_out.{args.format}", args.threads)
            mp = width * height / 1e6
            peaks.append((mp, peak))
            print(
                f"{width}x{height} ({mp:.1f} MP): peak {peak:.0f} MB, "
                f"{(peak - fixed) / mp:.0f} MB per MP above the fixed cost"
            )
    if len(peaks) < 2:
        raise SystemExit("give at least two --sizes")
    (mp_small, peak_small), (mp_large, peak_large) = peaks[-2], peaks[-1]
    slope = (peak_large - peak_small) / (mp_large - mp_small)
    intercept = peak_large - slope * mp_large
    limit = (args.budget_mb - intercept) / slope
    print(
        f"memory per megapixel: {slope:.0f} MB between {mp_small:.0f} and {mp_large:.0f} MP "
        f"(peak = {intercept:.0f} MB + {slope:.0f} MB x MP)"
    )
    from deblurgan.io import DEFAULT_MAX_PIXELS

    default_mp = DEFAULT_MAX_PIXELS / 1e6
    print(f"largest image within {args.budget_mb:.0f} MB: {limit:.0f} MP")
    print(
        f"at the default limit ({default_mp:.0f} MP): peak near "
        f"{intercept + default_mp * slope:.0f} MB; at 200 MP near {intercept + 200 * slope:.0f} MB"
    )


if __name__ == "__main__":
    main()
