"""Read and write image files as float RGB tensors in [0, 1]: all common modes, 8/16 bits, EXIF.

Reading goes through Pillow, with two additions: a decompression-bomb guard that looks only at the
header, and full 16-bit precision for colour PNG/TIFF (Pillow reports those as 8-bit modes; the
second byte of every sample is recovered by decoding the same tiles a second time with the
opposite byte order). Writing is atomic (a temporary file in the target folder, then
``os.replace``). There is no colour management: pixel values pass through unchanged, and an RGB
ICC profile travels with them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
from PIL import Image, ImageFile, TiffTags, UnidentifiedImageError
from torch import Tensor

from deblurgan.io._decode16 import decode_16bit_colour, decode_ppm16, rawmode, source_is_16bit
from deblurgan.io._encode16 import write_png16, write_tiff16
from deblurgan.io.atomic import atomic_write
from deblurgan.io.errors import ImageError, printable

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "WRITE_EXTENSIONS",
    "DecodedImage",
    "image_pixels",
    "image_to_tensor",
    "read_image",
    "rgb_to_grey",
    "tensor_to_array",
    "write_image",
]

logger = logging.getLogger(__name__)

#: ITU-R BT.601 luma weights: Pillow's RGB -> "L" conversion.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def rgb_to_grey(rgb: Tensor) -> Tensor:
    """Luma of RGB images with Pillow's weights (ITU-R BT.601), keeping a channel axis.

    Shape:
        - rgb: ``(..., 3, H, W)``
        - output: ``(..., 1, H, W)``

    Example:
        >>> rgb_to_grey(torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)).flatten().tolist()
        [0.29899999499320984]
    """
    if rgb.ndim < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"rgb_to_grey needs (..., 3, H, W) images, got shape {tuple(rgb.shape)}")
    red, green, blue = rgb.unbind(dim=-3)
    return (LUMA_WEIGHTS[0] * red + LUMA_WEIGHTS[1] * green + LUMA_WEIGHTS[2] * blue).unsqueeze(-3)


#: Largest image (width x height) that :func:`read_image` decodes unless told otherwise: a guard
#: against decompression bombs (a small file that expands to gigabytes) and a memory bound. 100
#: megapixels: restoring one with the shipped model peaks near 5.0 GB (0.37 GB + 46 MB per
#: megapixel, measured by benchmarks/memory_per_megapixel.py), which an 8 GB machine holds.
DEFAULT_MAX_PIXELS = 100_000_000

#: Extension (lower case) -> Pillow format name, for :func:`write_image`.
_WRITE_FORMATS = {
    ".jpeg": "JPEG",
    ".jpg": "JPEG",
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
}
#: Extensions :func:`write_image` accepts.
WRITE_EXTENSIONS: tuple[str, ...] = tuple(sorted(_WRITE_FORMATS))

_ORIENTATION = 0x0112
_EXIF_HEADER = b"Exif\x00\x00"
_MAX_SIDE = {"JPEG": 65_535, "WEBP": 16_383}
# TIFF tags that describe the file's layout rather than the picture; not carried as EXIF.
_TIFF_LAYOUT_TAGS = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 280, 281, 284, 292, 293}
    | {317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 513, 514}
    | {529, 530, 531, 532, 700, 33723, 34377, 34675, 37724}
)
_PIL_LIMIT_LOCK = threading.Lock()


@contextlib.contextmanager
def _warnings_logged(path: Path) -> Iterator[None]:
    """Python warnings raised inside (Pillow's "Corrupt EXIF data", ...) become log lines that
    name ``path``, instead of Python's two-line form that names Pillow's source file."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        logger.warning("%s: %s", printable(path), warning.message)


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """An image file decoded to float RGB, plus what is needed to write it back faithfully.

    Attributes:
        rgb: ``(3, H, W)`` float32 in [0, 1], EXIF orientation already applied.
        alpha: ``(1, H, W)`` float32 in [0, 1] (straight, not premultiplied), or ``None`` when the
            file has no transparency.
        bit_depth: 8 or 16: the precision of the source samples (16 for 16-bit integer and
            floating-point files). Writing with the same depth keeps the precision.
        mode: the source's Pillow mode (``"RGB"``, ``"P"``, ``"CMYK"``, ``"I;16"``...); 16-bit
            colour sources, which Pillow reports as 8-bit modes, read ``"RGB;16"``, ``"RGBA;16"``
            or ``"LA;16"``.
        exif: the EXIF blob (``Exif\\0\\0`` header included) with the orientation reset to 1,
            since ``rgb`` is already upright; ``None`` if the file has none.
        icc_profile: the ICC profile if the file has one that describes RGB (grey and CMYK
            profiles no longer describe the converted pixels and are dropped), else ``None``.
        path: the file that was read.
        frames: how many frames or pages the file holds (animated GIF, WebP and PNG,
            multi-page TIFF); ``rgb`` is the first one.
    """

    rgb: Tensor
    alpha: Tensor | None
    bit_depth: int
    mode: str
    exif: bytes | None
    icc_profile: bytes | None
    path: Path
    frames: int = 1

    @property
    def height(self) -> int:
        return int(self.rgb.shape[-2])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[-1])


