"""Three validation views of deblurring models that predict real blur, printed by one command.

Each view scores every model against the blurry input (``identity``) and against an in-run
baseline model (``--baseline``, the shipped ``default`` unless told), measured in the same run,
through ``deblur eval`` (:func:`deblurgan.cli.evaluate.eval_main`): this script builds argument
lists and reads the results, it has no evaluation loop of its own.

(a) ``synthetic``: the realistic synthetic protocol of ``deblur eval --format synthetic`` on
    held-out photos (``data/train_photos/test`` of ``make data``; ``--photos`` names another
    folder, e.g. ``.../val`` to choose checkpoints): PSNR, SSIM and LPIPS (when its weights are
    fetched), and the evaluation's own table by blur size when it reports one.
(b) ``lai``: Lai et al.'s (CVPR 2016) uniform set, real photos blurred by 4 camera-shake kernels
    recorded on real cameras (31 to 75 px): 60 pairs ``blur/X`` - ``sharp/X`` at full size, with
    shift-tolerant PSNR and SSIM. The blur is centred on the kernel's centre, but a kernel's mass
    is not: a blind restoration lands near the kernel's centroid, up to 7.1 px away here, so the
    best integer shift within ``--shift`` px is scored (default: the largest centroid offset of
    ``kernels/``, rounded up, plus 2 px: 10). Also the gain per kernel. ``--lai-oracle`` adds
    Wiener deconvolution with each pair's true kernel, what a known kernel allows on the same
    pairs and protocol (+6.0 dB at NSR 3e-3: +7.8, +5.8, +6.6, +4.0 dB by kernel).
    ``--lai-blind`` adds blind deconvolution (``deblur eval --method blind``: each photo's kernel
    estimated from the photo, :mod:`deblurgan.blur.blind`, then Wiener at NSR 1e-2), given a
    kernel support of ``K`` px (default 75, the side of the set's largest kernel file: a user of
    ``deblur deconv --blind`` gives an upper bound of the blur too): +2.15 dB (+3.4, +3.6, +2.0,
    -0.4 dB by kernel), against +0.03 dB for the old default.
(c) ``real``: real blurred photos with no sharp partner (``real_blur/``, 129): each model's
    output scored against MAXIM-3S's output on the same crop: a proxy, not a ground truth.
    PSNR against the proxy rewards changing nothing (MAXIM's output is within about 33 dB of
    its input), so the view also scores each output against its input: ``smoothed``, the share
    of the input's textured 16 px blocks left with under half their fine detail, and
    ``sharpened``, the share given over twice it (:mod:`deblurgan.metrics.detail`); MAXIM's
    own figures are the ``(reference)`` row. A deblurring model sharpens and smooths almost
    nothing: MAXIM smooths 0.1 % of the blocks of all 128 photos and sharpens 40 %.
    ``recoloured`` is the colour shift against the input (:mod:`deblurgan.metrics.colour`: the
    CIELAB chroma distance of 32 px blocks' mean colours, Delta E*ab; 2.3 is just noticeable);
    ``colour_shift`` in every view is the same against the view's reference.
    The photos are downscaled so that their longer side is at most ``--real-max-side`` px
    (default 640; 0 keeps them as shot) and cropped at the centre to ``--real-crop`` px (default
    256; smaller photos keep their short side). As shot (0.5 to 1.4 MP), their blur is often
    longer than anything in GoPro and MAXIM leaves it (it returns the input within 40 dB); at
    640 px the blur is in MAXIM's range and it sharpens. MAXIM is slow on a CPU (about 25 s per
    256 px crop on 2 idle cores: about 55 minutes for all 129 the first time), so its outputs
    are cached, keyed by the photo's content, the crop settings and the MAXIM weights
    (``--cache``); ``--fill-cache`` only fills it.

Usage:
    python benchmarks/validation_views.py                               # the shipped default
    python benchmarks/validation_views.py -m runs/x/generator.safetensors --json views.json
    python benchmarks/validation_views.py --views lai --lai-limit 8      # a quick look
    python benchmarks/validation_views.py --views lai --lai-oracle       # and a true-kernel Wiener
    python benchmarks/validation_views.py --views lai --lai-blind        # and blind deconvolution
    python benchmarks/validation_views.py --fill-cache                   # MAXIM's outputs, once
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
VIEWS = ("synthetic", "lai", "real")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: Fine detail lost and added (deblurgan.metrics.detail), against each view's reference.
DETAIL = ["detail_lost", "detail_added"]
#: Colour shift (deblurgan.metrics.colour), Delta E*ab of block colours, against each reference.
COLOUR = ["colour_shift"]
#: What the views score against a reference beside PSNR and SSIM (and, in (c), the input).
LOCAL = [*DETAIL, *COLOUR]
#: View (c) scores them against the input too: what a model smooths away, and what it sharpens.
AGAINST_INPUT = {
    "detail_lost": "smoothed",
    "detail_added": "sharpened",
    "colour_shift": "recoloured",
}
#: Bump when the way crops or MAXIM's outputs are made changes: old cache entries are then unused.
CACHE_VERSION = 1
TITLES = {
    "synthetic": "(a) realistic synthetic blur on held-out photos",
    "lai": "(b) Lai et al. 2016: real camera-shake kernels on real photos, shift-tolerant",
    "real": "(c) real blurred photos, scored against MAXIM-3S's output (a proxy)",
}


# ------------------------------------------------------------------------------ pieces
def lai_pairs(root: Path) -> list[tuple[Path, Path]]:
    """``[(blur/X, sharp/X), ...]`` of a Lai-style folder, sorted; unpaired files are an error.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> for side in ("blur", "sharp"):
        ...     (root / side).mkdir()
        ...     (root / side / "a_kernel_01.png").touch()
        >>> [(b.name, s.parent.name) for b, s in lai_pairs(root)]
        [('a_kernel_01.png', 'sharp')]
    """
    blur = {p.name: p for p in _images(root / "blur")}
    sharp = {p.name: p for p in _images(root / "sharp")}
    if not blur:
        raise ValueError(f"{root}/blur: no images")
    unpaired = sorted(set(blur) ^ set(sharp))
    if unpaired:
        raise ValueError(f"{root}: unpaired files: {', '.join(unpaired[:5])}")
    return [(blur[name], sharp[name]) for name in sorted(blur)]


def kernel_id(name: str) -> str:
    """The kernel of a Lai item name: ``"manmade_02_kernel_03"`` -> ``"kernel_03"``.

    Example:
        >>> kernel_id("manmade_02_kernel_03"), kernel_id("other")
        ('kernel_03', '?')
    """
    stem = Path(name).stem
    return "kernel_" + stem.rsplit("_kernel_", 1)[1] if "_kernel_" in stem else "?"


def kernel_centroid_offset(kernel: Any) -> float:
    """Largest |offset| (px, either axis) of a kernel's centroid from its centre pixel.

    Example:
        >>> import numpy as np
        >>> k = np.zeros((5, 5)); k[2, 4] = 1.0
        >>> kernel_centroid_offset(k)
        2.0
    """
    import numpy as np

    k = np.asarray(kernel, dtype=np.float64)
    k = k / k.sum()
    ys, xs = np.mgrid[: k.shape[0], : k.shape[1]]
    cy, cx = float((k * ys).sum()), float((k * xs).sum())
    return max(abs(cy - k.shape[0] // 2), abs(cx - k.shape[1] // 2))


def lai_shift(kernels: Path, margin: int = 2) -> tuple[int, float, dict[str, int]]:
    """Lai's shift window here: ``(ceil(largest centroid offset) + margin, that offset, sizes)``.

    ``sizes`` maps each kernel id to its side in pixels.
    """
    import numpy as np
    from PIL import Image

    offsets, sizes = [], {}
    for path in _images(kernels):
        with Image.open(path) as image:
            array = np.asarray(image.convert("L"), dtype=np.float64)
        offsets.append(kernel_centroid_offset(array))
        sizes[path.stem] = int(array.shape[0])
    if not offsets:
        raise ValueError(f"{kernels}: no kernel images")
    largest = max(offsets)
    return math.ceil(largest) + margin, largest, sizes


def oracle_layout(root: Path, pairs: Sequence[tuple[Path, Path]], out: Path) -> Path:
    """Lai's pairs in ``deblur eval``'s true-kernel layout: ``out/{blur,sharp,kernel}/NAME``.

    Links, not copies; each pair's kernel is ``root/kernels/kernel_0k.png`` of its name.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> for sub in ("blur", "sharp", "kernels"):
        ...     (root / sub).mkdir()
        >>> for path in ("blur/a_kernel_02.png", "sharp/a_kernel_02.png", "kernels/kernel_02.png"):
        ...     (root / path).touch()
        >>> out = oracle_layout(root, lai_pairs(root), root / "oracle")
        >>> sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
        ['blur/a_kernel_02.png', 'kernel/a_kernel_02.png', 'sharp/a_kernel_02.png']
        >>> (out / "kernel" / "a_kernel_02.png").resolve().name
        'kernel_02.png'
    """
    for blurry, sharp in pairs:
        for folder, source in (("blur", blurry), ("sharp", sharp)):
            (out / folder).mkdir(parents=True, exist_ok=True)
            (out / folder / blurry.name).symlink_to(source.resolve())
        kernel = root / "kernels" / f"{kernel_id(blurry.name)}.png"
        (out / "kernel").mkdir(parents=True, exist_ok=True)
        (out / "kernel" / blurry.name).symlink_to(kernel.resolve())
    return out


def real_photos(root: Path) -> list[tuple[str, Path]]:
    """``[(name, path), ...]`` of the real blurred photos under ``root`` (any depth), sorted.

    The name is ``<folder>__<stem>``, unique across the sub-folders.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "lai_real").mkdir()
        >>> (root / "lai_real" / "boat.jpg").touch()
        >>> (root / "lai_real" / "attribute.txt").touch()
        >>> [name for name, _ in real_photos(root)]
        ['lai_real__boat']
    """
    out = []
    for path in _images(root, recursive=True):
        folder = path.parent.name if path.parent != root else "real"
        out.append((f"{folder}__{path.stem}", path))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ValueError(f"{root}: two photos share a folder and a stem")
    return out


@dataclass(frozen=True)
class CropSettings:
    """How a real photo becomes the crop every method sees: downscale, then centre crop.

    ``max_side``: the longer side after downscaling (never upscaled; 0: as shot).
    """

    max_side: int = 640
    crop: int = 256

    def describe(self) -> str:
        where = "as shot" if not self.max_side else f"longer side <= {self.max_side} px"
        return f"{where}, centre {self.crop} px crop"


def cache_key(photo_digest: str, settings: CropSettings, reference_id: str) -> str:
    """The cache file stem of a reference output: content, crop settings and reference weights.

    Example:
        >>> a = cache_key("ab" * 32, CropSettings(640, 256), "maxim:1234")
        >>> a == cache_key("ab" * 32, CropSettings(640, 256), "maxim:1234"), len(a)
        (True, 32)
        >>> a == cache_key("ab" * 32, CropSettings(0, 256), "maxim:1234")
        False
    """
    text = json.dumps(
        [CACHE_VERSION, photo_digest, settings.max_side, settings.crop, reference_id],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def centre_crop(rgb: Any, settings: CropSettings) -> Any:
    """Downscale ``(3, H, W)`` to ``settings.max_side`` (antialiased), crop the centre, 8 bits.

    Example:
        >>> import torch
        >>> centre_crop(torch.rand(3, 40, 60), CropSettings(30, 16)).shape
        torch.Size([3, 16, 16])
        >>> centre_crop(torch.rand(3, 10, 60), CropSettings(0, 16)).shape
        torch.Size([3, 10, 10])
    """
    import torch
    import torch.nn.functional as F

    height, width = rgb.shape[-2:]
    if settings.max_side and max(height, width) > settings.max_side:
        factor = settings.max_side / max(height, width)
        size = (max(1, round(height * factor)), max(1, round(width * factor)))
        rgb = F.interpolate(rgb[None], size=size, mode="bilinear", antialias=True)[0]
    height, width = rgb.shape[-2:]
    side = min(settings.crop, height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = rgb[:, top : top + side, left : left + side].clamp(0, 1)
    return torch.round(crop * 255) / 255  # what the PNG on disk holds


def format_view(
    title: str,
    summary: dict[str, dict[str, float]],
    metrics: Sequence[str],
    *,
    labels: dict[str, str],
    baseline: str | None,
    seconds: float | None = None,
    markdown: bool = False,
) -> str:
    """A compact table: each method's count and metrics, its gain over the input and baseline
    (``markdown``: the title in bold above a Markdown table, for a model card).

    ``summary`` maps a method to ``{metric: mean, "count": n}`` (``deblur eval --json``); the
    blurry input is the method ``identity``.

    Example:
        >>> summary = {"identity": {"psnr": 25.0, "ssim": 0.7, "count": 2},
        ...            "default": {"psnr": 25.5, "ssim": 0.72, "count": 2},
        ...            "new": {"psnr": 26.5, "ssim": 0.75, "count": 2}}
        >>> print(format_view("(x) view", summary, ["psnr", "ssim"], labels={},
        ...                   baseline="default"))
        (x) view
          method        n  psnr   ssim    psnr gain  ssim gain  psnr vs default
          blurry input  2  25.00  0.7000
          default       2  25.50  0.7200  +0.50      +0.0200
          new           2  26.50  0.7500  +1.50      +0.0500    +1.00
    """
    head = title if seconds is None else f"{title}  [{seconds:.0f} s]"
    gains = [m for m in metrics if m in ("psnr", "ssim")]
    headers = ["method", "n", *metrics, *(f"{m} gain" for m in gains)]
    show_base = baseline is not None and baseline in summary and len(summary) > 2
    if show_base:
        headers.append(f"psnr vs {labels.get(str(baseline), baseline)}")
    rows = []
    reference = summary.get("identity", {})
    for method, scores in summary.items():
        cells = [labels.get(method, "blurry input" if method == "identity" else method)]
        cells.append(str(int(scores.get("count", 0))))
        cells += [_number(m, scores.get(m)) for m in metrics]
        for m in gains:
            cells.append(_gain(m, scores.get(m), reference.get(m), method == "identity"))
        if show_base:
            base = summary[str(baseline)].get("psnr")
            same = method in ("identity", baseline)
            cells.append(_gain("psnr", scores.get("psnr"), base, same))
        rows.append(cells)
    if markdown:
        return f"**{head}**\n\n{render_table(headers, rows, markdown=True)}"
    return f"{head}\n{render_table(headers, rows)}"


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool = False
) -> str:
    """Columns padded to their widest cell and indented by two spaces, or a Markdown table.

    Example:
        >>> print(render_table(["a", "bb"], [["1", "+0.5"]]))
          a  bb
          1  +0.5
        >>> print(render_table(["a", "bb"], [["1", "+0.5"]], markdown=True))
        | a | bb |
        |---|---|
        | 1 | +0.5 |
    """
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    return "\n".join(
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [headers, *rows]
    )


def format_groups(
    title: str,
    groups: dict[str, dict[str, Any]],
    metric: str,
    labels: dict[str, str],
    *,
    markdown: bool = False,
) -> str:
    """Mean ``metric`` per group (rows) and method (columns), and each method's gain.

    ``groups`` maps a label to ``{"items": n, "methods": {method: {metric: mean}}}``.

    Example:
        >>> groups = {"kernel_01 (31 px)": {"items": 15, "methods": {
        ...     "identity": {"psnr": 20.0}, "default": {"psnr": 20.4}}}}
        >>> print(format_groups("by kernel", groups, "psnr", {}))
          by kernel          n   blurry input  default  gain
          kernel_01 (31 px)  15  20.00         20.40    +0.40
    """
    methods = list(dict.fromkeys(m for g in groups.values() for m in g["methods"]))
    headers = [title, "n"]
    for method in methods:
        headers.append(labels.get(method, "blurry input" if method == "identity" else method))
        if method != "identity" and "identity" in methods:
            headers.append("gain" if len(methods) == 2 else f"{headers[-1]} gain")
    rows = []
    for label, group in groups.items():
        cells = [label, str(group["items"])]
        reference = group["methods"].get("identity", {}).get(metric)
        for method in methods:
            value = group["methods"].get(method, {}).get(metric)
            cells.append(_number(metric, value))
            if method != "identity" and "identity" in methods:
                cells.append(_gain(metric, value, reference, False))
        rows.append(cells)
    return render_table(headers, rows, markdown=markdown)


def group_rows(
    rows: Sequence[dict[str, str]], group_of: Any, metric: str
) -> dict[str, dict[str, Any]]:
    """Group per-image CSV rows (``deblur eval --csv``) by ``group_of(name)``: mean ``metric``.

    Example:
        >>> rows = [{"method": "identity", "name": "a_kernel_01", "psnr": "20"},
        ...         {"method": "identity", "name": "b_kernel_01", "psnr": "22"}]
        >>> group_rows(rows, kernel_id, "psnr")
        {'kernel_01': {'items': 2, 'methods': {'identity': {'psnr': 21.0}}}}
    """
    out: dict[str, dict[str, Any]] = {}
    values: dict[str, dict[str, list[float]]] = {}
    names: dict[str, set[str]] = {}
    for row in rows:
        if not row.get(metric):
            continue
        label = group_of(row["name"])
        values.setdefault(label, {}).setdefault(row["method"], []).append(float(row[metric]))
        names.setdefault(label, set()).add(row["name"])
    for label in sorted(values):
        methods = {m: {metric: math.fsum(v) / len(v)} for m, v in values[label].items()}
        out[label] = {"items": len(names[label]), "methods": methods}
    return out


def group_order(label: str) -> tuple[float, str]:
    """Sort key of group labels: by the first number in them (``"< 8 px"`` first), then text.

    Example:
        >>> sorted([">= 64 px", "8-16 px", "< 8 px", "32-64 px"], key=group_order)
        ['< 8 px', '8-16 px', '32-64 px', '>= 64 px']
    """
    import re

    match = re.search(r"\d+(\.\d+)?", label)
    if match is None:
        return (math.inf, label)
    value = float(match.group())
    return (value - 0.5 if label.lstrip().startswith("<") else value, label)


def _number(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric in COLOUR or metric == AGAINST_INPUT["colour_shift"]:
        return f"{value:.2f}"
    if metric in DETAIL or metric in AGAINST_INPUT.values():
        return f"{100 * value:.1f}%"
    return f"{value:.2f}" if metric.startswith("psnr") else f"{value:.4f}"


def _gain(metric: str, value: float | None, reference: float | None, blank: bool) -> str:
    if blank or value is None or reference is None:
        return ""
    return f"{value - reference:+.2f}" if metric.startswith("psnr") else f"{value - reference:+.4f}"


def _images(folder: Path, recursive: bool = False) -> list[Path]:
    if not folder.is_dir():
        return []
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


# ------------------------------------------------------------------------------ running
@dataclass
class ViewResult:
    """What one view measured: the per-method summary, groups, settings and time."""

    name: str
    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    group_title: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def run_eval(argv: Sequence[str], work: Path, *, verbose: bool = False) -> tuple[int, dict, list]:
    """``deblur eval ARGV --json --csv`` into ``work``: ``(exit code, JSON summary, CSV rows)``."""
    from deblurgan.cli.evaluate import eval_main

    json_path, csv_path = work / "summary.json", work / "rows.csv"
    for old in (json_path, csv_path):
        old.unlink(missing_ok=True)
    full = [*argv, "--json", str(json_path), "--csv", str(csv_path), "--force"]
    if not verbose:
        full.append("-q")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed if not verbose else sys.stderr):
        try:
            code = eval_main(full)
        except SystemExit as exc:  # argparse: a usage error
            code = int(exc.code or 2)
    summary = json.loads(json_path.read_text()) if json_path.is_file() else {}
    rows = list(csv.DictReader(csv_path.open(newline=""))) if csv_path.is_file() else []
    return code, summary, rows


def _methods_argv(models: Sequence[str]) -> list[str]:
    return ["--method", "identity", *[a for m in models for a in ("-m", m)]]


def view_synthetic(args: argparse.Namespace, models: list[str], work: Path) -> ViewResult:
    from deblurgan.models.fetch import lpips_weight_files

    view = ViewResult("synthetic")
    metrics = ["psnr", "ssim", *LOCAL] + (["lpips"] if lpips_weight_files("vgg") else [])
    if "lpips" not in metrics:
        view.notes.append("lpips left out: run 'deblur weights fetch lpips'")
    argv = ["--data", str(args.photos), "--format", "synthetic", "--crop-size", str(args.crop_size)]
    argv += ["--seed", str(args.seed), "--metrics", ",".join(metrics), "--warmup", "0"]
    argv += ["--threads", str(args.threads), "--device", args.device]
    if args.synthetic_limit:
        argv += ["--limit", str(args.synthetic_limit)]
    argv += [*args.eval_arg, *_methods_argv(models)]
    view.settings = {
        "photos": str(args.photos),
        "crop_size": args.crop_size,
        "seed": args.seed,
        "limit": args.synthetic_limit,
        "eval_args": list(args.eval_arg),
    }
    if not args.photos.is_dir():
        view.error = f"{args.photos}: no such folder; run `make data`"
        return view
    code, summary, _ = run_eval(argv, work, verbose=args.verbose)
    view.summary = summary.get("methods", {})
    view.settings["protocol"] = summary.get("protocol", {}).get("dataset", {})
    if summary.get("by_blur_size"):
        view.groups, view.group_title = summary["by_blur_size"], "blur size"
    if code != 0 or not view.summary:
        view.error = f"deblur eval exited with {code}"
    view.notes += summary.get("notes", []) + summary.get("skipped", [])
    return view


def view_lai(args: argparse.Namespace, models: list[str], work: Path) -> ViewResult:
    view = ViewResult("lai")
    try:
        pairs = lai_pairs(args.lai)
        shift, offset, sizes = lai_shift(args.lai / "kernels")
    except ValueError as exc:
        view.error = str(exc)
        return view
    if args.shift is not None:
        shift = args.shift
    data = args.lai
    if args.lai_oracle is not None:
        data = oracle_layout(args.lai, pairs, work / "lai_oracle")
    argv = [
        "--data",
        str(data),
        "--shift",
        str(shift),
        "--metrics",
        ",".join(["psnr", "ssim", *LOCAL]),
    ]
    argv += ["--warmup", "0", "--threads", str(args.threads), "--device", args.device]
    if args.lai_limit:
        argv += ["--limit", str(args.lai_limit)]
    argv += _methods_argv(models)
    if args.lai_oracle is not None:
        argv += ["--method", "wiener", "--nsr", f"{args.lai_oracle:g}"]
    if args.lai_blind is not None:
        argv += ["--method", "blind", "--blind-kernel-size", str(args.lai_blind)]
    view.settings = {
        "root": str(args.lai),
        "pairs": len(pairs),
        "shift": shift,
        "largest_centroid_offset_px": round(offset, 2),
        "kernel_px": sizes,
        "limit": args.lai_limit,
    }
    code, summary, rows = run_eval(argv, work, verbose=args.verbose)
    view.summary = summary.get("methods", {})
    if code != 0 or not view.summary:
        view.error = f"deblur eval exited with {code}"
    by_kernel = group_rows(rows, kernel_id, "psnr")
    view.groups = {f"{k} ({sizes.get(k, '?')} px)": g for k, g in by_kernel.items()}
    view.group_title = "kernel"
    shifts = [
        max(abs(int(r["shift_dy"])), abs(int(r["shift_dx"])))
        for r in rows
        if r.get("shift_dy") not in (None, "") and r["method"] != "identity"
    ]
    if shifts and max(shifts) >= shift:
        at_edge = sum(s >= shift for s in shifts)
        view.notes.append(
            f"{at_edge} restored image(s) aligned at the edge of the +-{shift} window"
        )
    view.notes += summary.get("skipped", [])
    return view


def reference_id(reference: str) -> str:
    """``name:sha256[:16]`` of the reference's weights file (a cache key part)."""
    from deblurgan.io.download import sha256_file
    from deblurgan.models.weights import generator_weights_path

    path = Path(reference) if Path(reference).is_file() else generator_weights_path(reference)
    return f"{Path(reference).stem}:{sha256_file(path)[:16]}"


