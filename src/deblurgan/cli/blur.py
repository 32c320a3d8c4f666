"""``deblur blur``: synthesise blurry/sharp pairs in GoPro layout from sharp photos or a video.

``deblur blur SHARP_DIR_OR_VIDEO OUT_DIR --kind KIND`` writes ``OUT_DIR/<scene>/blur/NNNNNN.png``
and ``OUT_DIR/<scene>/sharp/NNNNNN.png``. The default kind, ``realistic``, is the one degradation
pipeline of training and of ``deblur eval --format synthetic``
(:class:`~deblurgan.blur.RealisticDegradation`): photo ``i`` with ``--seed S`` gives the same
pixels as item ``i`` of ``deblur eval --format synthetic --seed S`` with the same
``--crop-size`` (default here: whole photos, their border context mirrored). Kernel kinds
(``trajectory``, ``linear``, ``defocus``, ``gaussian``) also write ``kernel/NNNNNN.png`` (the
kernel as a 16-bit PNG scaled so its maximum is white) and ``kernel/NNNNNN.json`` (every
parameter drawn); ``realistic``, ``gopro`` and ``frames`` write their parameters to
``params/NNNNNN.json``. Item ``i`` depends only on ``(--seed, i)``: the same command gives
byte-identical files. Inputs are never overwritten; a bad input file is reported at the end and
the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from deblurgan.cli.arguments import non_negative_float, non_negative_int, positive_int, quality
from deblurgan.cli.shared import describe_failure
from deblurgan.data.pair_writer import (
    PairWriter,
    WriteSettings,
    write_frame_pairs,
    write_gopro_pairs,
    write_kernel_pairs,
    write_realistic_pairs,
)
from deblurgan.io.errors import one_line

__all__ = ["KINDS", "blur_main", "build_parser"]

_PROG = "deblur blur"
KERNEL_KINDS = ("trajectory", "linear", "defocus", "gaussian")
#: The kinds of blur ``deblur blur`` synthesises (the first is the default).
KINDS = ("realistic", *KERNEL_KINDS, "gopro", "frames")
_CAMERA_KINDS = (*KERNEL_KINDS, "gopro", "frames")
# Camera options' defaults for the kinds that take them (unset is told apart from the default).
_UNSET = object()
_CAMERA_DEFAULTS = {"gamma": "srgb", "noise": "gaussian", "noise_domain": "encoded"}
_OUTPUT_FOLDERS = ("blur", "sharp", "kernel", "params")
_GLOB_CHARS = frozenset("*?[")

# Options that only one kind (or a few) uses: setting them for another kind is a usage error.
_KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "kernel_size": KERNEL_KINDS,
    "length": ("trajectory", "linear"),
    "radius": ("defocus",),
    "sigma": ("gaussian",),
    "sigma_y": ("gaussian",),
    "valid": KERNEL_KINDS,
    "clip_highlights": KERNEL_KINDS,
    "highlight_gain": KERNEL_KINDS,
    "frames": ("gopro", "frames"),
    "stride": ("frames",),
    "translation": ("gopro",),
    "rotation": ("gopro",),
    "zoom": ("gopro",),
    "moving_objects": ("gopro",),
    "crop_size": ("realistic",),
    "frame_width": ("realistic",),
    "blur_size": ("realistic",),
    "gamma": _CAMERA_KINDS,
    "noise": _CAMERA_KINDS,
    "noise_std": _CAMERA_KINDS,
    "photons": _CAMERA_KINDS,
    "noise_domain": _CAMERA_KINDS,
    "jpeg_quality": _CAMERA_KINDS,
}

_EPILOG = """\
kinds:
  realistic   the training degradation: camera paths or     --crop-size, --frame-width,
              shake of 3-96 px at 1280 px, rotation, zoom,  --blur-size
              moving objects, saturation, sensor noise, JPEG
  trajectory  random camera-shake kernels (DeblurGAN)      --kernel-size, --length (path length)
  linear      straight motion of random length and angle    --kernel-size, --length
  defocus     out-of-focus disks                            --kernel-size, --radius
  gaussian    Gaussian kernels (anisotropic with --sigma-y) --kernel-size, --sigma, --sigma-y
  gopro       non-uniform blur from a random camera path    --frames, --translation, --rotation,
              (sub-frames warped and averaged; output cut    --zoom, --moving-objects
              in by the largest motion on every side)
  frames      GoPro recipe on a real video (or a folder of  --frames, --stride
              frames in order): N consecutive frames
              averaged, the middle one sharp