# --------------------------------------------------------------------------------------------
# array <-> tensor


def image_to_tensor(array: np.ndarray) -> Tensor:
    """Convert an ``(H, W)`` or ``(H, W, C)`` image array to a ``(C, H, W)`` float32 tensor.

    Integer samples are divided by their full scale (255 for uint8, 65535 for uint16), so the
    conversion is exact to float32 rounding and :func:`tensor_to_array` inverts it. Float arrays are
    taken to be in [0, 1] already and only cast.

    Args:
        array: uint8, uint16, bool or floating-point image.

    Shape:
        - array: ``(H, W)`` or ``(H, W, C)``
        - output: ``(C, H, W)`` (``C = 1`` for 2-D input)

    Example:
        >>> image_to_tensor(np.array([[0, 128, 255]], dtype=np.uint8))
        tensor([[[0.0000, 0.5020, 1.0000]]])
    """
    if not isinstance(array, np.ndarray):
        msg = f"array must be a numpy array, got {type(array).__name__}"
        raise TypeError(msg)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        msg = f"array must have shape (H, W) or (H, W, C), got {array.shape}"
        raise ValueError(msg)
    if array.dtype == np.bool_:
        scaled = array.astype(np.float32)
    elif array.dtype == np.uint8:
        scaled = array.astype(np.float32) / np.float32(255)
    elif array.dtype == np.uint16:
        scaled = array.astype(np.float32) / np.float32(65535)
    elif np.issubdtype(array.dtype, np.floating):
        scaled = array.astype(np.float32)
    else:
        msg = f"array dtype must be uint8, uint16, bool or floating point, got {array.dtype}"
        raise TypeError(msg)
    return torch.from_numpy(np.ascontiguousarray(scaled.transpose(2, 0, 1)))


def tensor_to_array(image: Tensor, *, bit_depth: int = 8) -> np.ndarray:
    """Convert a ``(C, H, W)`` float tensor in [0, 1] to an ``(H, W, C)`` uint8 or uint16 array.

    Values are clamped to [0, 1], scaled to the full range of the bit depth and rounded to the
    nearest integer.

    Args:
        image: floating-point tensor, on any device.
        bit_depth: 8 (uint8) or 16 (uint16).

    Shape:
        - image: ``(C, H, W)``
        - output: ``(H, W, C)``

    Example:
        >>> tensor_to_array(torch.tensor([[[0.0, 0.5, 1.2]]]))[0, :, 0]
        array([  0, 128, 255], dtype=uint8)
    """
    if not isinstance(image, Tensor):
        msg = f"image must be a torch.Tensor, got {type(image).__name__}"
        raise TypeError(msg)
    if not image.is_floating_point():
        msg = f"image must be a floating-point tensor in [0, 1], got dtype {image.dtype}"
        raise TypeError(msg)
    if image.ndim != 3:
        msg = f"image must have shape (C, H, W), got {tuple(image.shape)}"
        raise ValueError(msg)
    if bit_depth not in (8, 16):
        msg = f"bit_depth must be 8 or 16, got {bit_depth!r}"
        raise ValueError(msg)
    if torch.isnan(image).any():
        msg = "image contains NaN values; cannot convert them to pixels"
        raise ValueError(msg)
    scale = 255.0 if bit_depth == 8 else 65535.0
    levels = image.detach().to(device="cpu", dtype=torch.float32).clamp(0.0, 1.0).mul(scale)
    array = levels.round_().permute(1, 2, 0).numpy()
    return np.ascontiguousarray(array, dtype=np.uint8 if bit_depth == 8 else np.uint16)


# --------------------------------------------------------------------------------------------
# EXIF and ICC