def fill_reference_cache(
    photos: Sequence[tuple[str, Path]], settings: CropSettings, args: argparse.Namespace
) -> dict[str, Path]:
    """Make sure the reference's output of every photo's crop is cached; name -> cached PNG."""
    from deblurgan.io import read_image, write_image

    cache = args.cache / "real_reference"
    cache.mkdir(parents=True, exist_ok=True)
    ref_id = reference_id(args.reference)
    from deblurgan.io.download import sha256_file

    files = {
        name: cache / f"{cache_key(sha256_file(p), settings, ref_id)}.png" for name, p in photos
    }
    missing = [(name, path) for name, path in photos if not files[name].is_file()]
    if missing:
        import torch

        from deblurgan.inference import Deblurrer
        from deblurgan.models.weights import load_generator

        torch.set_num_threads(args.threads)
        deblurrer = Deblurrer(load_generator(args.reference), device=args.device)
        started = time.perf_counter()
        for i, (name, path) in enumerate(missing, 1):
            crop = centre_crop(read_image(path, max_pixels=None).rgb, settings)
            with torch.no_grad():
                restored = deblurrer(crop[None])[0].clamp(0, 1)
            write_image(files[name], restored)
            spent = time.perf_counter() - started
            left = spent / i * (len(missing) - i)
            print(
                f"  {args.reference} {i}/{len(missing)} {name}: {spent:.0f} s, about "
                f"{left / 60:.0f} min left",
                file=sys.stderr,
            )
    return files