Ranges take one value (fixed) or two (drawn uniformly per pair), e.g. --noise-std 0 0.02.
--gamma none averages encoded values (GoPro's 'blur'), 2.2 gives GoPro's 'blur_gamma'.
The camera options apply to the other kinds; 'realistic' draws its own (docs/degradation.md).

exit codes: 0 all written, 1 some inputs failed, 2 usage error
"""


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None


def _gamma(text: str) -> Any:
    from deblurgan.blur import parse_gamma

    try:
        return parse_gamma(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_range(
    parser: argparse._ActionsContainer,
    flag: str,
    kind: Callable[[str], Any],
    help_text: str,
    *,
    default: Any = None,
) -> None:
    parser.add_argument(
        flag, nargs="+", type=kind, default=default, metavar=("LO", "HI"), help=help_text
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur blur``."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Synthesise blurry/sharp training pairs in GoPro layout "
        "(OUT_DIR/<scene>/{blur,sharp}/NNNNNN.png) from sharp photos or a high-frame-rate video.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "input",
        metavar="SHARP_DIR_OR_VIDEO",
        help="a folder of sharp photos, one photo or a glob pattern; for --kind frames a video "
        "file or a folder of frames (sorted by name)",
    )
    parser.add_argument("output", metavar="OUT_DIR", help="dataset root; created if missing")
    parser.add_argument("--kind", choices=KINDS, default="realistic", help="(default: %(default)s)")
    parser.add_argument(
        "--scene", help="scene folder name under OUT_DIR (default: the input's name)"
    )
    parser.add_argument("--seed", type=_seed, default=0, help="(default: %(default)s)")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="write at most N pairs")
    parser.add_argument(
        "-f", "--force", action="store_true", help="write into a scene that already has files"
    )
    parser.add_argument(
        "--bit-depth", type=int, choices=(8, 16), default=8, help="PNG bits (default: 8)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")

    real = parser.add_argument_group("realistic")
    real.add_argument(
        "--crop-size",
        type=positive_int,
        metavar="N",
        help="square crops of N px at a seeded position (as deblur eval --format synthetic); "
        "default: whole photos",
    )
    real.add_argument(
        "--frame-width",
        type=non_negative_int,
        metavar="W",
        help="the frame width blur sizes refer to; 0: each photo's longer side (default: 1280, "
        "as in training)",
    )
    _add_range(
        real,
        "--blur-size",
        non_negative_float,
        "blur size range as fractions of the frame width (default 0.0023 0.075: 3-96 px)",
    )

    kernel = parser.add_argument_group("kernel kinds (trajectory, linear, defocus, gaussian)")
    kernel.add_argument(
        "--kernel-size", type=positive_int, metavar="K", help="odd kernel side (default: 31)"
    )
    _add_range(kernel, "--length", non_negative_float, "line / trajectory length, pixels")
    _add_range(kernel, "--radius", non_negative_float, "defocus disk radius, pixels")
    _add_range(kernel, "--sigma", non_negative_float, "Gaussian sigma (x axis), pixels")
    _add_range(kernel, "--sigma-y", non_negative_float, "Gaussian sigma along y: anisotropic")
    kernel.add_argument(
        "--valid",
        action="store_true",
        help="cut kernel-size // 2 pixels off every side of both images, so no padded border "
        "reaches the blurry one",
    )
    kernel.add_argument(
        "--clip-highlights",
        action="store_true",
        help="boost near-white areas in linear light before blurring, so they saturate",
    )
    _add_range(kernel, "--highlight-gain", non_negative_float, "boost at white (default 1.5 4)")

    motion = parser.add_argument_group("gopro and frames")
    motion.add_argument(
        "--frames",
        nargs="+",
        type=positive_int,
        metavar=("LO", "HI"),
        help="odd number of (sub-)frames averaged per pair, or a range (default: 7 13)",
    )
    motion.add_argument(
        "--stride",
        type=positive_int,
        metavar="N",
        help="frames: frames between window starts (default: the window length, no overlap)",
    )
    _add_range(motion, "--translation", non_negative_float, "gopro: largest shift, px (2 16)")
    _add_range(motion, "--rotation", non_negative_float, "gopro: largest rotation, deg (0 1)")
    _add_range(motion, "--zoom", non_negative_float, "gopro: largest zoom, fraction (0 0.02)")
    _add_range(motion, "--moving-objects", non_negative_int, "gopro: objects moving (0)")

    camera = parser.add_argument_group("camera (every kind but realistic)")
    camera.add_argument(
        "--gamma",
        type=_gamma,
        default=_UNSET,
        help="blur/average in linear light through this curve: srgb, none, or a power such as "
        "2.2 (default: srgb)",
    )
    camera.add_argument(
        "--noise",
        choices=("gaussian", "poisson_gaussian", "none"),
        default=_UNSET,
        help="noise model (default: gaussian)",
    )
    _add_range(camera, "--noise-std", non_negative_float, "noise standard deviation (0)")
    _add_range(camera, "--photons", non_negative_float, "poisson_gaussian: photons at white")
    camera.add_argument(
        "--noise-domain",
        choices=("encoded", "linear"),
        default=_UNSET,
        help="add noise to the output values or to linear light (default: encoded)",
    )
    camera.add_argument(
        "--jpeg-quality",
        nargs="+",
        type=quality,
        metavar=("LO", "HI"),
        help="re-compress the blurry image as JPEG at this quality (or range)",
    )
    return parser


def _range(values: Sequence[Any] | None, flag: str, parser: argparse.ArgumentParser) -> Any:
    """One value, a ``(lo, hi)`` pair, or ``None``; more values or ``lo > hi`` are usage errors."""
    if values is None:
        return None
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        if values[0] > values[1]:
            parser.error(f"{flag} {values[0]} {values[1]}: the low value is above the high one")
        return (values[0], values[1])
    parser.error(f"{flag} takes one value or two (a range), got {len(values)}")
    raise AssertionError  # pragma: no cover - parser.error exits


def _check_kind_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    for name, kinds in _KIND_OPTIONS.items():
        value = getattr(args, name)
        if value is not _UNSET and value not in (None, False) and args.kind not in kinds:
            flag = "--" + name.replace("_", "-")
            parser.error(f"{flag} does not apply to --kind {args.kind} (only {', '.join(kinds)})")
        if value is _UNSET and args.kind in kinds and name in _CAMERA_DEFAULTS:
            setattr(args, name, _CAMERA_DEFAULTS[name])
    if args.kind == "realistic" and args.gamma is not _UNSET:
        parser.error(
            f"--gamma does not apply to --kind realistic (only {', '.join(_CAMERA_KINDS)})"
        )


def _build_sampler(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Any:
    from deblurgan.blur import BLUR_SAMPLERS

    spec: dict[str, Any] = {"name": args.kind, "kernel_size": args.kernel_size or 31}
    length = _range(args.length, "--length", parser)
    if length is not None:
        spec["max_length" if args.kind == "trajectory" else "length"] = length
    for name in ("radius", "sigma", "sigma_y"):
        value = _range(getattr(args, name), "--" + name.replace("_", "-"), parser)
        if value is not None:
            spec[name] = value
    return BLUR_SAMPLERS.from_spec(spec)


def _build_degradation(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Any:
    from deblurgan.blur import Degradation

    settings: dict[str, Any] = {
        "gamma": args.gamma,
        "noise": None if args.noise == "none" else args.noise,
        "noise_domain": args.noise_domain,
        "clip_highlights": bool(args.clip_highlights),
    }
    for name, flag in (
        ("noise_std", "--noise-std"),
        ("photons", "--photons"),
        ("jpeg_quality", "--jpeg-quality"),
        ("highlight_gain", "--highlight-gain"),
    ):
        value = _range(getattr(args, name), flag, parser)
        if value is not None:
            settings[name] = value
    return Degradation(**settings)


def _build_synthesizer(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Any:
    from deblurgan.blur import GoProBlurSynthesizer

    settings: dict[str, Any] = {"gamma": args.gamma}
    for name in ("translation", "rotation", "zoom", "moving_objects"):
        value = _range(getattr(args, name), "--" + name.replace("_", "-"), parser)
        if value is not None:
            settings[name] = value
    frames = _range(args.frames, "--frames", parser)
    return GoProBlurSynthesizer((7, 13) if frames is None else frames, **settings)


def _build_realistic(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Any:
    from deblurgan.blur import RealisticDegradation

    settings: dict[str, Any] = {}
    if args.frame_width is not None:
        settings["frame_width"] = args.frame_width or None
    size = _range(args.blur_size, "--blur-size", parser)
    if size is not None:
        settings["blur_size"] = size if isinstance(size, tuple) else (size, size)
    return RealisticDegradation(**settings)


def _default_scene(text: str) -> str:
    path = Path(text.rstrip("/\\") or text)
    name = path.stem if path.is_file() or path.suffix else path.name
    if not name or _GLOB_CHARS & set(name) or name in (".", ".."):
        name = "scene"
    return name


def _existing_outputs(scene: Path) -> list[Path]:
    found: list[Path] = []
    for folder in _OUTPUT_FOLDERS:
        if (scene / folder).is_dir():
            found.extend(p for p in (scene / folder).iterdir() if not p.name.startswith("."))
    return found


def _inside_outputs(paths: Sequence[Path], scene: Path) -> Path | None:
    """The first input that lies in one of the scene's output folders, if any."""
    folders = [(scene / f).resolve() for f in _OUTPUT_FOLDERS]
    for path in paths:
        resolved = path.resolve()
        if any(resolved == f or resolved.is_relative_to(f) for f in folders):
            return path
    return None


def blur_main(argv: Sequence[str]) -> int:
    """Run ``deblur blur``; returns the exit code (argparse exits with 2 on usage errors)."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    _check_kind_options(args, parser)
    if args.kernel_size is not None and args.kernel_size % 2 == 0:
        parser.error(f"--kernel-size must be odd, got {args.kernel_size}")
    try:
        camera = None if args.kind == "realistic" else _build_degradation(args, parser)
        if args.kind == "realistic":
            engine = _build_realistic(args, parser)
        elif args.kind in KERNEL_KINDS:
            engine = _build_sampler(args, parser)
        elif args.kind == "gopro":
            engine = _build_synthesizer(args, parser)
        else:
            from deblurgan.blur.frames import odd_counts

            frames = _range(args.frames, "--frames", parser)
            engine = (7, 13) if frames is None else frames
            odd_counts(engine)
    except (ValueError, TypeError, KeyError) as exc:
        parser.error(one_line(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc))

    from deblurgan.io import ImageError, find_images, is_image_path

    source = Path(args.input)
    video: Path | None = None
    files: list[Path] | None = None
    input_problems: list[ImageError] = []  # link loops, unreadable folders: reported, skipped
    if args.kind == "frames" and source.is_file():
        if is_image_path(source):
            parser.error(f"--kind frames takes a video file or a folder of frames, not {source}")
        video = source
        from deblurgan.blur.frames import import_av

        try:
            import_av()  # before any folder is made: a missing extra is one line
        except ImportError as exc:
            print(f"{_PROG}: error: {describe_failure(source, exc)}", file=sys.stderr)
            return 2
    else:
        try:
            files = find_images([args.input], problems=input_problems)
        except ImageError as exc:
            print(f"{_PROG}: error: {exc}", file=sys.stderr)
            return 2
        if args.kind == "frames" and not source.is_dir():
            parser.error("--kind frames takes a video file or a folder of frames")
    scene_name = args.scene if args.scene is not None else _default_scene(args.input)
    if not scene_name or scene_name in (".", "..") or any(c in scene_name for c in "/\\"):
        parser.error(f"--scene must be a plain folder name, got {scene_name!r}")
    scene = Path(args.output) / scene_name
    inputs = [video] if video is not None else list(files or [])
    clash = _inside_outputs(inputs, scene)
    if clash is not None:
        print(
            f"{_PROG}: error: refusing to write into {scene}: input {clash} lies in its output "
            "folders (inputs are never overwritten, not even with --force); choose another "
            "OUT_DIR or --scene",
            file=sys.stderr,
        )
        return 2
    existing = _existing_outputs(scene)
    if existing and not args.force:
        print(
            f"{_PROG}: error: {scene} already holds {len(existing)} output file(s) "
            f"(e.g. {existing[0]}); use --force to write over them",
            file=sys.stderr,
        )
        return 2

    writer = PairWriter(scene, args.bit_depth, replace=args.force)
    failures: list[str] = [str(problem) for problem in input_problems]
    if files is not None and args.limit is not None and args.kind != "frames":
        files = files[: args.limit]
    if not args.quiet:
        count = f"{len(files)} input(s)" if files is not None and args.kind != "frames" else ""
        print(f"{_PROG}: {args.kind} blur -> {scene} {count}".rstrip(), file=sys.stderr)
    settings = WriteSettings(
        seed=args.seed,
        kind=args.kind,
        quiet=args.quiet,
        valid=bool(getattr(args, "valid", False)),
        crop_size=getattr(args, "crop_size", None),
        stride=getattr(args, "stride", 1),
        gamma=getattr(args, "gamma", "srgb"),
        limit=args.limit,
    )
    if args.kind == "realistic":
        write_realistic_pairs(settings, files or [], engine, writer, failures)
    elif args.kind in KERNEL_KINDS:
        write_kernel_pairs(settings, files or [], engine, camera, writer, failures)
    elif args.kind == "gopro":
        write_gopro_pairs(settings, files or [], engine, camera, writer, failures)
    else:
        write_frame_pairs(settings, video or source, files, engine, camera, writer, failures)

    if not args.quiet or failures:
        print(f"{writer.written} pair(s) written to {scene}, {len(failures)} failed")
        sys.stdout.flush()
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0
