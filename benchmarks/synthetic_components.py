"""What a model's synthetic gain is made of: averaging domain, highlights, noise and JPEG.

The synthetic view (``deblur eval --format synthetic``, ``benchmarks/validation_views.py``)
scores a model on the training pipeline's whole mix: blur averaged in linear light or in gamma
(sRGB) space, boosted highlights that smear into streaks, Poisson-Gaussian noise and JPEG. Part
of a gain there is not deblurring: removing noise and JPEG blocks, and undoing the brightening
that linear-light averaging gives dark areas beside bright ones. This script scores the same
items (same photos, crops, blur and seeds) under three settings of the pipeline, and prints the
gain over the blurry input by averaging domain:

* ``pipeline``: the pipeline's defaults (the synthetic view);
* ``no highlights``: ``highlight_gain`` 1 (clipped highlights stay white, nothing smears);
* ``clean``: no highlights, no noise, no JPEG (8-bit rounding only): the blur alone, as in Lai et
  al.'s pairs and, in gamma space, GoPro's standard ``blur`` folder.

The items are drawn from the same seeds in all three, so the blur of item ``i`` is the same:
only what the three settings change differs (the draws of the settings they turn off still
happen; the seeded stream is unchanged).

    python benchmarks/synthetic_components.py default runs/default_v6/checkpoints/last.ckpt
    python benchmarks/synthetic_components.py default --photos data/train_photos/val --items 96
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # validation_views, beside this script
PHOTOS = REPO / "data" / "train_photos" / "val"
SETTINGS: dict[str, dict[str, Any]] = {
    "pipeline": {},
    "no highlights": {"highlight_gain": (1.0, 1.0)},
    "clean": {"highlight_gain": (1.0, 1.0), "shot_noise": (0.0, 0.0), "jpeg_prob": 0.0},
}


def measure(
    models: list[str],
    photos: Path,
    *,
    items: int | None,
    crop_size: int,
    seed: int,
    threads: int,
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """``{model: {setting: {group: {"items", "input", "model", "gain"}}}}``; groups: the
    averaging domains and ``all``. The models are scored on the same items in one pass."""
    import torch

    from deblurgan.blur.realistic import RealisticDegradation
    from deblurgan.cli.shared import unique_names
    from deblurgan.inference import (
        evaluate,
        generator_method,
        identity_method,
        load_eval_dataset,
    )
    from deblurgan.inference.evaluation import scores_by_averaging

    torch.set_num_threads(threads)
    methods = [
        generator_method(model, name=name, device="cpu")
        for model, name in zip(models, unique_names(models), strict=True)
    ]
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {model: {} for model in models}
    for setting, changes in SETTINGS.items():
        data = load_eval_dataset(
            photos,
            format="synthetic",
            crop_size=crop_size,
            seed=seed,
            length=items,
            degradation=RealisticDegradation(**changes),
        )
        result = evaluate([identity_method(), *methods], data, metrics=["psnr"])
        groups = dict(scores_by_averaging(result, data) or {})
        groups["all"] = {
            "items": len(data),
            "methods": {name: s.scores for name, s in result.summaries.items()},
        }
        for model, method in zip(models, methods, strict=True):
            row = out[model].setdefault(setting, {})
            for label, group in groups.items():
                blurry = group["methods"]["identity"]["psnr"]
                restored = group["methods"][method.name]["psnr"]
                row[label] = {
                    "items": group["items"],
                    "input": blurry,
                    "model": restored,
                    "gain": restored - blurry,
                }
    return out


def format_table(figures: dict[str, dict[str, dict[str, float]]], *, markdown: bool = False) -> str:
    """One row per setting: the gain (dB) for all items and by averaging domain."""
    from validation_views import render_table

    groups = ["all", "linear light", "gamma space"]
    rows = []
    for setting, row in figures.items():
        cells = [setting]
        for group in groups:
            entry = row.get(group)
            cells.append(
                "-" if entry is None else f"{entry['gain']:+.2f} ({int(entry['items'])} items)"
            )
        rows.append(cells)
    return render_table(["setting", *(f"{g} gain" for g in groups)], rows, markdown=markdown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "models", nargs="+", help="model names, generator files or training checkpoints"
    )
    parser.add_argument("--photos", type=Path, default=PHOTOS, help="sharp photos (val split)")
    parser.add_argument(
        "--items", type=int, help="synthetic items (default: one per photo, as deblur eval)"
    )
    parser.add_argument("--crop-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--markdown", type=Path, help="write the tables as Markdown")
    args = parser.parse_args(argv)
    if not args.photos.is_dir():
        print(
            f"synthetic_components: error: {args.photos}: no such folder (make data)",
            file=sys.stderr,
        )
        return 1
    figures = measure(
        args.models,
        args.photos,
        items=args.items,
        crop_size=args.crop_size,
        seed=args.seed,
        threads=args.threads,
    )
    items = next(iter(next(iter(figures.values())).values()))["all"]["items"]
    print(f"PSNR gain over the blurry input, {int(items)} items of {args.photos}")
    for model, table in figures.items():
        print(f"\n{model}")
        print(format_table(table))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.markdown:
        from deblurgan.io import atomic_write_text

        tables = [
            f"**{model}**\n\n{format_table(t, markdown=True)}" for model, t in figures.items()
        ]
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.markdown, "\n\n".join(tables) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
