"""Deblur image files: read, restore, write back with the source's bit depth, alpha, EXIF, ICC."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.io import (
    DEFAULT_MAX_PIXELS,
    WRITE_EXTENSIONS,
    DecodedImage,
    printable,
    read_image,
    rgb_to_grey,
    write_image,
)

__all__ = ["FALLBACK_SUFFIX", "deblur_file", "output_suffix", "warn_other_frames"]

logger = logging.getLogger(__name__)

#: Format written for sources whose own format cannot be written (BMP, PPM, PGM, ...): lossless.
FALLBACK_SUFFIX = ".png"


def _is_grey(mode: str) -> bool:
    """Whether a source mode, as :func:`read_image` reports it, holds grey pixels."""
    return mode in ("1", "L", "LA", "LA;16", "I", "F") or mode.startswith("I;16")


def warn_other_frames(decoded: DecodedImage) -> None:
    """Log one warning when ``decoded`` came from an animated or multi-page file: only its first
    frame is processed (the output is a still image)."""
    if decoded.frames > 1:
        logger.warning(
            "%s: has %d frames (animated or multi-page); only frame 1 was restored",
            printable(decoded.path),
            decoded.frames,
        )


def output_suffix(source: str | os.PathLike[str]) -> str:
    """The extension to write a restored ``source`` with: its own when writable, else ``.png``.

    Args:
        source: the input file.

    Example:
        >>> output_suffix("holiday/IMG_1.JPG"), output_suffix("scan.bmp"), output_suffix("raw")
        ('.JPG', '.png', '.png')
    """
    suffix = Path(source).suffix
    return suffix if suffix.lower() in WRITE_EXTENSIONS else FALLBACK_SUFFIX


def deblur_file(
    deblurrer: Deblurrer,
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    quality: int = 95,
    replace: bool = True,
) -> Path:
    """Restore one image file and write the result atomically.

    The output keeps the source's bit depth (16-bit PNG/TIFF stay 16-bit where the target format
    holds 16 bits), its alpha channel (unchanged: only the colour is restored), its EXIF block
    (orientation reset, since the pixels are read upright) and its RGB ICC profile. The target's
    extension picks the format; a JPEG target drops the alpha channel with a warning.

    Grey sources (modes ``1 L LA I I;16 F``, 8- or 16-bit) come back grey: the restored RGB is
    reduced to ITU-R BT.601 luma, as Pillow's RGB -> L conversion does (WebP, which has no grey
    mode, stores it as RGB). Palette and CMYK sources come back RGB: a palette could not hold the
    restored colours, and CMYK pixels were converted to RGB for display when read (there is no
    colour management to convert them back).

    Args:
        deblurrer: the restoring model.
        source: the blurry image file.
        target: where to write; parent folders are created. The caller decides whether an
            existing file may be replaced (the CLI never replaces an input).
        max_pixels: refuse sources larger than this (decompression-bomb guard); ``None``: no limit.
        quality: JPEG/WebP quality, 1-100.
        replace: replace an existing ``target``; with ``False`` it is created exclusively, so
            a file that another process writes there meanwhile is never replaced.

    Returns:
        The written path.

    Raises:
        ImageError: the source cannot be read or the target cannot be written.

    Example:
        >>> import tempfile, torch
        >>> from torch import nn
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = write_image(folder / "in.png", torch.rand(3, 8, 12), bit_depth=16)
        >>> out = deblur_file(Deblurrer(nn.Identity(), device="cpu"), folder / "in.png",
        ...                   folder / "out.png")
        >>> read_image(out).bit_depth, tuple(read_image(out).rgb.shape)
        (16, (3, 8, 12))
    """
    decoded = read_image(source, max_pixels=max_pixels)
    warn_other_frames(decoded)
    restored = deblurrer(decoded.rgb)
    grey = _is_grey(decoded.mode)
    if grey:
        restored = rgb_to_grey(restored)
    alpha = decoded.alpha
    target = Path(target)
    if alpha is not None and target.suffix.lower() in (".jpg", ".jpeg"):
        logger.warning(
            "%s: JPEG cannot hold the alpha channel of %s; dropping it",
            printable(target),
            printable(source),
        )
        alpha = None
    return write_image(
        target,
        restored,
        alpha=alpha,
        bit_depth=decoded.bit_depth,
        quality=quality,
        exif=decoded.exif,
        icc_profile=None if grey else decoded.icc_profile,  # an RGB profile cannot describe grey
        replace=replace,
    )