def view_real(args: argparse.Namespace, models: list[str], work: Path) -> ViewResult:
    from deblurgan.io import read_image, write_image

    view = ViewResult("real")
    settings = CropSettings(args.real_max_side, args.real_crop)
    photos = real_photos(args.real)
    if not photos:
        view.error = f"{args.real}: no photos"
        return view
    if args.real_limit:
        photos = photos[: args.real_limit]
    view.settings = {
        "root": str(args.real),
        "photos": len(photos),
        "reference": args.reference,
        "crops": settings.describe(),
        "cache": str(args.cache),
    }
    try:
        references = fill_reference_cache(photos, settings, args)
    except (OSError, ValueError) as exc:
        view.error = f"reference {args.reference}: {exc}"
        return view
    pairs = work / "real_pairs"
    for name, path in photos:  # blur/ = the crop every method sees, sharp/ = the reference
        write_image(pairs / "blur" / f"{name}.png", centre_crop(read_image(path).rgb, settings))
        (pairs / "sharp").mkdir(parents=True, exist_ok=True)
        (pairs / "sharp" / f"{name}.png").write_bytes(references[name].read_bytes())
    common = ["--warmup", "0", "--threads", str(args.threads), "--device", args.device]
    common += _methods_argv(models)
    argv = ["--data", str(pairs), "--metrics", ",".join(["psnr", "ssim", *LOCAL]), *common]
    code, summary, rows = run_eval(argv, work, verbose=args.verbose)
    view.summary = summary.get("methods", {})
    if code != 0 or not view.summary:
        view.error = f"deblur eval exited with {code}"
    # Against the input itself (sharp/ = blur/): what each model smooths away or sharpens.
    against_input = work / "against_input"
    for folder in ("blur", "sharp"):
        (against_input / folder).mkdir(parents=True)
        for crop in (pairs / "blur").iterdir():
            (against_input / folder / crop.name).write_bytes(crop.read_bytes())
    argv = ["--data", str(against_input), "--metrics", ",".join(LOCAL), *common]
    scores_dir = work / "against_input_scores"
    scores_dir.mkdir()
    code, summary, _ = run_eval(argv, scores_dir, verbose=args.verbose)
    if code != 0 or not summary.get("methods"):
        view.error = view.error or f"deblur eval (against the input) exited with {code}"
    for method, scores in summary.get("methods", {}).items():
        into = view.summary.setdefault(method, {})
        into.update({AGAINST_INPUT[m]: scores[m] for m in LOCAL if m in scores})
    view.summary[f"{Path(args.reference).stem} (reference)"] = reference_detail(photos, pairs)
    view.notes.append(
        f"detail_lost, detail_added: against {args.reference}'s output; smoothed, sharpened: "
        "against the input, the share of 16 px blocks with under half, over twice its fine "
        "detail (deblurgan.metrics.detail); colour_shift, recoloured: Delta E*ab of 32 px "
        "blocks' mean colours against each (deblurgan.metrics.colour)"
    )
    view.groups = group_rows(rows, lambda name: name.split("__", 1)[0], "psnr")
    view.group_title = "folder"
    view.notes += summary.get("skipped", [])
    return view


