"""``deblur eval --data ROOT``: score generators and baselines on a dataset under one protocol.

Usage::

    deblur eval --data GOPRO_Large                    # identity + the shipped default model
    deblur eval --data pairs/ --model runs/a/generator.safetensors --model default \\
        --method identity --method wiener --csv per_image.csv --json summary.json
    deblur eval --data photos/ --format synthetic --items 32 --seed 20261121   # realistic blur
    deblur eval --data photos/ --format synthetic --degradation kernel --method wiener \
        --method identity                                          # known kernels, no noise
    deblur eval --data levin/ --shift 3 --model default          # shift-tolerant scoring
    deblur eval --data lai/ --shift 10 --method blind --blind-kernel-size 75   # blind baseline

The dataset layout is detected (GoPro ``ROOT/{train,test}/<scene>/{blur,sharp}``, paired
``ROOT/blur`` + ``ROOT/sharp``) or named with ``--format`` (``aligned`` A|B images, ``synthetic``
sharp photos to degrade). Images are evaluated whole. Sharp photos go through the realistic
degradation of training and ``deblur blur --kind realistic`` (the same item gives the same
pixels): 256 px crops at scale 1, each taken as part of a 1280 px wide frame, and the table is
split by blur size too. ``--degradation kernel`` blurs them by uniform camera-shake kernels
without noise instead. Classical methods (``wiener``, ``tikhonov``, ``richardson_lucy``) need each
pair's kernel, ``<pair folder>/kernel/<stem>.png`` (``deblur blur`` writes it) or the kernel
protocol's; ``blind`` estimates each image's kernel (:mod:`deblurgan.blur.blind`). The protocol is
:mod:`deblurgan.inference.evaluation`: every metric of ``METRICS`` that applies (``lpips`` with
the weights of ``deblur weights fetch lpips``, or ``--lpips-weights`` and ``--lpips-backbone``),
parameters, GMACs, median latency and peak memory. A ``--model URL`` is downloaded once into the
cache and verified (``--sha256``).

It prints one row per method (``*`` marks the best mean of each metric column), writes one CSV
row per image and method (``--csv``) and a JSON summary (``--json``: each method's mean of each
metric under the metric's name, its costs, and the protocol), both atomically; an existing file is
replaced only with ``--force``. A dataset that cannot be used (missing folder, no images,
unpaired names, unreadable files) stops with one line naming the file and exit code 1; an image
that fails later is skipped for every method, listed at the end, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from deblurgan.cli.arguments import (
    add_running_options,
    image_size,
    non_negative_int,
    positive_float,
    positive_int,
)
from deblurgan.cli.shared import add_download_options, check_download_options
from deblurgan.io.errors import one_line

__all__ = ["build_parser", "eval_main"]

_PROG = "deblur eval"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur eval``."""
    from deblurgan.data import DATASET_FORMATS
    from deblurgan.inference.evaluation import BASELINE_METHODS
    from deblurgan.metrics import METRICS

    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Score generators and baselines (the blurry input, classical deconvolution "
        "with the true kernel) on a dataset: every metric, parameters, GMACs, latency and "
        "memory, under one declared protocol.",
        epilog="default methods: identity and the shipped 'default' model.\n"
        "exit codes: 0 every image scored, 1 unusable dataset or skipped images, 2 usage error "
        "(bad option, unloadable model)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("dataset")
    data.add_argument("--data", required=True, metavar="ROOT", help="the dataset folder")
    data.add_argument(
        "--format",
        choices=("auto", *DATASET_FORMATS),
        default="auto",
        help="auto detects gopro and paired_folders; name aligned (A|B images) and synthetic "
        "(sharp photos to blur) (default: %(default)s)",
    )
    data.add_argument(
        "--split",
        default="test",
        help="gopro: the split folder; aligned: a sub-folder, used when ROOT/SPLIT exists "
        "(default: %(default)s)",
    )
    data.add_argument(
        "--blur",
        choices=("blur", "blur_gamma"),
        default="blur",
        help="gopro: the blurry folder: blur (frames averaged on their gamma-encoded values, the "
        "published benchmark) or blur_gamma (averaged in linear light) (default: %(default)s)",
    )
    data.add_argument(
        "--order",
        choices=("blur_sharp", "sharp_blur"),
        default="blur_sharp",
        help="aligned: which half is blurry (default: %(default)s)",
    )
    data.add_argument(
        "--crop-size",
        type=non_negative_int,
        default=256,
        metavar="N",
        help="synthetic: side of the crop taken from each photo; 0: whole photos (realistic "
        "only) (default: %(default)s)",
    )
    data.add_argument(
        "--degradation",
        choices=("realistic", "kernel"),
        help="synthetic: the realistic pipeline of training (default), or uniform camera-shake "
        "kernels without noise (the classical methods' protocol; implied by --kernel-size)",
    )
    data.add_argument(
        "--kernel-size",
        type=positive_int,
        metavar="K",
        help="synthetic, kernel: side of the camera-shake kernels (odd; default: 31)",
    )
    data.add_argument(
        "--frame-width",
        type=non_negative_int,
        metavar="W",
        help="synthetic, realistic: the frame width blur sizes refer to; 0: each photo's longer "
        "side (default: 1280, as in training)",
    )
    data.add_argument(
        "--items",
        type=positive_int,
        metavar="N",
        help="synthetic: number of items, item i from photo i %% n (default: one per photo)",
    )
    data.add_argument(
        "--seed", type=non_negative_int, default=0, help="synthetic: base seed (default: 0)"
    )
    data.add_argument("--limit", type=positive_int, metavar="N", help="only the first N items")

    methods = parser.add_argument_group("methods")
    methods.add_argument(
        "-m",
        "--model",
        action="append",
        default=[],
        metavar="NAME|PATH|URL",
        help="a generator: shipped or fetched weights name, checkpoint file or https URL "
        "(repeatable)",
    )
    add_download_options(methods)
    methods.add_argument(
        "--method",
        action="append",
        default=[],
        choices=BASELINE_METHODS,
        help="a baseline: identity (the blurry input), a classical deconvolution with the "
        "true kernel, or blind (each image's kernel estimated, then Wiener) (repeatable)",
    )
    methods.add_argument(
        "--nsr",
        type=positive_float,
        default=1e-2,
        help="wiener: noise-to-signal (default: %(default)g)",
    )
    methods.add_argument(
        "--blind-kernel-size",
        type=positive_int,
        metavar="K",
        help="blind: the estimated kernel's support in pixels, odd, at least the blur's extent "
        "(default: 8%% of each image's longer side)",
    )
    methods.add_argument(
        "--blind-nsr",
        type=positive_float,
        metavar="NSR",
        help="blind: Wiener's noise-to-signal with the estimated kernel (default: 1e-2)",
    )
    methods.add_argument(
        "--weight",
        type=positive_float,
        help="tikhonov: Laplacian weight (default: 1e-2); hyper_laplacian: the gradient prior's "
        "weight (default: 5e-4)",
    )
    methods.add_argument(
        "--iterations",
        type=positive_int,
        default=30,
        help="richardson_lucy: iterations (default: %(default)s)",
    )

    protocol = parser.add_argument_group("protocol")
    protocol.add_argument(
        "--metrics",
        metavar="NAMES",
        help=f"comma-separated subset of: {', '.join(METRICS)} (default: all that apply)",
    )
    protocol.add_argument(
        "--shift",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="shift-tolerant scoring: best integer shift within +-N px, N px borders cropped "
        "(Köhler et al. 2012; Lai et al. 2016) (default: 0, off)",
    )
    protocol.add_argument(
        "--quantize",
        action="store_true",
        help="round restored images to 8 bits before scoring, as saved PNGs would be",
    )
    protocol.add_argument(
        "--macs-size",
        type=image_size,
        metavar="WxH",
        help="count GMACs at this size instead of each image's own",
    )
    protocol.add_argument(
        "--warmup",
        type=non_negative_int,
        default=1,
        metavar="N",
        help="untimed calls of each method before timing (default: %(default)s)",
    )
    protocol.add_argument(
        "--lpips-weights",
        metavar="PATH",
        help="LPIPS lin weights (vgg.pth); default: those of 'deblur weights fetch lpips'",
    )
    protocol.add_argument(
        "--lpips-backbone",
        metavar="PATH",
        help="ImageNet weights of the LPIPS trunk (vgg16); default: the fetched ones",
    )
    protocol.add_argument(
        "--lpips-net",
        choices=("vgg", "alex"),
        default="vgg",
        help="LPIPS trunk (default: %(default)s)",
    )

    run = parser.add_argument_group("running")
    add_running_options(run)

    out = parser.add_argument_group("output")
    out.add_argument("--csv", metavar="PATH", help="write one row per image and method")
    out.add_argument("--json", metavar="PATH", help="write the summary and the protocol")
    out.add_argument("-f", "--force", action="store_true", help="replace existing --csv/--json")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def _dataset_error(exc: BaseException) -> str:
    """One line for an unusable dataset: the first problem, and how many more there are."""
    problems = getattr(exc, "problems", None)
    if problems:
        more = len(problems) - 1
        extra = f" (and {more} more problem(s); see 'deblur data check')" if more else ""
        return f"{one_line(problems[0])}{extra}"
    return one_line(exc)


def _check_output(
    parser: argparse.ArgumentParser, option: str, value: str | None, args: argparse.Namespace
) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if path.is_dir():
        parser.error(f"{option} {value} is a folder; give a file name")
    data = Path(args.data).resolve()
    resolved = path.resolve()
    if resolved.exists() and (resolved == data or data in resolved.parents):
        parser.error(f"{option} {value} is a file of the dataset; inputs are never overwritten")
    if any(resolved == Path(m).resolve() for m in args.model):
        parser.error(f"{option} {value} is a model file; inputs are never overwritten")
    if path.exists() and not args.force:
        parser.error(f"{option} {value} exists (use --force to replace it)")
    return path


def eval_main(argv: Sequence[str]) -> int:
    """Run ``deblur eval``; returns the exit code (argparse exits with 2 on usage errors)."""
    from deblurgan.cli.shared import log_to_stderr
    from deblurgan.metrics import METRICS

    parser = build_parser()
    args = parser.parse_args(list(argv))
    metrics = None
    if args.metrics is not None:
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
        unknown = [m for m in metrics if m not in METRICS]
        if unknown or not metrics:
            parser.error(
                f"--metrics: unknown {unknown or args.metrics!r}; valid: {', '.join(METRICS)}"
            )
    if (args.lpips_weights is None) != (args.lpips_backbone is None):
        parser.error("LPIPS needs both --lpips-weights and --lpips-backbone")
    if metrics is not None and "lpips" in metrics and args.lpips_weights is None:
        from deblurgan.models.fetch import lpips_weight_files

        if lpips_weight_files(args.lpips_net) is None:
            parser.error(
                "--metrics lpips needs the LPIPS weights: run 'deblur weights fetch lpips' "
                "(or give --lpips-weights and --lpips-backbone)"
            )
    if args.kernel_size is not None and args.kernel_size % 2 == 0:
        parser.error(f"--kernel-size must be odd, got {args.kernel_size}")
    if args.blind_kernel_size is not None:
        from deblurgan.blur.blind import check_kernel_size

        try:
            check_kernel_size(args.blind_kernel_size, "--blind-kernel-size")
        except ValueError as exc:
            parser.error(str(exc))
    for option in ("blind_kernel_size", "blind_nsr"):
        if getattr(args, option) is not None and "blind" not in args.method:
            flag = "--" + option.replace("_", "-")
            parser.error(f"{flag} applies to --method blind only")
    if args.degradation is None:
        args.degradation = "kernel" if args.kernel_size is not None else "realistic"
    if args.degradation == "realistic":
        if args.kernel_size is not None:
            parser.error("--kernel-size applies to --degradation kernel only")
        classical = [m for m in args.method if m not in ("identity", "blind")]
        if classical and args.format == "synthetic":
            parser.error(
                f"--method {classical[0]} needs the true kernel of each item: the realistic "
                "degradation has none (it varies over the image); add --degradation kernel"
            )
    else:
        if args.frame_width is not None:
            parser.error("--frame-width applies to --degradation realistic only")
        if args.crop_size == 0:
            parser.error("--crop-size 0 (whole photos) applies to --degradation realistic only")
    csv_path = _check_output(parser, "--csv", args.csv, args)
    json_path = _check_output(parser, "--json", args.json, args)
    if csv_path is not None and json_path is not None and csv_path.resolve() == json_path.resolve():
        parser.error("--csv and --json name the same file")
    models: list[str] = list(args.model)
    baselines: list[str] = list(dict.fromkeys(args.method))
    if not models and not baselines:
        models, baselines = ["default"], ["identity"]
    if len(set(models)) != len(models):
        parser.error("a --model is given twice")
    check_download_options(parser, models, args)

    with log_to_stderr("deblur", args.quiet):
        return _run(args, models, baselines, metrics, csv_path, json_path)


def _run(
    args: argparse.Namespace,
    models: list[str],
    baselines: list[str],
    metrics: list[str] | None,
    csv_path: Path | None,
    json_path: Path | None,
) -> int:
    from deblurgan.inference.evaluation import (
        CLASSICAL_METHODS,
        baseline_method,
        evaluate,
        format_groups,
        format_table,
        generator_method,
        load_eval_dataset,
        load_lpips_network,
    )

    needs_kernels = any(b in CLASSICAL_METHODS for b in baselines)
    realistic = args.degradation == "realistic"
    degradation = None
    if realistic and args.frame_width is not None:
        degradation = {"frame_width": args.frame_width or None}
    try:
        dataset = load_eval_dataset(
            args.data,
            format=args.format,
            split=args.split,
            blur=args.blur,
            order=args.order,
            crop_size=args.crop_size or None,
            sampler=None
            if realistic
            else {"name": "trajectory", "kernel_size": args.kernel_size or 31},
            seed=args.seed,
            kernels=needs_kernels,
            limit=args.limit,
            degradation=degradation,
            length=args.items,
        )
    except (ValueError, OSError) as exc:
        print(f"{_PROG}: error: {_dataset_error(exc)}", file=sys.stderr)
        return 1

    try:
        methods = [
            baseline_method(
                baseline,
                nsr=args.nsr,
                weight=args.weight,
                iterations=args.iterations,
                kernel_size=args.blind_kernel_size,
                blind_nsr=args.blind_nsr,
                device=args.device,
            )
            for baseline in baselines
        ]
        from deblurgan.cli.shared import fetch_model_sources, unique_names
        from deblurgan.io import redact_url

        sources = fetch_model_sources(models, args, _PROG, quiet=args.quiet)
        for model, source, name in zip(models, sources, unique_names(models), strict=True):
            try:
                methods.append(
                    generator_method(
                        source,
                        name=name,
                        device=args.device,
                        precision=args.precision,
                        tile_size=args.tile_size,
                        tile_overlap=args.tile_overlap,
                        threads=args.threads,
                    )
                )
            except (ValueError, TypeError, OSError, RuntimeError) as exc:
                shown = redact_url(model)
                raise ValueError(f"cannot load model {shown!r}: {one_line(exc)}") from exc
        network = load_lpips_network(
            args.lpips_net,
            lin_weights=args.lpips_weights,
            backbone_weights=args.lpips_backbone,
            device=args.device,
        )
    except (ValueError, TypeError, OSError, RuntimeError) as exc:
        print(f"{_PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 2

    if not args.quiet:
        names = ", ".join(m.name for m in methods)
        print(
            f"{_PROG}: {dataset.info['format']} dataset {args.data}: {len(dataset)} item(s); "
            f"methods: {names}",
            file=sys.stderr,
        )
    from tqdm import tqdm

    show = not args.quiet and sys.stderr.isatty()
    macs_size = (args.macs_size[1], args.macs_size[0]) if args.macs_size else None
    with tqdm(
        total=len(dataset), file=sys.stderr, disable=not show, unit="image", desc=_PROG
    ) as bar:

        def advance(index: int, name: str) -> None:
            bar.set_postfix_str(name, refresh=False)
            bar.update()

        try:
            result = evaluate(
                methods,
                dataset,
                metrics=metrics,
                shift=args.shift,
                lpips_network=network,
                macs_size=macs_size,
                warmup=args.warmup,
                quantize=args.quantize,
                on_item=advance,
            )
        except ValueError as exc:
            print(f"{_PROG}: error: {one_line(exc)}", file=sys.stderr)
            return 2

    print(format_table(result))
    if any(result.summaries[m.name].count for m in methods):
        print("* best mean of each metric column")
    for groups, title in (
        (result.by_blur_size, "blur size"),
        (result.by_motion, "motion"),
        (result.by_averaging, "averaging"),
    ):
        if groups is not None:
            print()
            print(format_groups(groups, result.metric_names, title=title))
    sys.stdout.flush()
    try:
        if csv_path is not None:
            result.to_csv(csv_path)
        if json_path is not None:
            result.to_json(json_path)
    except OSError as exc:
        print(f"{_PROG}: error: cannot write the results: {one_line(exc)}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"{_PROG}: note: {note}", file=sys.stderr)
    if not result.rows:
        print(f"{_PROG}: error: no image could be evaluated", file=sys.stderr)
    if result.skipped:
        print(f"{_PROG}: {len(result.skipped)} image(s) skipped:", file=sys.stderr)
        for line in result.skipped:
            print(line, file=sys.stderr)
    return 1 if result.skipped or not result.rows else 0
