"""16-bit PNG and TIFF encoders (Pillow has no 16-bit-per-sample RGB, RGBA or LA mode to write).

PNG follows the PNG specification (ISO/IEC 15948, W3C PNG 3rd edition): IHDR, iCCP, eXIf, IDAT,
IEND, with per-row adaptive filtering (the minimum-sum-of-absolute-differences heuristic of libpng);
it takes grey, grey+alpha, RGB and RGBA. TIFF is baseline TIFF 6.0, chunky grey or RGB(A), 16 bits
per sample, Adobe deflate with horizontal differencing (predictor 2); its tags are serialised by
Pillow's ``ImageFileDirectory_v2``. TIFF grey+alpha is not offered: Pillow cannot read it back.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

import numpy as np
from PIL import Image, TiffImagePlugin, TiffTags

__all__ = ["write_png16", "write_tiff16"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EXIF_HEADER = b"Exif\x00\x00"
_ROW_BLOCK_BYTES = 1 << 20  # filter this many bytes of rows at a time (bounded memory)
_TIFF_STRIP_BYTES = 1 << 18

# TIFF tags that describe the pixel layout: ours win over any that an EXIF blob carries.
_STRUCTURAL_TAGS = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 284, 317, 320, 322, 323, 324, 325}
    | {338, 339, 340, 341, 347, 513, 514, 530, 531, 532, 34675}
)


def _check_pixels(pixels: np.ndarray, allowed: tuple[int, ...]) -> tuple[int, int, int]:
    if pixels.dtype != np.uint16 or pixels.ndim != 3 or pixels.shape[2] not in allowed:
        counts = "|".join(map(str, allowed))
        msg = f"expected (H, W, {counts}) uint16 pixels, got {pixels.shape} {pixels.dtype}"
        raise ValueError(msg)
    height, width, channels = pixels.shape
    if height == 0 or width == 0:
        msg = f"cannot encode an empty image ({height}x{width})"
        raise ValueError(msg)
    return height, width, channels


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _filter_rows(rows: np.ndarray, prior: np.ndarray, bpp: int) -> np.ndarray:
    """Filter a block of raw PNG rows, choosing per row the filter with the smallest residual.

    Args:
        rows: ``(n, stride)`` uint8, the raw bytes of ``n`` consecutive scanlines.
        prior: ``(stride,)`` uint8, the raw scanline above ``rows[0]`` (zeros for the first row).
        bpp: bytes per complete pixel (2 for grey, 4 for grey+alpha, 6 for RGB, 8 for RGBA).

    Returns:
        ``(n, 1 + stride)`` uint8: filter type byte followed by the filtered scanline.
    """
    x = rows.astype(np.int16)
    up = np.concatenate([prior[None].astype(np.int16), x[:-1]], axis=0)
    left = np.zeros_like(x)
    left[:, bpp:] = x[:, :-bpp]
    up_left = np.zeros_like(x)
    up_left[:, bpp:] = up[:, :-bpp]
    # Paeth predictor on the raw (unfiltered) bytes, as the specification defines it.
    estimate = left + up - up_left
    dist_left = np.abs(estimate - left)
    dist_up = np.abs(estimate - up)
    dist_up_left = np.abs(estimate - up_left)
    paeth = np.where(
        (dist_left <= dist_up) & (dist_left <= dist_up_left),
        left,
        np.where(dist_up <= dist_up_left, up, up_left),
    )
    # Filter types 0-4: None, Sub, Up, Average, Paeth. Residuals are taken modulo 256.
    candidates = np.stack([x, x - left, x - up, x - ((left + up) >> 1), x - paeth]).astype(np.uint8)
    cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)  # (5, n)
    choice = cost.argmin(axis=0)  # (n,)
    out = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=np.uint8)
    out[:, 0] = choice
    out[:, 1:] = candidates[choice, np.arange(rows.shape[0])]
    return out


def write_png16(
    fh: BinaryIO,
    pixels: np.ndarray,
    *,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    compress_level: int = 6,
) -> None:
    """Write a 16-bit grey, grey+alpha, RGB or RGBA PNG.

    Args:
        fh: binary file object to write to.
        pixels: ``(H, W, C)`` uint16 samples: ``C`` = 1 (grey), 2 (grey + straight alpha),
            3 (RGB) or 4 (RGB + straight alpha).
        exif: EXIF blob (with or without the ``Exif\\0\\0`` header) stored in an ``eXIf`` chunk.
        icc_profile: ICC profile stored (deflated) in an ``iCCP`` chunk.
        compress_level: zlib level, 0-9.

    Example:
        >>> import io
        >>> buf = io.BytesIO()
        >>> write_png16(buf, np.full((2, 3, 3), 65535, dtype=np.uint16))
        >>> Image.open(buf).size
        (3, 2)
    """
    height, width, channels = _check_pixels(pixels, (1, 2, 3, 4))
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]  # grey, grey+alpha, RGB, RGBA
    fh.write(_PNG_SIGNATURE)
    fh.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)))
    if icc_profile:
        fh.write(_png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc_profile)))
    if exif:
        fh.write(_png_chunk(b"eXIf", exif.removeprefix(_EXIF_HEADER)))

    bpp = 2 * channels
    stride = width * bpp
    block = max(1, _ROW_BLOCK_BYTES // stride)
    compressor = zlib.compressobj(compress_level)
    prior = np.zeros(stride, dtype=np.uint8)
    for top in range(0, height, block):
        # PNG samples are big-endian: (n, W, C) uint16 -> (n, stride) bytes.
        raw = np.ascontiguousarray(pixels[top : top + block], dtype=">u2").view(np.uint8)
        raw = raw.reshape(raw.shape[0], stride)
        data = compressor.compress(_filter_rows(raw, prior, bpp).tobytes())
        if data:
            fh.write(_png_chunk(b"IDAT", data))
        prior = raw[-1]
    fh.write(_png_chunk(b"IDAT", compressor.flush()))
    fh.write(_png_chunk(b"IEND", b""))


def _exif_tags(exif: bytes) -> dict[int, object]:
    """The non-structural tags of an EXIF blob, sub-IFDs (Exif, GPS, ...) as dicts."""
    parsed = Image.Exif()
    parsed.load(exif)
    tags: dict[int, object] = {}
    for key in parsed:
        if key in _STRUCTURAL_TAGS:
            continue
        tags[key] = parsed.get_ifd(key) if key in TiffTags.TAGS_V2_GROUPS else parsed[key]
    return tags


def write_tiff16(
    fh: BinaryIO,
    pixels: np.ndarray,
    *,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    compress_level: int = 6,
) -> None:
    """Write a 16-bit grey, RGB or RGBA TIFF (little-endian, deflate + horizontal predictor).

    Args:
        fh: binary file object to write to (positioned at its start).
        pixels: ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` uint16 samples; a fourth channel
            is written as unassociated (straight) alpha.
        exif: EXIF blob; its tags go into the image directory (orientation and the Exif/GPS
            sub-directories included), except tags that describe the pixel layout.
        icc_profile: ICC profile (tag 34675).
        compress_level: zlib level, 0-9.

    Example:
        >>> import io
        >>> buf = io.BytesIO()
        >>> write_tiff16(buf, np.zeros((2, 3, 4), dtype=np.uint16))
        >>> Image.open(buf).size
        (3, 2)
    """
    height, width, channels = _check_pixels(pixels, (1, 3, 4))
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    if exif:
        for key, value in _exif_tags(exif).items():
            ifd[key] = value
    if icc_profile:
        ifd[34675] = icc_profile

    # Horizontal differencing (predictor 2): each sample minus its left neighbour, modulo 2**16.
    diff = pixels.copy()
    diff[:, 1:] -= pixels[:, :-1]
    row_bytes = width * channels * 2
    rows_per_strip = max(1, min(height, _TIFF_STRIP_BYTES // row_bytes))
    strips = [
        zlib.compress(diff[top : top + rows_per_strip].astype("<u2").tobytes(), compress_level)
        for top in range(0, height, rows_per_strip)
    ]
    offsets = np.cumsum([0] + [len(s) for s in strips[:-1]]).tolist()

    ifd[256] = width
    ifd[257] = height
    ifd[258] = (16,) * channels
    ifd[259] = 8  # Adobe deflate
    ifd[262] = 1 if channels == 1 else 2  # BlackIsZero grey, or RGB
    ifd[277] = channels
    ifd[278] = rows_per_strip
    ifd.tagtype[273] = TiffTags.LONG
    ifd.tagtype[279] = TiffTags.LONG
    ifd[273] = tuple(offsets)  # relative to the pixel data; the IFD writer adds its own size
    ifd[279] = tuple(len(s) for s in strips)
    ifd[284] = 1  # chunky
    ifd[317] = 2  # horizontal differencing
    ifd[339] = (1,) * channels  # unsigned integers
    if channels == 4:
        ifd[338] = 2  # unassociated alpha
    data_offset = ifd.save(fh)  # writes the header and the directory, returns where data starts
    if fh.tell() != data_offset:  # pragma: no cover - defensive
        msg = f"TIFF directory ends at {fh.tell()}, expected {data_offset}"
        raise RuntimeError(msg)
    for strip in strips:
        fh.write(strip)
