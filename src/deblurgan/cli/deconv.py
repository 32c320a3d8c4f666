"""``deblur deconv BLURRY... --kernel K.png``: classical non-blind deconvolution of image files.

Wiener, Tikhonov or Richardson-Lucy (:mod:`deblurgan.blur.deconv`) with a known blur kernel read
from an image file (converted to grey, normalised to sum 1). Outputs keep each input's bit depth,
alpha, EXIF and ICC profile and are written atomically; an input (or the kernel) is never
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

import torch.nn.functional as F
from torch import Tensor

from deblurgan.cli.arguments import positive_float
from deblurgan.cli.shared import describe_failure
from deblurgan.io import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    WRITE_EXTENSIONS,
    ImageError,
    find_images,
    printable,
    read_image,
    rgb_to_grey,
    write_image,
)

__all__ = ["build_parser", "deconv_main", "read_kernel"]

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
        description="Deconvolve images blurred by a known kernel with a classical method: "
        "Wiener (noise-to-signal ratio), Tikhonov (Laplacian regulariser) or Richardson-Lucy "
        "(iterations). Borders are extended smoothly, so they do not ring.",
        epilog="example: deblur deconv shot.png --kernel psf.png --method wiener --nsr 1e-3 "
        "-o restored/\n\nexit codes: 0 all written, 1 some inputs failed, 2 usage error or "
        "unusable kernel",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="BLURRY", help="image files, folders or glob patterns"
    )
    parser.add_argument(
        "-k",
        "--kernel",
        required=True,
        metavar="KERNEL",
        help="the blur kernel as an image (grey or colour, converted to grey; any size, even "
        "sides are padded to odd; normalised to sum 1)",
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
        default=1e-2,
        help="Tikhonov: weight of the Laplacian regulariser; about 1e-4 for clean images, 1e-2 "
        "for noisy ones (default: %(default)g)",
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


def read_kernel(path: str | Path) -> Tensor:
    """Read a blur kernel image: grey, odd sides, non-negative, summing to 1.

    Colour kernels are converted to grey with the BT.601 luma weights; 16-bit files keep their
    precision. An even side gets a zero row (column) at the bottom (right), which keeps the
    centre convention ``floor(k / 2)`` of MATLAB's ``psf2otf`` and scikit-image.

    Args:
        path: the kernel image file.

    Returns:
        ``(kh, kw)`` float64, odd sides, sum 1.

    Raises:
        ImageError: the file cannot be read, or it is all black (sums to zero).

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> file = Path(tempfile.mkdtemp()) / "k.png"
        >>> Image.new("L", (2, 2), 255).save(file)
        >>> read_kernel(file)
        tensor([[0.2500, 0.2500, 0.0000],
                [0.2500, 0.2500, 0.0000],
                [0.0000, 0.0000, 0.0000]], dtype=torch.float64)
    """
    rgb = read_image(path, max_pixels=DEFAULT_MAX_PIXELS).rgb.double()
    kernel = rgb_to_grey(rgb)[0]
    total = float(kernel.sum())
    if not total > 0:
        raise ImageError(path, "the kernel image is all black (sums to 0); a kernel needs weight")
    kh, kw = kernel.shape
    kernel = F.pad(kernel, (0, 1 - kw % 2, 0, 1 - kh % 2))
    return kernel / kernel.sum()


def _expand_inputs(
    inputs: Sequence[str], *, recursive: bool, kernel: Path, failures: list[str]
) -> list[tuple[Path, Path]]:
    """``(source, name relative to its input folder)`` for every image; the kernel is skipped."""
    found: list[tuple[Path, Path]] = []
    seen: set[Path] = {kernel.resolve()}
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
                if root.is_file() and key == kernel.resolve():
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


def _is_file_output(output: str) -> bool:
    path = Path(output)
    if output.endswith(("/", "\\")) or path.is_dir():
        return False
    return path.suffix.lower() in {*IMAGE_EXTENSIONS, *WRITE_EXTENSIONS}


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def deconv_main(argv: Sequence[str]) -> int:
    """Run ``deblur deconv``; returns the exit code (argparse exits with 2 on usage errors)."""
    from deblurgan.blur.deconv import DECONV_METHODS
    from deblurgan.cli.restore import plan_jobs

    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.quality > 100:
        parser.error(f"--quality must be from 1 to 100, got {args.quality}")
    kernel_path = Path(args.kernel)
    try:
        kernel = read_kernel(kernel_path).float()
    except ImageError as exc:
        print(f"{_PROG}: error: kernel {_one_line(exc)}", file=sys.stderr)
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
        if job.target.resolve() == kernel_path.resolve():
            failures.append(
                f"{printable(str(job.source))}: refusing to write {printable(str(job.target))}: "
                "it is the kernel file"
            )
        else:
            jobs.append(job)

    options = {
        "wiener": {"nsr": args.nsr},
        "tikhonov": {"weight": args.weight},
        "richardson_lucy": {"iterations": args.iterations},
    }[args.method]
    deconvolve = DECONV_METHODS[args.method]
    if not args.quiet:
        kh, kw = kernel.shape
        settings = ", ".join(f"{k} {v:g}" for k, v in options.items())
        print(
            f"{_PROG}: {args.method} ({settings}) with a {kw}x{kh} kernel; {len(jobs)} image(s)",
            file=sys.stderr,
        )
    written = 0
    from tqdm import tqdm

    show = not args.quiet and sys.stderr.isatty()
    with tqdm(jobs, file=sys.stderr, disable=not show, unit="image", desc=_PROG) as bar:
        for job in bar:
            try:
                decoded = read_image(job.source)
                restored = deconvolve(
                    decoded.rgb, kernel, **options, boundary=args.boundary, clamp=True
                )
                alpha = decoded.alpha
                if alpha is not None and job.target.suffix.lower() in (".jpg", ".jpeg"):
                    logger.warning(
                        "%s: JPEG cannot hold the alpha channel; dropping it", job.target
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
