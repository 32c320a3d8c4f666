"""``deblur export -m NAME|PATH -o model.onnx``: ONNX with dynamic height and width, checked.

The dynamo exporter is tried first, the legacy TorchScript one where it fails; the graph is run
with onnxruntime on a random image of another size than the traced one and compared with PyTorch
(max abs difference within 1e-3, else exit 1 and nothing written).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from deblurgan.cli.arguments import image_size

__all__ = ["build_parser", "export_main"]

_PROG = "deblur export"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur export``."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Export a generator to ONNX (dynamic height and width), checked against "
        "PyTorch with onnxruntime.",
        epilog="exit codes: 0 written and within tolerance, 1 cannot export or parity failed, "
        "2 usage error",
    )
    parser.add_argument(
        "-m",
        "--model",
        default="default",
        help="shipped or fetched weights name, checkpoint file, or a registered architecture "
        "name (untrained, for speed tests) (default: %(default)s)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="FILE.onnx")
    parser.add_argument(
        "--exporter",
        choices=("auto", "dynamo", "legacy"),
        default="auto",
        help="auto: dynamo, then the legacy TorchScript exporter (default: %(default)s)",
    )
    parser.add_argument(
        "--size",
        type=image_size,
        default=(384, 320),
        metavar="WxH",
        help="size traced; the check runs 1/4 larger. Trace above the model's training crop "
        "(NAFNet's local statistics branch on it) (default: 384x320)",
    )
    parser.add_argument(
        "--tolerance", type=float, default=1e-3, help="largest abs difference (default: 1e-3)"
    )
    parser.add_argument("-f", "--force", action="store_true", help="replace an existing file")
    return parser


def export_main(argv: Sequence[str]) -> int:
    """Run ``deblur export``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    from pathlib import Path

    from deblurgan.io import printable

    target = Path(args.output)
    if target.suffix.lower() != ".onnx":
        parser.error(f"-o {args.output}: the output must end in .onnx")
    if target.exists() and not args.force:
        print(
            f"deblur: error: {printable(target)}: exists (use --force to replace it)",
            file=sys.stderr,
        )
        return 1
    try:
        from deblurgan.inference.export import ExportError, export_onnx
        from deblurgan.models.weights import load_or_build_generator

        model = load_or_build_generator(args.model)
    except Exception as exc:
        print(
            f"deblur: error: cannot load model {args.model!r}: {' '.join(str(exc).split())}",
            file=sys.stderr,
        )
        return 2
    width, height = args.size
    try:
        result = export_onnx(
            model,
            target,
            exporter=args.exporter,
            size=(height, width),
            tolerance=args.tolerance,
        )
    except ExportError as exc:
        print(f"deblur: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    h, w = result.checked_size
    print(
        f"{printable(result.path)}: {result.exporter} exporter, traced at "
        f"{result.traced_size[1]}x{result.traced_size[0]}, dynamic height and width; "
        f"onnxruntime vs PyTorch at {w}x{h}: max abs diff {result.max_abs_diff:.2e} "
        f"(<= {args.tolerance:g})"
    )
    return 0
