"""16-bit decoding that Pillow does not do: full-precision 16-bit colour PNG/TIFF and PPM/PGM.

Pillow decodes 16-bit RGB(A) and grey+alpha files to 8 bits per sample and reads binary
PPM/PGM with a maxval over 255 coarsely; :func:`deblurgan.io.read_image` uses these to keep every
bit. The encoders are in :mod:`deblurgan.io._encode16`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ImageFile

__all__ = ["decode_16bit_colour", "decode_ppm16", "rawmode", "source_is_16bit"]

_NATIVE_ORDER = "L" if sys.byteorder == "little" else "B"
_RGB16 = re.compile(r"(RGBA?);16([BLN])")


def rawmode(tile: Any) -> str | None:
    """The raw mode of a Pillow tile (how its bytes unpack), or None."""
    args = tile.args
    if isinstance(args, str):
        return args
    if isinstance(args, tuple) and args and isinstance(args[0], str):
        return args[0]
    return None


def _with_rawmode(tile: Any, mode: str) -> Any:
    args = tile.args
    new_args = mode if isinstance(args, str) else (mode, *args[1:])
    return tile._replace(args=new_args)


def source_is_16bit(img: ImageFile.ImageFile) -> bool:
    if img.mode.startswith("I;16"):
        return True
    if img.format == "PPM" and img.tile and img.tile[0].codec_name == "ppm":
        maxval = img.tile[0].args[1] if isinstance(img.tile[0].args, tuple) else 255
        return int(maxval) > 255
    return any((rawmode(tile) or "").endswith(("16B", "16L", "16N")) for tile in img.tile)


def decode_16bit_colour(
    img: ImageFile.ImageFile, reopen: Callable[[], ImageFile.ImageFile]
) -> np.ndarray | None:
    """Full-precision samples of a 16-bit RGB/RGBA/LA file that Pillow decodes to 8 bits.

    Pillow's 16-bit colour unpackers keep only the most significant byte of each sample. The
    decoders (zlib/PNG filters, raw, libtiff) are byte-exact, so the same tiles are decoded again
    with an unpacker that keeps the other byte (the opposite byte order); for grey+alpha PNG an
    8-bit RGBA unpacker of the same width keeps all four bytes. Must run before ``img.load()``;
    ``reopen`` opens the same file again (with the caller's decoding limits).

    Returns:
        ``(H, W, C)`` uint16 in RGB(A) or LA order, or ``None`` when the layout is not one of these.
    """
    tiles = list(img.tile)
    rawmodes = {rawmode(tile) for tile in tiles}
    if len(rawmodes) != 1 or any(t.codec_name not in ("zip", "raw", "libtiff") for t in tiles):
        return None
    (raw,) = rawmodes
    if raw is None:
        return None
    if raw == "LA;16B" and img.mode == "RGBA":
        with reopen() as other:
            other.tile = [_with_rawmode(tile, "RGBA") for tile in other.tile]
            other.load()
            octets = np.asarray(other).astype(np.uint16)  # (H, W, 4): L hi, L lo, A hi, A lo
        return octets[..., 0::2] * 256 + octets[..., 1::2]
    match = _RGB16.fullmatch(raw)
    if match is None or img.mode != match[1]:
        return None
    order = _NATIVE_ORDER if match[2] == "N" else match[2]
    low_rawmode = f"{match[1]};16{'L' if order == 'B' else 'B'}"
    with reopen() as other:
        other.tile = [_with_rawmode(tile, low_rawmode) for tile in other.tile]
        other.load()
        low = np.asarray(other)
    img.load()
    high = np.asarray(img)
    return high.astype(np.uint16) * 256 + low


def decode_ppm16(img: ImageFile.ImageFile, path: Path) -> np.ndarray | None:
    """Binary PPM/PGM with maxval > 255: big-endian samples read directly, scaled to 16 bits."""
    tile = img.tile[0]
    channels = {"RGB": 3, "I;16": 1, "I;16B": 1, "I": 1}.get(img.mode)
    if channels is None or len(img.tile) != 1 or not isinstance(tile.args, tuple):
        return None
    maxval = int(tile.args[1])
    if maxval <= 255:
        return None
    count = img.width * img.height * channels
    with open(path, "rb") as fh:
        fh.seek(tile.offset)
        data = np.fromfile(fh, dtype=">u2", count=count)
    if data.size != count:
        msg = f"image file is truncated ({data.size} of {count} samples)"
        raise OSError(msg)
    samples = np.minimum(data.astype(np.uint32), maxval)
    scaled = (samples * 65535 + maxval // 2) // maxval
    return scaled.astype(np.uint16).reshape(img.height, img.width, channels)
