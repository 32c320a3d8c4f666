"""Does test-time local statistics (TLC) matter for a nafnet model? Scores with it on and off.

NAFNet's channel attention averages each feature map: over a 256 px training crop in training,
over the whole frame at test time unless TLC (Chu et al., ECCV 2022, "Improving Image
Restoration by Revisiting Global Information Aggregation") averages over windows of the training
crop's size instead. This runs the same weights both ways through the validation views of
``benchmarks/validation_views.py`` (whole frames: Lai et al.'s real-kernel photos by default,
which are far larger than the training crops) and prints the two side by side, so the choice
``tlc: true`` in ``configs/generator/nafnet.yaml`` rests on a measurement.

    python benchmarks/tlc_effect.py runs/default_v2/checkpoints/last.ckpt
    python benchmarks/tlc_effect.py src/deblurgan/weights/default.safetensors --views lai,synthetic
    python benchmarks/tlc_effect.py MODEL --views synthetic --crop-size 0   # whole photos

Any other option goes to ``validation_views.py`` as it is (``--crop-size 0`` scores the synthetic
view on whole photos: on its default 256 px crops, the training size, TLC changes nothing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a nafnet generator file or training checkpoint")
    parser.add_argument("--views", default="lai", help="validation views (default: lai)")
    parser.add_argument("--lai-limit", type=int, help="only the first N Lai pairs")
    args, passed_on = parser.parse_known_args(argv)

    import validation_views
    from deblurgan.models import load_generator, save_generator
    from deblurgan.models.generator import arch_spec

    model = load_generator(args.model)
    spec = arch_spec(model)
    if spec.get("name") != "nafnet":
        parser.error(f"{args.model}: a {spec.get('name')} model; TLC is nafnet's")
    with tempfile.TemporaryDirectory(prefix="tlc-") as folder:
        paths = []
        for tlc in (True, False):
            model.tlc = tlc
            model.arch_spec = {**spec, "tlc": tlc}
            path = Path(folder) / f"tlc_{'on' if tlc else 'off'}.safetensors"
            paths.append(str(save_generator(model, path)))
        views_argv = ["--views", args.views, "--baseline", "none"]
        for path in paths:
            views_argv += ["-m", path]
        if args.lai_limit:
            views_argv += ["--lai-limit", str(args.lai_limit)]
        views_argv += passed_on
        return int(validation_views.main(views_argv))


if __name__ == "__main__":
    sys.exit(main())
