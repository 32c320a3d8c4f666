"""``deblur INPUT...``: restore image files, folders and glob patterns with a generator.

Outputs go next to each input as ``<stem>_deblurred<ext>``, into a folder (``-o DIR``), or to one
file (``-o FILE.ext``, one input). An input is never overwritten, not even with ``--force``; other
existing outputs are replaced only with ``--force``. A bad file does not stop the run: every
failure is listed at the end and the exit code is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deblurgan.cli.arguments import add_running_options, positive_int, quality
from deblurgan.cli.shared import (
    add_backend_option,
    add_download_options,
    check_download_options,
    describe_failure,
    load_deblurrer_auto,
    log_to_stderr,
)
from deblurgan.io import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    WRITE_EXTENSIONS,
    ImageError,
    find_images,
)
from deblurgan.io.errors import one_line
from deblurgan.models.generator import arch_name

__all__ = ["Job", "build_parser", "plan_jobs", "restore_main"]

_PROG = "deblur"

#: Peak memory of ``deblur`` (the shipped model, CPU, default tiles) per megapixel and its fixed
#: part, measured by benchmarks/memory_per_megapixel.py between 16 and 36 MP: the whole-image
#: buffers (decoded pixels, float tensors in and out, tile blending) dominate. Remeasured for
#: the nafnet default on 2026-12-06 (the first default, lite_unet: 48 MB and 363 MB).
MB_PER_MEGAPIXEL = 46
FIXED_MB = 369
_EPILOG = """\
subcommands (give them first):
  deblur models [--json]     generator architectures, shipped and fetchable weights
  deblur video IN [-o OUT]   deblur a video, sound kept ('deblur IN.mp4' does the same)
  deblur export -m NAME -o F export a model to ONNX, checked against PyTorch
  deblur bench [-m NAME ...] inference speed, memory, MACs against fpn_mobilenet
  deblur weights fetch NAME  fetch public weights into the cache (maxim, lpips, efficientnet_lite0)
  deblur train ...           train a model (needs the 'train' extra; see deblur train --help)
  deblur blur SRC OUT ...    synthesise a blurred/sharp dataset (GoPro layout) from photos or video
  deblur deconv BLURRY ...   classical non-blind deconvolution (Wiener, Tikhonov, Richardson-Lucy)
  deblur data check ROOT     check a dataset before training
  deblur eval --data ROOT    score models and baselines (PSNR, SSIM, MS-SSIM, FSIM, VIF, ...)
  deblur report RUNS_DIR     ablation table and plots of a sweep of training runs
  deblur compare IMAGE ...   side-by-side picture of several models, with a zoomed crop
  deblur serve [--port N]    a web page and HTTP API on this machine (needs the 'web' extra)

A file literally named like a subcommand ('models', 'train', ...) must be given as ./models.
Quote glob patterns ('shots/*.jpg') so that deblur expands them, on every shell.

