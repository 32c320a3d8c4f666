"""``deblur deconv BLURRY... --kernel K.png``: classical deconvolution of image files.

Wiener, Tikhonov or Richardson-Lucy (:mod:`deblurgan.blur.deconv`) with a known blur kernel read
from an image file (converted to grey, normalised to sum 1), or, with ``--blind``, with each
image's kernel estimated from the image itself (:mod:`deblurgan.blur.blind`: uniform camera
shake; ``--save-kernels`` writes each estimate beside its output). Outputs keep each input's bit
depth, alpha, EXIF and ICC profile and are written atomically; an input (or the kernel) is never
overwritten, not even with ``--force``. A bad file does not stop the run: every failure is listed
at the end and the exit code is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from torch import Tensor

from deblurgan.cli.arguments import positive_float
from deblurgan.cli.shared import describe_failure
from deblurgan.io import (
    IMAGE_EXTENSIONS,
    WRITE_EXTENSIONS,
    ImageError,
    find_images,
    printable,
    read_image,
    read_kernel,
    write_image,
    write_kernel,
)
from deblurgan.io.errors import one_line

__all__ = ["build_parser", "deconv_main", "kernel_file"]

_PROG = "deblur deconv"

logger = logging.getLogger(__name__)


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur deconv``."""
    from deblurgan.blur.deconv import DECONV_METHODS

    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Deconvolve images blurred by a known kernel (--kernel), or by a kernel "
        "estimated from each image (--blind: uniform camera shake), with a classical method: "
        "Wiener (noise-to-signal ratio), Tikhonov (Laplacian regulariser), Richardson-Lucy "
        "(iterations) or a hyper-Laplacian gradient prior (Krishnan and Fergus: less ringing and "
        "noise). Borders are extended smoothly, so they do not ring.",
        epilog="examples:\n  deblur deconv shot.png --kernel psf.png --method wiener --nsr 1e-3 "
        "-o restored/\n  deblur deconv shaken.jpg --blind --kernel-size 61 --save-kernels "
        "-o restored/\n\nexit codes: 0 all written, 1 some inputs failed, 2 usage error or "
        "unusable kernel",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="BLURRY", help="image files, folders or glob patterns"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "-k",
        "--kernel",
        metavar="KERNEL",
        help="the blur kernel: an image (grey or colour, converted to grey; a float TIFF keeps "
        "its raw values) or a 2-D .npy array; any size, even sides are padded to odd; "
        "normalised to sum 1. NaN, all-zero and negative weights are refused",
    )
    source.add_argument(
        "--blind",
        action="store_true",
        help="estimate each image's kernel from the image (uniform blur: camera shake without "
        "rotation or moving objects; 10 to 20 s per photo of up to a megapixel on 2 cores)",
    )
    parser.add_argument(
        "--kernel-size",
        type=_int_at_least(3),
        metavar="N",
        help="--blind: the estimated kernel's support in pixels, odd, at least the blur's "
        "extent (default: 8%% of each image's longer side)",
    )
    parser.add_argument(
        "--save-kernels",
        action="store_true",
        help="--blind: also write each estimated kernel as OUTPUT-STEM.kernel.png (its peak "
        "white; read back with --kernel)",
    )
    parser.add_argument(
        "-m",
        "--method",
        choices=sorted(DECONV_METHODS),
        default="wiener",
        help="(default: %(default)s)",
    )
    parser.add_argument(
        "--nsr",
        type=positive_float,
        default=1e-2,
        help="Wiener: noise-to-signal ratio; lower is sharper and noisier: about 1e-3 for clean "
        "images, 3e-2 or more for noisy ones (default: %(default)g)",
    )
    parser.add_argument(
        "--weight",
        type=positive_float,
        help="Tikhonov: weight of the Laplacian regulariser; about 1e-4 for clean images, 1e-2 "
        "for noisy ones (default: 1e-2). hyper_laplacian: weight of the gradient prior; more "
        "for noisier images (default: 5e-4, Krishnan and Fergus's for about 1%% noise)",
    )
    parser.add_argument(
        "--alpha",
        type=positive_float,
        help="hyper_laplacian: the prior's exponent, in (0, 1]; 1 is total variation "
        "(default: 2/3)",
    )
    parser.add_argument(
        "--iterations",
        type=_int_at_least(0),
        default=30,
        help="Richardson-Lucy: number of iterations; more restore more detail and amplify more "
        "noise (default: %(default)s)",
    )
    parser.add_argument(
        "--boundary",
        choices=("reflect", "periodic"),
        default="reflect",
        help="reflect: smooth periodic extension, no ringing from the borders; periodic: take "
        "the image as periodic (default: %(default)s)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="a folder (created; each output is OUT/<input name>), or a file name with an image "
        "extension when there is one input",
    )
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="replace existing outputs (inputs and the kernel are never overwritten)",
    )
    parser.add_argument("-r", "--recursive", action="store_true", help="also read sub-folders")
    parser.add_argument(
        "--quality",
        type=_int_at_least(1),
        default=95,
        metavar="Q",
        help="JPEG/WebP quality 1-100 (default: %(default)s)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    return parser


def _expand_inputs(
    inputs: Sequence[str], *, recursive: bool, kernel: Path | None, failures: list[str]
) -> list[tuple[Path, Path]]:
    """``(source, name relative to its input folder)`` for every image; the kernel is skipped."""
    found: list[tuple[Path, Path]] = []
    seen: set[Path] = {kernel.resolve()} if kernel is not None else set()
    for item in inputs:
        problems: list[ImageError] = []
        try:
            paths = find_images([item], recursive=recursive, problems=problems)
        except ImageError as exc:
            failures.append(str(exc))
            continue
        failures.extend(str(problem) for problem in problems)  # link loops, unreadable folders
        root = Path(item)
        for path in paths:
            key = path.resolve()
            if key in seen:
                if root.is_file() and kernel is not None and key == kernel.resolve():
                    failures.append(
                        f"{printable(str(path))}: is the kernel file, not a blurry image"
                    )
                continue
            seen.add(key)
            relative = Path(path.name)
            if root.is_dir():
                with contextlib.suppress(ValueError):
                    relative = path.relative_to(root)
            found.append((path, relative))
    return found


def _estimate(rgb: Tensor, kernel_size: int | None) -> Tensor:
    """The blind estimate of an image's kernel (:func:`deblurgan.blur.blind.estimate_kernel`)."""
    from deblurgan.blur.blind import default_kernel_size, estimate_kernel

    size = kernel_size or default_kernel_size(*rgb.shape[-2:])
    return estimate_kernel(rgb, size).float()


def kernel_file(target: Path) -> Path:
    """Where ``--save-kernels`` writes the kernel of the output ``target``: ``STEM.kernel.png``.

    Example:
        >>> kernel_file(Path("out/shot.jpg")).as_posix()
        'out/shot.kernel.png'
    """
    return target.with_name(f"{target.stem}.kernel.png")


def _write_kernel(target: Path, kernel: Tensor, source: Path, *, replace: bool) -> None:
    """Write an estimated kernel as a grey PNG, its peak white (never over the input)."""
    path = kernel_file(target)
    if path.resolve() == source.resolve():
        raise ValueError(f"refusing to write the kernel over the input {printable(str(path))}")
    write_kernel(path, kernel, replace=replace)


def _is_file_output(output: str) -> bool:
    path = Path(output)
    if output.endswith(("/", "\\")) or path.is_dir():
        return False
    return path.suffix.lower() in {*IMAGE_EXTENSIONS, *WRITE_EXTENSIONS}


def deconv_main(argv: Sequence[str]) -> int:
    """Run ``deblur deconv``; returns the exit code (argparse exits with 2 on usage errors)."""
    from deblurgan.blur.deconv import DECONV_METHODS, method_options
    from deblurgan.cli.restore import plan_jobs
    from deblurgan.inference.files import warn_other_frames

    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.quality > 100:
        parser.error(f"--quality must be from 1 to 100, got {args.quality}")
    if not args.blind and (args.kernel_size is not None or args.save_kernels):
        parser.error("--kernel-size and --save-kernels apply to --blind only")
    if args.kernel_size is not None:
        from deblurgan.blur.blind import check_kernel_size

        try:
            check_kernel_size(args.kernel_size, "--kernel-size")
        except ValueError as exc:
            parser.error(str(exc))
    kernel_path = Path(args.kernel) if args.kernel is not None else None
    kernel: Tensor | None = None
    if kernel_path is not None:
        try:
            kernel = read_kernel(kernel_path).float()
        except ImageError as exc:
            print(f"{_PROG}: error: kernel {one_line(exc)}", file=sys.stderr)
            return 2
    failures: list[str] = []
    sources = _expand_inputs(
        args.inputs, recursive=args.recursive, kernel=kernel_path, failures=failures
    )
    output: str = args.output
    if _is_file_output(output):
        if Path(output).suffix.lower() not in WRITE_EXTENSIONS:
            parser.error(
                f"cannot write {Path(output).suffix!r} files; use one of {WRITE_EXTENSIONS}"
            )
        if len(sources) > 1:
            parser.error(f"-o {output} names one file but {len(sources)} images were found")
    elif Path(output).exists() and not Path(output).is_dir():
        parser.error(f"-o {output} exists and is not a folder")
    jobs = []
    for job in plan_jobs(sources, output=output, force=args.force, failures=failures):
        if kernel_path is not None and job.target.resolve() == kernel_path.resolve():
            failures.append(
                f"{printable(str(job.source))}: refusing to write {printable(str(job.target))}: "
                "it is the kernel file"
            )
        else:
            jobs.append(job)

    if args.alpha is not None and not args.alpha <= 1:
        parser.error(f"--alpha must be in (0, 1], got {args.alpha:g}")
    options = method_options(
        args.method,
        nsr=args.nsr,
        weight=args.weight,
        iterations=args.iterations,
        alpha=args.alpha,
    )
    deconvolve = DECONV_METHODS[args.method]
    if not args.quiet:
        settings = ", ".join(f"{k} {v:g}" for k, v in options.items())
        if kernel is not None:
            kh, kw = kernel.shape
            what = f"a {kw}x{kh} kernel"
        else:
            size = f"{args.kernel_size} px" if args.kernel_size else "8% of the longer side"
            what = f"each image's kernel estimated (support {size})"
        print(
            f"{_PROG}: {args.method} ({settings}) with {what}; {len(jobs)} image(s)",
            file=sys.stderr,
        )
    written = 0
    from tqdm import tqdm

    show = not args.quiet and sys.stderr.isatty()
    with tqdm(jobs, file=sys.stderr, disable=not show, unit="image", desc=_PROG) as bar:
        for job in bar:
            try:
                decoded = read_image(job.source)
                warn_other_frames(decoded)
                used = kernel
                if used is None:
                    used = _estimate(decoded.rgb, args.kernel_size)
                    if args.save_kernels:
                        _write_kernel(job.target, used, job.source, replace=args.force)
                restored = deconvolve(
                    decoded.rgb, used, **options, boundary=args.boundary, clamp=True
                )
                alpha = decoded.alpha
                if alpha is not None and job.target.suffix.lower() in (".jpg", ".jpeg"):
                    logger.warning(
                        "%s: JPEG cannot hold the alpha channel; dropping it",
                        printable(job.target),
                    )
                    alpha = None
                write_image(
                    job.target,
                    restored,
                    alpha=alpha,
                    bit_depth=decoded.bit_depth,
                    quality=args.quality,
                    exif=decoded.exif,
                    icc_profile=decoded.icc_profile,
                    replace=args.force,  # without --force, an output that appeared is kept
                )
            except KeyboardInterrupt:
                raise
            except (ValueError, TypeError, OSError, RuntimeError) as exc:
                failures.append(describe_failure(job.source, exc))
                continue
            written += 1
    if not args.quiet or failures:
        print(f"{written} deconvolved, {len(failures)} failed")
        sys.stdout.flush()
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0