def _icc_colour_space(profile: bytes) -> bytes:
    # ICC header: bytes 16-19 hold the data colour space signature ("RGB ", "GRAY", "CMYK", ...).
    return profile[16:20] if len(profile) >= 20 else b""


def _with_upright_orientation(exif: bytes) -> bytes:
    """The EXIF blob, ``Exif\\0\\0``-prefixed, with any orientation other than 1 reset to 1.

    Raises:
        ValueError: the blob cannot be parsed (and it claims a rotation, so it cannot be kept).
    """
    if not exif.startswith(_EXIF_HEADER):
        exif = _EXIF_HEADER + exif
    parsed = Image.Exif()
    parsed.load(exif)
    if parsed.get(_ORIENTATION, 1) == 1:
        return exif  # untouched: re-serialising could disturb maker notes
    parsed[_ORIENTATION] = 1
    return parsed.tobytes()


def _tiff_exif(img: ImageFile.ImageFile) -> bytes | None:
    """For TIFF sources, whose metadata lives in the image directory: the picture's tags as EXIF."""
    source = img.getexif()
    exif = Image.Exif()  # a fresh one: the image's own directory must stay intact
    for tag in source:
        if tag in _TIFF_LAYOUT_TAGS:
            continue
        exif[tag] = source.get_ifd(tag) if tag in TiffTags.TAGS_V2_GROUPS else source[tag]
    if not [tag for tag in exif if tag != _ORIENTATION]:
        return None
    return exif.tobytes()


# --------------------------------------------------------------------------------------------
# reading


def _open(path: Path) -> ImageFile.ImageFile:
    """``Image.open`` (lazy: header only) without Pillow's own decompression-bomb limit.

    :func:`read_image` applies its own ``max_pixels``; Pillow's global ``MAX_IMAGE_PIXELS``
    (89 megapixels by default) would otherwise warn on, or refuse, images that the caller allows.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError:
            pass
        # Lift the global limit for this header parse only, restoring it at once.
        with _PIL_LIMIT_LOCK:
            saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                return Image.open(path)
            finally:
                Image.MAX_IMAGE_PIXELS = saved


def image_pixels(path: str | os.PathLike[str]) -> int | None:
    """Width x height from the file's header (nothing decoded, no warning), or ``None`` when it
    is not a readable image: a size for planning work (``--backend auto`` weighs a batch in
    pixels). Problems are left to :func:`read_image`, which reports them in the file's turn.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "a.png"
        >>> Image.new("RGB", (40, 30)).save(path)
        >>> image_pixels(path), image_pixels(path.with_name("missing.png"))
        (1200, None)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with _open(Path(path)) as img:
                return int(img.width) * int(img.height)
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
            return None