exit codes: 0 all restored, 1 some inputs failed, 2 usage error (bad option, unknown model)
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the restore command."""
    from deblurgan import __version__

    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Remove motion blur from photos with a GAN generator (DeblurGAN-v2).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files, folders or glob patterns"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="a folder (created; each output is OUT/<input name>), or a file name with an image "
        "extension when there is one input. Default: <stem>_deblurred<ext> next to each input",
    )
    parser.add_argument(
        "-m",
        "--model",
        default="default",
        help="shipped weights name, fetched weights name (maxim, after 'deblur weights fetch "
        "maxim'), checkpoint file (.safetensors, .pt) or https URL, downloaded once into the "
        "cache and verified (default: %(default)s; see 'deblur models')",
    )
    add_download_options(parser)
    add_running_options(parser)
    add_backend_option(parser, auto=True)
    parser.add_argument(
        "-r", "--recursive", action="store_true", help="also restore images in subfolders"
    )
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="replace existing outputs (inputs are never overwritten)",
    )
    parser.add_argument(
        "--quality",
        type=quality,
        default=95,
        metavar="Q",
        help="JPEG/WebP quality 1-100 (default: %(default)s)",
    )
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument(
        "--max-pixels",
        type=positive_int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="refuse images of more than N pixels: a guard against decompression bombs and a "
        f"memory bound (restoring takes about {MB_PER_MEGAPIXEL} MB per megapixel plus "
        f"{FIXED_MB} MB, measured with the shipped model; the default, %(default)s, peaks near "
        f"{(FIXED_MB + MB_PER_MEGAPIXEL * DEFAULT_MAX_PIXELS / 1e6) / 1000:.1f} GB, within an 8 "
        "GB machine)",
    )
    limit.add_argument("--no-max-pixels", action="store_true", help="no limit on the image size")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar or summary (failures still print)",
    )
    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    return parser


@dataclass(frozen=True)
class Job:
    """One image to restore: where it comes from and where it goes."""

    source: Path
    target: Path


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def _is_file_output(output: str) -> bool:
    """``-o`` names a file when it has an image extension and is not an existing folder."""
    path = Path(output)
    if output.endswith(("/", os.sep)) or path.is_dir():
        return False
    return path.suffix.lower() in {*IMAGE_EXTENSIONS, *WRITE_EXTENSIONS}


_OUTPUT_TAG = "_deblurred"


def _is_video_file(item: str) -> bool:
    from deblurgan.io.video import is_video_path

    return is_video_path(item) and Path(item).is_file()


def _expand_inputs(
    inputs: Sequence[str], *, recursive: bool, skip_outputs: bool, failures: list[str]
) -> tuple[list[tuple[Path, Path]], int]:
    """Every image found as ``(source, name relative to its input)``, and how many were skipped.

    Bad inputs go to ``failures``. With ``skip_outputs``, files that folders and patterns turn up
    named ``*_deblurred.*`` (the outputs of an earlier run) are skipped; named files never are.
    """
    found: list[tuple[Path, Path]] = []
    seen: set[Path] = set()
    skipped = 0
    for item in inputs:
        problems: list[ImageError] = []
        try:
            paths = find_images([item], recursive=recursive, problems=problems)
        except ImageError as exc:
            failures.append(str(exc))
            continue
        failures.extend(str(problem) for problem in problems)  # link loops, unreadable folders
        root = Path(item)
        named = root.is_file()
        for path in paths:
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            if skip_outputs and not named and path.stem.endswith(_OUTPUT_TAG):
                skipped += 1
                continue
            relative = Path(path.name)
            if root.is_dir():
                with contextlib.suppress(ValueError):
                    relative = path.relative_to(root)
            found.append((path, relative))
    return found, skipped


def plan_jobs(
    sources: Sequence[tuple[Path, Path]],
    *,
    output: str | None,
    force: bool,
    failures: list[str],
) -> list[Job]:
    """Choose each output path and drop (into ``failures``) those that must not be written.

    An output that is an input (same resolved path, or the same file through a link) is refused
    even with ``force``; so is an output shared by two inputs; an existing output without
    ``force`` is skipped.

    Args:
        sources: ``(source, relative name)`` pairs, the name used under an output folder.
        output: the ``-o`` argument, or ``None`` for ``<stem>_deblurred<ext>`` beside the input.
        force: replace existing outputs.
        failures: receives one ``"<path>: <problem>"`` line per refused output.

    Returns:
        The jobs to run, in input order.

    Example:
        >>> failures: list[str] = []
        >>> [str(j.target) for j in plan_jobs([(Path("a/b.png"), Path("b.png"))], output=None,
        ...                                   force=False, failures=failures)]
        ['a/b_deblurred.png']
    """
    from deblurgan.inference.files import output_suffix

    file_output = output is not None and _is_file_output(output)
    input_paths = {source.resolve() for source, _ in sources}
    input_ids = {i for i in (_file_identity(source) for source, _ in sources) if i is not None}
    claimed: dict[Path, Path] = {}
    jobs: list[Job] = []
    for source, relative in sources:
        suffix = output_suffix(source)
        if output is None:
            target = source.with_name(f"{source.stem}{_OUTPUT_TAG}{suffix}")
        elif file_output:
            target = Path(output)
        else:
            target = Path(output) / relative.with_suffix(suffix)
        key = target.resolve()
        if key in input_paths or (target.exists() and _file_identity(target) in input_ids):
            failures.append(
                f"{source}: refusing to write {target}: it is an input file "
                "(inputs are never overwritten, not even with --force)"
            )
        elif key in claimed:
            failures.append(f"{source}: output {target} is also the output of {claimed[key]}")
        elif target.exists() and not force:
            failures.append(f"{source}: output {target} exists (use --force to replace it)")
        else:
            claimed[key] = source
            jobs.append(Job(source, target))
    return jobs


def _megapixels(jobs: Sequence[Job]) -> float:
    """The work of ``jobs`` in megapixels, from the files' headers (unreadable files count 0:
    they are reported in their turn); ``--backend auto`` weighs it."""
    if not jobs:
        return 0.0
    from deblurgan.io import image_pixels

    return sum(image_pixels(job.source) or 0 for job in jobs) / 1e6


def restore_main(argv: Sequence[str]) -> int:
    """Run the restore command; returns the exit code (argparse exits with 2 on usage errors)."""
    parser = build_parser()
    # video options (--compare, --crf, ...) are parsed by 'deblur video' when the input is one
    args, unknown = parser.parse_known_args(list(argv))
    videos = [item for item in args.inputs if _is_video_file(item)]
    if unknown and not videos:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if videos:
        if len(args.inputs) > 1:
            parser.error(
                f"{videos[0]} is a video: give videos one at a time ('deblur video IN -o OUT')"
            )
        from deblurgan.cli.video import video_main

        return video_main(list(argv))
    check_download_options(parser, [args.model], args)
    failures: list[str] = []
    output: str | None = args.output
    sources, skipped = _expand_inputs(
        args.inputs, recursive=args.recursive, skip_outputs=output is None, failures=failures
    )
    if output is not None:
        if _is_file_output(output):
            if Path(output).suffix.lower() not in WRITE_EXTENSIONS:
                parser.error(
                    f"cannot write {Path(output).suffix!r} files (-o {output}); "
                    f"use one of {' '.join(WRITE_EXTENSIONS)}"
                )
            if len(sources) > 1:
                parser.error(
                    f"-o {output} names one file but {len(sources)} images were found; "
                    "give a folder instead"
                )
        elif Path(output).exists() and not Path(output).is_dir():
            parser.error(f"-o {output} exists and is not a folder")

    with log_to_stderr(_PROG, args.quiet):
        jobs = plan_jobs(sources, output=output, force=args.force, failures=failures)
        try:
            deblurrer = load_deblurrer_auto(args, _PROG, _megapixels(jobs))
        except ValueError as exc:
            print(f"{_PROG}: error: {one_line(exc)}", file=sys.stderr)
            return 2
        if not args.quiet:
            arch = arch_name(deblurrer.model)
            from deblurgan.io import redact_url

            print(
                f"{_PROG}: model {redact_url(args.model)} ({arch}) on {deblurrer.device}, "
                f"{deblurrer.precision}, backend {args.backend}; {len(jobs)} image(s) to restore",
                file=sys.stderr,
            )
            if skipped:
                print(
                    f"{_PROG}: skipped {skipped} earlier output(s) named *{_OUTPUT_TAG}.*",
                    file=sys.stderr,
                )
        from deblurgan.inference.deblurrer import ModelOutputError

        try:
            restored = _run_jobs(deblurrer, jobs, args, failures)
        except ModelOutputError as exc:
            print(f"{_PROG}: error: {exc}", file=sys.stderr)
            return 2

    if not args.quiet or failures:
        print(f"{restored} restored, {len(failures)} failed")
        sys.stdout.flush()
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0


def _run_jobs(
    deblurrer: Any, jobs: list[Job], args: argparse.Namespace, failures: list[str]
) -> int:
    from tqdm import tqdm

    from deblurgan.inference.deblurrer import ModelOutputError
    from deblurgan.inference.files import deblur_file

    max_pixels = None if args.no_max_pixels else args.max_pixels
    show = not args.quiet and sys.stderr.isatty()
    restored = 0
    with tqdm(total=len(jobs), file=sys.stderr, disable=not show, unit="image", desc=_PROG) as bar:
        for job in jobs:
            bar.set_postfix_str(job.source.name, refresh=False)
            try:
                deblur_file(
                    deblurrer,
                    job.source,
                    job.target,
                    max_pixels=max_pixels,
                    quality=args.quality,
                    replace=args.force,  # without --force, an output that appeared is kept
                )
            except (KeyboardInterrupt, ModelOutputError):
                raise  # the model's fault: the other files would fail the same way
            except Exception as exc:  # a bad file must not stop the batch
                failures.append(describe_failure(job.source, exc))
            else:
                restored += 1
            bar.update()
    return restored
