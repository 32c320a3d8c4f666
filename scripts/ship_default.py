"""Ship a checkpoint of the default model's training as the package's ``default`` weights.

    python scripts/ship_default.py runs/default_v5/checkpoints/last.ckpt

writes the checkpoint's weight average (EMA) to ``src/deblurgan/weights/default.safetensors``
with its recipe (the run's ``config.yaml``), step, validation figures and training command in
the metadata (``deblur models`` shows them). The weights it replaces are first kept as
``benchmarks/baselines/default_v1.safetensors`` (once: an existing copy is never replaced), so
``benchmarks/validation_views.py`` and the model card keep measuring the new model against the
old one in the same run. Refuses a file over 20 MB (issue 12's limit for the package).

A nafnet is shipped with TLC off (``--tlc off``, the default; ``on`` or ``run`` keeps the
run's setting otherwise): the runs before 2026-12-06 recorded ``tlc: true``, and the global pool
measured better on whole frames (``benchmarks/tlc_effect.py``; the nafnet module's docstring).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "src" / "deblurgan" / "weights" / "default.safetensors"
OLD = ROOT / "benchmarks" / "baselines" / "default_v1.safetensors"
LIMIT = 20_000_000
COMMAND = "make data && make train-default  (bash scripts/train_default.sh, resumable)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="a last.ckpt / best.ckpt of the run")
    parser.add_argument("--out", type=Path, default=SHIPPED, help="the shipped weights file")
    parser.add_argument("--keep-old", type=Path, default=OLD, help="where the old ones go")
    parser.add_argument(
        "--tlc",
        choices=("off", "on", "run"),
        default="off",
        help="a nafnet's test-time local statistics: off (default, measured), on, or the run's",
    )
    args = parser.parse_args(argv)
    from omegaconf import OmegaConf

    from deblurgan.training.fit import export_checkpoint

    config = args.checkpoint.resolve().parent.parent / "config.yaml"
    if not config.is_file():
        print(f"ship_default: error: {config}: the run's config is missing", file=sys.stderr)
        return 1
    recipe = OmegaConf.to_container(OmegaConf.load(config), resolve=False)
    assert isinstance(recipe, dict)
    keep = {k: recipe.get(k) for k in ("generator", "content", "optim", "data", "trainer", "seed")}
    settings = {}
    generator = keep.get("generator")
    if args.tlc != "run" and isinstance(generator, dict) and generator.get("name") == "nafnet":
        settings["tlc"] = args.tlc == "on"
        keep["generator"] = {**generator, **settings}
    if args.out.is_file() and not args.keep_old.is_file():
        args.keep_old.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.out, args.keep_old)
        print(
            f"ship_default: kept the old weights as {args.keep_old}: commit it with the new ones"
            " (benchmarks/validation_views.py and the model card compare against it)"
        )
    staged = args.out.with_name(args.out.name + ".staged.safetensors")
    export_checkpoint(
        args.checkpoint, staged, keep, meta={"command": COMMAND}, generator_settings=settings
    )
    size = staged.stat().st_size
    if size > LIMIT:
        staged.unlink()
        print(f"ship_default: error: {size} bytes is over the {LIMIT} limit", file=sys.stderr)
        return 1
    staged.replace(args.out)
    print(f"ship_default: wrote {args.out} ({size / 1e6:.1f} MB) from {args.checkpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