def _decode(img: ImageFile.ImageFile, path: Path) -> tuple[np.ndarray, np.ndarray | None, int, str]:
    """Decode pixels: ``(H, W, 3)`` rgb, ``(H, W)`` alpha or None, bit depth, source mode."""
    mode = img.mode
    if source_is_16bit(img) and mode in ("RGB", "RGBA"):
        if img.format == "PPM":
            samples = decode_ppm16(img, path)
        else:
            samples = decode_16bit_colour(img, lambda: _open(path))
        if samples is not None:
            if samples.shape[2] == 2:  # LA
                return samples[..., [0, 0, 0]], samples[..., 1], 16, "LA;16"
            alpha16 = samples[..., 3] if samples.shape[2] == 4 else None
            return samples[..., :3], alpha16, 16, f"{mode};16"
        logger.warning(
            "%s: 16-bit %s layout %s not supported for full precision; read as 8 bits",
            path,
            mode,
            [rawmode(t) for t in img.tile],
        )
        img.load()
        data = np.asarray(img)
        return data[..., :3], (data[..., 3] if mode == "RGBA" else None), 16, mode

    if mode.startswith("I;16") or mode == "I":
        if img.format == "PPM" and img.tile and img.tile[0].codec_name == "ppm":
            grey16 = decode_ppm16(img, path)
            if grey16 is not None:
                return grey16[..., [0, 0, 0]], None, 16, mode
        img.load()
        # Mode "I" (32-bit int) is how some sources carry 16-bit grey; clip to that range.
        grey = np.clip(np.asarray(img), 0, 65535).astype(np.uint16)
        return np.repeat(grey[..., None], 3, axis=2), None, 16, mode
    if mode == "F":
        img.load()
        grey_f = np.nan_to_num(np.asarray(img, dtype=np.float32), nan=0.0)
        grey_f = np.clip(grey_f, 0.0, 1.0)
        return np.repeat(grey_f[..., None], 3, axis=2), None, 16, mode

    has_key_colour = mode in ("L", "RGB") and img.info.get("transparency") is not None
    if mode in ("RGBA", "LA", "PA", "RGBa") or has_key_colour:
        target = "RGBA"
    elif mode == "P":
        target = "RGBA" if "transparency" in img.info else "RGB"
    else:  # RGB, L, 1, CMYK, YCbCr, RGBX, HSV, LAB, ...
        target = "RGB"
    img.load()
    converted: Image.Image = img
    if mode != target:
        try:
            converted = img.convert(target)
        except ValueError as exc:
            msg = f"unsupported colour mode {mode} ({exc})"
            raise ImageError(path, msg) from exc
    data = np.asarray(converted)
    if target == "RGBA":
        return data[..., :3], data[..., 3], 8, mode
    return data, None, 8, mode


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF orientation 1-8 to an ``(H, W, ...)`` array, like ``ImageOps.exif_transpose``."""
    transforms: dict[int, Callable[[np.ndarray], np.ndarray]] = {
        2: lambda a: a[:, ::-1],  # mirror left-right
        3: lambda a: a[::-1, ::-1],  # rotate 180
        4: lambda a: a[::-1],  # mirror top-bottom
        5: lambda a: a.swapaxes(0, 1),  # transpose
        6: lambda a: np.rot90(a, -1),  # rotate 90 clockwise
        7: lambda a: np.rot90(a, 2).swapaxes(0, 1),  # transverse
        8: lambda a: np.rot90(a, 1),  # rotate 90 counter-clockwise
    }
    transform = transforms.get(orientation)
    return array if transform is None else transform(array)


def _check_max_pixels(max_pixels: int | None) -> None:
    if max_pixels is not None and (
        isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0
    ):
        msg = f"max_pixels must be a positive int or None (no limit), got {max_pixels!r}"
        raise ValueError(msg)


def _read_error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        return f"file is truncated or corrupt ({text})"
    return f"cannot decode image data ({type(exc).__name__}: {text})"


def _png_is_complete(path: Path) -> bool:
    """Whether a PNG's chunk chain reaches IEND (Pillow accepts files cut after the last row)."""
    with open(path, "rb") as fh:
        fh.seek(8)  # signature
        while True:
            header = fh.read(8)
            if len(header) < 8:
                return False
            length = int.from_bytes(header[:4], "big")
            if header[4:] == b"IEND":
                return len(fh.read(4)) == 4  # its CRC
            fh.seek(length + 4, os.SEEK_CUR)  # data and CRC


def _frame_count(img: ImageFile.ImageFile) -> int:
    """Frames of an animated file or pages of a multi-page TIFF (1 when it cannot tell)."""
    try:
        count = int(getattr(img, "n_frames", 1))
        img.seek(0)  # counting may have moved to the last frame
    except Exception:  # a damaged frame table: the first frame is still readable
        return 1
    return max(count, 1)


def _load(
    path: Path, max_pixels: int | None
) -> tuple[np.ndarray, np.ndarray | None, int, str, bytes | None, bytes | None, int, int]:
    """Open, check the size, decode: rgb, alpha, bit depth, mode, exif, icc, orientation,
    frames."""
    try:
        img = _open(path)
    except UnidentifiedImageError as exc:
        raise ImageError(path, "not an image file, or an unsupported image format") from exc
    except PermissionError as exc:
        raise ImageError(path, "cannot read file (permission denied)") from exc
    except Exception as exc:  # Pillow raises many types on bad headers
        raise ImageError(path, _read_error(exc)) from exc

    with img:
        width, height = img.size
        if max_pixels is not None and width * height > max_pixels:
            msg = (
                f"image is {width}x{height} = {width * height:,} pixels, more than the limit of "
                f"{max_pixels:,} (a guard against decompression bombs); raise the limit with "
                "--max-pixels (max_pixels=None in Python turns the check off)"
            )
            raise ImageError(path, msg)
        if width == 0 or height == 0:
            raise ImageError(path, f"image has no pixels ({width}x{height})")
        try:
            # Decode first: the 16-bit path needs the undecoded tiles, and a PNG's eXIf chunk may
            # come after the pixel data, so metadata is complete only once the image is loaded.
            rgb, alpha, bit_depth, mode = _decode(img, path)
            if img.format == "PNG" and not _png_is_complete(path):
                raise ImageError(path, "file is truncated (PNG ends before its IEND chunk)")
            exif = img.info.get("exif")
            if not isinstance(exif, bytes) and img.format == "TIFF":
                exif = _tiff_exif(img)
            icc = img.info.get("icc_profile") or None
        except ImageError:
            raise
        except Exception as exc:  # OSError, SyntaxError, ValueError, zlib.error, EOFError...
            raise ImageError(path, _read_error(exc)) from exc
        try:
            orientation = int(img.getexif().get(_ORIENTATION, 1))
        except Exception as exc:  # a corrupt EXIF block should not lose the picture
            logger.warning("%s: ignoring unreadable EXIF data (%s)", printable(path), exc)
            orientation = 1
        frames = _frame_count(img)
    exif = exif if isinstance(exif, bytes) else None
    return rgb, alpha, bit_depth, mode, exif, icc, orientation, frames