def reference_detail(photos: Sequence[tuple[str, Path]], pairs: Path) -> dict[str, float]:
    """What the reference (MAXIM-3S) smooths and sharpens of the input, as the models' rows."""
    from deblurgan.inference.evaluation.scoring import score_pair
    from deblurgan.io import read_image

    totals = dict.fromkeys(LOCAL, 0.0)
    for name, _ in photos:
        crop = read_image(pairs / "blur" / f"{name}.png").rgb[None]
        reference = read_image(pairs / "sharp" / f"{name}.png").rgb[None]
        for metric, value in score_pair(reference, crop, LOCAL).items():
            totals[metric] += value
    count = max(1, len(photos))
    return {"count": len(photos), **{AGAINST_INPUT[m]: v / count for m, v in totals.items()}}


RUNNERS = {"synthetic": view_synthetic, "lai": view_lai, "real": view_real}


def build_parser() -> argparse.ArgumentParser:
    from deblurgan.io import cache_dir

    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-m",
        "--model",
        action="append",
        default=[],
        metavar="NAME|PATH",
        help="a model to validate (repeatable; default: default)",
    )
    parser.add_argument(
        "--baseline",
        default="default",
        metavar="NAME|PATH",
        help="in-run baseline model; 'none' for none (default: %(default)s)",
    )
    parser.add_argument(
        "--views",
        default=",".join(VIEWS),
        help=f"comma-separated subset of {', '.join(VIEWS)} (default: all)",
    )
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default: 2)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto (default: cpu)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure here")
    parser.add_argument(
        "--markdown", type=Path, metavar="PATH", help="write the tables as Markdown (model cards)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show deblur eval's output")
    a = parser.add_argument_group("(a) synthetic")
    a.add_argument(
        "--photos",
        type=Path,
        default=REPO / "data" / "train_photos" / "test",
        help="held-out sharp photos (default: data/train_photos/test)",
    )
    a.add_argument(
        "--crop-size", type=int, default=256, help="crop side; 0: whole photos (default: 256)"
    )
    a.add_argument("--synthetic-limit", type=int, metavar="N", help="only the first N items")
    a.add_argument("--seed", type=int, default=0, help="synthetic protocol seed (default: 0)")
    a.add_argument(
        "--eval-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="passed on to deblur eval, e.g. --eval-arg=--frame-width=0",
    )
    b = parser.add_argument_group("(b) lai")
    b.add_argument("--lai", type=Path, default=SHARED / "lai_uniform_val")
    b.add_argument("--shift", type=int, help="shift window (default: from the kernels, 10)")
    b.add_argument("--lai-limit", type=int, metavar="N", help="only the first N pairs")
    b.add_argument(
        "--lai-oracle",
        type=float,
        nargs="?",
        const=3e-3,
        metavar="NSR",
        help="also Wiener deconvolution with each pair's true kernel (an oracle: what a known "
        "kernel allows; noise-to-signal NSR, default 3e-3)",
    )
    b.add_argument(
        "--lai-blind",
        type=int,
        nargs="?",
        const=75,
        metavar="K",
        help="also blind deconvolution, each photo's kernel estimated with a support of K px "
        "(default 75, the set's largest kernel file)",
    )
    c = parser.add_argument_group("(c) real")
    c.add_argument("--real", type=Path, default=SHARED / "real_blur")
    c.add_argument("--real-crop", type=int, default=256, help="centre crop side (default: 256)")
    c.add_argument(
        "--real-max-side",
        type=int,
        default=640,
        help="downscale to this longer side first; 0: as shot (default: 640)",
    )
    c.add_argument("--real-limit", type=int, metavar="N", help="only the first N photos")
    c.add_argument("--reference", default="maxim", help="the proxy's model (default: maxim)")
    c.add_argument(
        "--cache",
        type=Path,
        default=cache_dir() / "validation_views",
        help="where the reference outputs are kept",
    )
    c.add_argument("--fill-cache", action="store_true", help="only fill the reference cache")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    views = [v.strip() for v in args.views.split(",") if v.strip()]
    unknown = [v for v in views if v not in VIEWS]
    if unknown or not views:
        parser.error(f"--views: unknown {unknown}; valid: {', '.join(VIEWS)}")
    bad_crop = args.crop_size != 0 and args.crop_size < 16  # 0: whole photos
    if args.real_max_side < 0 or args.real_crop < 16 or bad_crop:
        parser.error(
            "--real-max-side must be >= 0; --real-crop at least 16; --crop-size 0 (whole photos) "
            "or at least 16"
        )
    import torch

    from deblurgan.cli.shared import unique_names

    torch.set_num_threads(args.threads)
    if args.fill_cache:
        photos = real_photos(args.real)[: args.real_limit or None]
        started = time.perf_counter()
        fill_reference_cache(photos, CropSettings(args.real_max_side, args.real_crop), args)
        print(
            f"{args.reference}: {len(photos)} cached outputs in {args.cache} "
            f"({time.perf_counter() - started:.0f} s)"
        )
        return 0
    models = list(dict.fromkeys(args.model or ["default"]))
    baseline = None if args.baseline.lower() == "none" else args.baseline
    everything = list(dict.fromkeys([*([baseline] if baseline else []), *models]))
    names = dict(zip(everything, unique_names(everything), strict=True))
    labels = {
        names[m]: names[m] + (" (baseline)" if m == baseline and len(everything) > 1 else "")
        for m in everything
    }
    results: list[ViewResult] = []
    sections: list[str] = []  # --markdown: each view's tables
    failed = False
    with tempfile.TemporaryDirectory(prefix="validation-views-") as temporary:
        for name in views:
            work = Path(temporary) / name
            work.mkdir()
            print(f"{TITLES[name]} ...", file=sys.stderr)
            started = time.perf_counter()
            view = RUNNERS[name](args, everything, work)
            view.seconds = time.perf_counter() - started
            results.append(view)
            tables = [
                format_view(
                    TITLES[name],
                    view.summary,
                    _metric_columns(view.summary),
                    labels=labels,
                    baseline=names.get(str(baseline)),
                    seconds=None if markdown else view.seconds,
                    markdown=markdown,
                )
                for markdown in (False, True)
            ]
            print(tables[0])
            shown = [
                f"{k} {v}"
                for k, v in view.settings.items()
                if k not in ("protocol", "kernel_px") and v not in (None, [], "")
            ]
            print(f"    settings: {', '.join(shown)}")
            section = [tables[1], f"Settings: {', '.join(shown)}."]
            if view.groups:
                groups = dict(sorted(view.groups.items(), key=lambda kv: group_order(kv[0])))
                print(format_groups(f"by {view.group_title}", groups, "psnr", labels))
                section.append(
                    format_groups(f"by {view.group_title}", groups, "psnr", labels, markdown=True)
                )
            for note in view.notes:
                print(f"    note: {note}")
                section.append(f"Note: {note}.")
            if view.error:
                failed = True
                print(f"    error: {view.error}")
                section.append(f"**Error: {view.error}.**")
            sections.append("\n\n".join(section))
            print(flush=True)
    if args.markdown is not None:
        from deblurgan.io import atomic_write_text

        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.markdown, "\n\n".join(sections) + "\n")
    if args.json is not None:
        payload = {
            "models": {names[m]: m for m in everything},
            "baseline": names.get(str(baseline)),
            "views": {
                v.name: {
                    "summary": v.summary,
                    "groups": v.groups,
                    "group_by": v.group_title,
                    "settings": v.settings,
                    "seconds": v.seconds,
                    "notes": v.notes,
                    "error": v.error,
                }
                for v in results
            },
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 1 if failed else 0


def _metric_columns(summary: dict[str, dict[str, float]]) -> list[str]:
    known = ("psnr", "ssim", "lpips", *LOCAL, *AGAINST_INPUT.values())
    present = {k for scores in summary.values() for k in scores}
    return [m for m in known if m in present]


if __name__ == "__main__":
    raise SystemExit(main())