def read_image(
    path: str | os.PathLike[str], *, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> DecodedImage:
    """Read an image file as upright float RGB in [0, 1], with its alpha, bit depth and metadata.

    Handles 8- and 16-bit files (16-bit colour PNG and TIFF at full precision), grey (L, I;16),
    grey+alpha, RGBA, palette (transparency becomes alpha), CMYK and YCbCr (converted by Pillow,
    without colour management), 1-bit and 32-bit float (F, clipped to [0, 1]). The EXIF orientation
    is applied, so ``rgb`` is the picture as a viewer shows it.

    The pixel count is checked against ``max_pixels`` from the header, before anything is decoded.

    Args:
        path: the image file.
        max_pixels: refuse images with more pixels than this (decompression-bomb guard);
            ``None`` disables the check.

    Returns:
        The decoded image.

    Raises:
        ImageError: missing, empty, unreadable, truncated, corrupt, not an image, or too large.

    Shape:
        - rgb: ``(3, H, W)``; alpha: ``(1, H, W)``

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "grey.png"
        >>> Image.new("L", (4, 2), 128).save(file)
        >>> image = read_image(file)
        >>> image.rgb.shape, image.alpha, image.bit_depth, image.mode
        (torch.Size([3, 2, 4]), None, 8, 'L')
        >>> round(image.rgb[0, 0, 0].item() * 255, 4)
        128.0
    """
    _check_max_pixels(max_pixels)
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ImageError(path, "no such file") from None
    except OSError as exc:
        raise ImageError(path, f"cannot access file ({exc.strerror or exc})") from exc
    if path.is_dir():
        raise ImageError(path, "is a folder, not an image file")
    if stat.st_size == 0:
        raise ImageError(path, "file is empty")

    exif: bytes | None = None
    with _warnings_logged(path):  # Pillow warns on odd files: one log line naming the file
        rgb, alpha, bit_depth, mode, exif_blob, icc, orientation, frames = _load(path, max_pixels)
        if exif_blob:
            try:
                exif = _with_upright_orientation(exif_blob)
            except Exception as exc:
                logger.warning("%s: dropping unreadable EXIF data (%s)", printable(path), exc)
    if icc is not None and _icc_colour_space(icc) != b"RGB ":
        logger.debug("%s: dropping %r ICC profile (pixels are now RGB)", path, icc[16:20])
        icc = None

    rgb_tensor = image_to_tensor(np.ascontiguousarray(_orient(rgb, orientation)))
    alpha_tensor = None
    if alpha is not None:
        alpha_tensor = image_to_tensor(np.ascontiguousarray(_orient(alpha, orientation)))
    return DecodedImage(
        rgb=rgb_tensor,
        alpha=alpha_tensor,
        bit_depth=bit_depth,
        mode=mode,
        exif=exif,
        icc_profile=icc,
        path=path,
        frames=frames,
    )


# --------------------------------------------------------------------------------------------
# writing


def _as_chw(image: Tensor, name: str, channels: tuple[int, ...]) -> Tensor:
    if not isinstance(image, Tensor):
        msg = f"{name} must be a torch.Tensor, got {type(image).__name__}"
        raise TypeError(msg)
    shape = tuple(image.shape)
    if image.ndim == 4 and shape[0] == 1:
        image = image[0]
    elif channels == (1,) and image.ndim == 2:
        image = image[None]
    if image.ndim != 3 or image.shape[0] not in channels:
        allowed = (
            "(1, H, W), (H, W) or (1, 1, H, W)"
            if channels == (1,)
            else "(C, H, W) or (1, C, H, W) with C = 3 (RGB) or 1 (grey)"
        )
        msg = f"{name} must have shape {allowed}, got {shape}"
        raise ValueError(msg)
    return image


def _save_pillow(
    fh: BinaryIO,
    fmt: str,
    pixels: np.ndarray,
    *,
    quality: int,
    exif: bytes | None,
    icc_profile: bytes | None,
) -> None:
    img = Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)  # L, LA, RGB(A)
    options: dict[str, Any] = {}
    if exif:
        options["exif"] = exif
    if icc_profile:
        options["icc_profile"] = icc_profile
    if fmt == "JPEG":
        # Full-resolution chroma at high quality: 4:2:0 would blur the colour edges we restore.
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        options.update(quality=quality, lossless=quality == 100, exact=True)
    elif fmt == "TIFF":
        from PIL import features

        if features.check("libtiff"):
            options["compression"] = "tiff_adobe_deflate"
    img.save(fh, format=fmt, **options)


def write_image(
    path: str | os.PathLike[str],
    rgb: Tensor,
    *,
    alpha: Tensor | None = None,
    bit_depth: int = 8,
    quality: int = 95,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    replace: bool = True,
) -> Path:
    """Write a float RGB or grey image atomically, in the format its extension names.

    PNG and TIFF take 8 or 16 bits per sample; JPEG and WebP are 8-bit (a 16-bit request is
    written as 8 bits, with a warning). Alpha is stored in PNG, WebP and TIFF; JPEG cannot hold
    it. A one-channel ``rgb`` is written as a grey file (PNG and TIFF grey or grey+alpha, JPEG
    grey) with two exceptions: WebP has no grey mode, and Pillow cannot read 16-bit grey+alpha
    TIFF, so those two store the grey value in all three colour channels. Values are clamped to
    [0, 1] and rounded to the nearest level. The file appears complete or not at all: it is
    written to a temporary file in the same folder, then renamed over ``path``; missing parent
    folders are created.

    Args:
        path: output file; the extension (``.png .jpg .jpeg .tif .tiff .webp``) picks the format.
        rgb: the picture, floating point in [0, 1], on any device: three channels (RGB) or one
            (grey).
        alpha: straight (not premultiplied) opacity in [0, 1].
        bit_depth: 8 or 16 bits per sample.
        quality: JPEG/WebP quality, 1-100 (WebP at 100 is lossless); ignored for PNG and TIFF.
        exif: EXIF blob to embed (e.g. ``DecodedImage.exif``); an orientation tag is reset to 1,
            because the pixels are written upright.
        icc_profile: RGB ICC profile to embed (colour images only).
        replace: replace an existing file; with ``False`` the file is created exclusively (see
            :func:`~deblurgan.io.atomic.atomic_write`): one that exists, or that another process
            creates while this one is encoded, is left as it is and an ImageError raised.

    Returns:
        ``Path(path)``.

    Raises:
        ImageError: unsupported extension, alpha with JPEG, image too large for the format,
            the file exists (``replace=False``), or the file cannot be written.
        ValueError: bad shapes, bit depth, quality, NaN pixels, a non-RGB ICC profile, or an ICC
            profile with a grey image.
        TypeError: ``rgb``/``alpha`` not floating-point tensors, ``exif``/``icc_profile`` not
            bytes.

    Shape:
        - rgb: ``(3, H, W)`` or ``(1, 3, H, W)``; grey: ``(1, H, W)`` or ``(1, 1, H, W)``
        - alpha: ``(1, H, W)``, ``(H, W)`` or ``(1, 1, H, W)``

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "out" / "grey.png"
        >>> write_image(file, torch.full((3, 2, 4), 0.5)).name
        'grey.png'
        >>> round(read_image(file).rgb[0, 0, 0].item() * 255, 4)
        128.0
        >>> read_image(write_image(file, torch.full((1, 2, 4), 0.5), bit_depth=16)).mode
        'I;16'
    """
    path = Path(path)
    fmt = _WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        allowed = " ".join(WRITE_EXTENSIONS)
        raise ImageError(
            path,
            f"cannot write {path.suffix or 'files without an extension'!r}; use one of {allowed}",
        )
    rgb = _as_chw(rgb, "rgb", (3, 1))
    grey = rgb.shape[0] == 1
    if alpha is not None:
        alpha = _as_chw(alpha, "alpha", (1,))
        if alpha.shape[-2:] != rgb.shape[-2:]:
            msg = f"alpha is {tuple(alpha.shape[-2:])} but rgb is {tuple(rgb.shape[-2:])} (H, W)"
            raise ValueError(msg)
    if bit_depth not in (8, 16):
        msg = f"bit_depth must be 8 or 16, got {bit_depth!r}"
        raise ValueError(msg)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        msg = f"quality must be an int from 1 to 100, got {quality!r}"
        raise ValueError(msg)
    if exif is not None and not isinstance(exif, (bytes, bytearray)):
        msg = f"exif must be bytes or None, got {type(exif).__name__}"
        raise TypeError(msg)
    if icc_profile is not None:
        if not isinstance(icc_profile, (bytes, bytearray)):
            msg = f"icc_profile must be bytes or None, got {type(icc_profile).__name__}"
            raise TypeError(msg)
        space = _icc_colour_space(bytes(icc_profile))
        if space != b"RGB ":
            msg = f"icc_profile must describe RGB data, got colour space {space!r}"
            raise ValueError(msg)
        if grey:
            msg = "icc_profile describes RGB data; a grey image (rgb of 1 channel) cannot carry it"
            raise ValueError(msg)
    if fmt == "JPEG" and alpha is not None:
        raise ImageError(path, "JPEG cannot store an alpha channel; write .png, .webp or .tif")
    height, width = int(rgb.shape[-2]), int(rgb.shape[-1])
    if height == 0 or width == 0:
        raise ValueError(f"rgb has no pixels: shape {tuple(rgb.shape)}")
    if fmt in _MAX_SIDE and max(height, width) > _MAX_SIDE[fmt]:
        limit = _MAX_SIDE[fmt]
        raise ImageError(
            path,
            f"{fmt} images are at most {limit} px a side, got {width}x{height}; use .png or .tif",
        )
    if bit_depth == 16 and fmt in ("JPEG", "WEBP"):
        logger.warning("%s: %s holds 8 bits per sample; writing 8-bit", printable(path), fmt)
        bit_depth = 8

    pixels = tensor_to_array(rgb, bit_depth=bit_depth)
    if grey and (fmt == "WEBP" or (fmt == "TIFF" and bit_depth == 16 and alpha is not None)):
        # WebP has no grey mode; Pillow reads no 16-bit grey+alpha TIFF: store the grey as RGB.
        pixels = np.repeat(pixels, 3, axis=2)
    if alpha is not None:
        pixels = np.concatenate([pixels, tensor_to_array(alpha, bit_depth=bit_depth)], axis=2)
    exif_bytes: bytes | None = None
    if exif:
        with _warnings_logged(path):
            try:
                exif_bytes = _with_upright_orientation(bytes(exif))
            except Exception as exc:
                logger.warning("%s: not writing unreadable EXIF data (%s)", printable(path), exc)
    icc_bytes = bytes(icc_profile) if icc_profile else None

    def encode(fh: BinaryIO) -> None:
        if bit_depth == 16 and fmt == "PNG":
            write_png16(fh, pixels, exif=exif_bytes, icc_profile=icc_bytes)
        elif bit_depth == 16:
            write_tiff16(fh, pixels, exif=exif_bytes, icc_profile=icc_bytes)
        else:
            _save_pillow(fh, fmt, pixels, quality=quality, exif=exif_bytes, icc_profile=icc_bytes)

    with _warnings_logged(path):
        _write_atomically(path, encode, replace=replace)
    return path


def _write_atomically(path: Path, encode: Callable[[BinaryIO], None], *, replace: bool) -> None:
    """:func:`~deblurgan.io.atomic.atomic_write` with its failures as one-line ImageErrors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageError(
            path, f"cannot create folder {path.parent} ({exc.strerror or exc})"
        ) from exc
    try:
        atomic_write(path, encode, replace=replace)
    except ImageError:
        raise
    except FileExistsError as exc:
        raise ImageError(
            path, "output exists (another run may have written it meanwhile); not replaced"
        ) from exc
    except (OSError, ValueError, KeyError) as exc:  # what Pillow's encoders raise
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ImageError(path, f"cannot write file ({problem or type(exc).__name__})") from exc
