"""deblurgan.io.image: every mode and bit depth in, exact values out; EXIF; errors; atomic IO."""

from __future__ import annotations

import io
import logging
import pickle
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageCms, ImageFile, ImageOps

from deblurgan.io import (
    DEFAULT_MAX_PIXELS,
    WRITE_EXTENSIONS,
    ImageError,
    image_to_tensor,
    read_image,
    tensor_to_array,
    write_image,
)
from deblurgan.io import image as image_module

RNG = np.random.default_rng(1234)


# ------------------------------------------------------------------------------------------
# helpers: files built by hand or by Pillow, and expected values computed independently


def _chw(array: np.ndarray, scale: float) -> np.ndarray:
    """(H, W, C) integers -> (C, H, W) float64 in [0, 1]: the hand computation."""
    return np.moveaxis(array.astype(np.float64) / scale, -1, 0)


def _assert_close(tensor: torch.Tensor, expected: np.ndarray) -> None:
    assert tensor.dtype == torch.float32
    # float32 rounding of k / 255 or k / 65535 is below 6e-8 in [0, 1].
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=0, atol=1e-7)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png16(pixels: np.ndarray, *, interlace: bool = False) -> bytes:
    """A 16-bit PNG written by hand (filter 0, optional Adam7) from (H, W, C) uint16."""
    height, width, channels = pixels.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]

    def scanlines(sub: np.ndarray) -> bytes:
        if sub.size == 0:
            return b""
        rows = np.zeros((sub.shape[0], 1 + sub.shape[1] * channels * 2), np.uint8)
        rows[:, 1:] = sub.astype(">u2").reshape(sub.shape[0], -1).view(np.uint8)
        return rows.tobytes()

    if interlace:
        passes = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2)]
        passes += [(0, 1, 2, 2), (1, 0, 2, 1)]
        raw = b"".join(scanlines(pixels[y::dy, x::dx]) for y, x, dy, dx in passes)
    else:
        raw = scanlines(pixels)
    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, int(interlace))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def _save(tmp_path: Path, name: str, image: Image.Image, **options: object) -> Path:
    path = tmp_path / name
    image.save(path, **options)
    return path


def _exif(**tags: object) -> Image.Exif:
    exif = Image.Exif()
    names = {"orientation": 0x0112, "make": 0x010F}
    for key, value in tags.items():
        exif[names[key]] = value
    return exif


def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# ------------------------------------------------------------------------------------------
# reading: modes and bit depths


def test_rgb8_png_exact(tmp_path: Path) -> None:
    pixels = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    image = read_image(_save(tmp_path, "rgb.png", Image.fromarray(pixels)))
    _assert_close(image.rgb, _chw(pixels, 255))
    assert image.alpha is None and image.bit_depth == 8 and image.mode == "RGB"
    assert image.rgb.shape == (3, 5, 7)


def test_grey_replicated_to_three_channels(tmp_path: Path) -> None:
    image = read_image(_save(tmp_path, "grey.png", Image.new("L", (3, 2), 128)))
    _assert_close(image.rgb, np.full((3, 2, 3), 128 / 255))
    assert image.mode == "L" and image.bit_depth == 8 and image.alpha is None


def test_one_bit_is_black_and_white(tmp_path: Path) -> None:
    bits = np.array([[0, 1, 1], [1, 0, 0]], dtype=bool)
    image = read_image(_save(tmp_path, "bits.png", Image.fromarray(bits)))
    assert image.mode == "1"
    _assert_close(image.rgb, np.broadcast_to(bits.astype(np.float64), (3, 2, 3)))


def test_grey_alpha(tmp_path: Path) -> None:
    la = RNG.integers(0, 256, (4, 5, 2), dtype=np.uint8)
    image = read_image(_save(tmp_path, "la.png", Image.fromarray(la, "LA")))
    _assert_close(image.rgb, np.broadcast_to(la[..., 0] / 255, (3, 4, 5)))
    assert image.alpha is not None
    _assert_close(image.alpha, la[None, ..., 1] / 255)


def test_rgba8_alpha(tmp_path: Path) -> None:
    rgba = RNG.integers(0, 256, (4, 6, 4), dtype=np.uint8)
    image = read_image(_save(tmp_path, "rgba.png", Image.fromarray(rgba)))
    _assert_close(image.rgb, _chw(rgba[..., :3], 255))
    assert image.alpha is not None and image.alpha.shape == (1, 4, 6)
    _assert_close(image.alpha, _chw(rgba[..., 3:], 255))


def _palette_image() -> tuple[Image.Image, list[tuple[int, int, int]], np.ndarray]:
    colours = [(255, 0, 0), (0, 128, 255), (10, 20, 30)]
    indices = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    img = Image.frombytes("P", (3, 2), indices.tobytes())
    img.putpalette([c for colour in colours for c in colour])
    return img, colours, indices


def test_palette_colours(tmp_path: Path) -> None:
    img, colours, indices = _palette_image()
    image = read_image(_save(tmp_path, "p.png", img))
    expected = np.array(colours, dtype=np.uint8)[indices]
    assert image.mode == "P" and image.alpha is None
    _assert_close(image.rgb, _chw(expected, 255))


def test_palette_transparency_becomes_alpha(tmp_path: Path) -> None:
    img, colours, indices = _palette_image()
    image = read_image(_save(tmp_path, "pt.png", img, transparency=1))
    assert image.alpha is not None
    _assert_close(image.alpha, (indices != 1).astype(np.float64)[None])
    _assert_close(image.rgb, _chw(np.array(colours, dtype=np.uint8)[indices], 255))


def test_cmyk_matches_pillow_and_hand_formula(tmp_path: Path) -> None:
    cmyk = RNG.integers(0, 256, (4, 5, 4), dtype=np.uint8)
    path = _save(tmp_path, "cmyk.tif", Image.fromarray(cmyk, "CMYK"))
    image = read_image(path)
    assert image.mode == "CMYK"
    reference = np.asarray(Image.open(path).convert("RGB"))
    _assert_close(image.rgb, _chw(reference, 255))
    # Naive CMYK -> RGB without colour management: (255 - C)(255 - K) / 255, within a level.
    hand = (255.0 - cmyk[..., :3]) * (255.0 - cmyk[..., 3:]) / 255.0
    np.testing.assert_allclose(image.rgb.numpy() * 255, np.moveaxis(hand, -1, 0), atol=1.01)


def test_grey16_png_full_scale(tmp_path: Path) -> None:
    grey = np.array([[0, 1, 32768], [65534, 65535, 12345]], dtype=np.uint16)
    image = read_image(_save(tmp_path, "g16.png", Image.fromarray(grey)))
    assert image.bit_depth == 16 and image.mode.startswith("I")
    assert image.rgb[0, 1, 1].item() == 1.0 and image.rgb[0, 0, 0].item() == 0.0
    _assert_close(image.rgb, np.broadcast_to(grey / 65535, (3, 2, 3)))


@pytest.mark.parametrize("interlace", [False, True])
@pytest.mark.parametrize("channels", [2, 3, 4])
def test_colour16_png_full_precision(tmp_path: Path, channels: int, interlace: bool) -> None:
    pixels = RNG.integers(0, 65536, (9, 10, channels), dtype=np.uint16)
    pixels[0, 0] = 65535
    path = tmp_path / "c16.png"
    path.write_bytes(_png16(pixels, interlace=interlace))
    image = read_image(path)
    assert image.bit_depth == 16
    assert image.mode == {2: "LA;16", 3: "RGB;16", 4: "RGBA;16"}[channels]
    colour = pixels[..., [0, 0, 0]] if channels == 2 else pixels[..., :3]
    _assert_close(image.rgb, _chw(colour, 65535))
    assert image.rgb[:, 0, 0].eq(1.0).all()
    if channels in (2, 4):
        assert image.alpha is not None
        _assert_close(image.alpha, _chw(pixels[..., -1:], 65535))
    else:
        assert image.alpha is None


@pytest.mark.parametrize("compression", [None, "zlib"])
@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("channels", [3, 4])
def test_colour16_tiff_full_precision(
    tmp_path: Path, compression: str | None, byteorder: str, channels: int
) -> None:
    tifffile = pytest.importorskip("tifffile")
    pixels = RNG.integers(0, 65536, (6, 7, channels), dtype=np.uint16)
    path = tmp_path / "c16.tif"
    extra = {"extrasamples": ["unassalpha"]} if channels == 4 else {}
    tifffile.imwrite(
        path, pixels, photometric="rgb", compression=compression, byteorder=byteorder, **extra
    )
    image = read_image(path)
    assert image.bit_depth == 16
    _assert_close(image.rgb, _chw(pixels[..., :3], 65535))
    if channels == 4:
        assert image.alpha is not None
        _assert_close(image.alpha, _chw(pixels[..., 3:], 65535))


def test_grey16_tiff(tmp_path: Path) -> None:
    grey = RNG.integers(0, 65536, (3, 4), dtype=np.uint16)
    image = read_image(_save(tmp_path, "g16.tif", Image.fromarray(grey)))
    assert image.bit_depth == 16
    _assert_close(image.rgb, np.broadcast_to(grey / 65535, (3, 3, 4)))


def test_float_tiff_is_clipped(tmp_path: Path) -> None:
    values = np.array([[-0.5, 0.0, 0.25], [0.5, 1.0, 2.0]], dtype=np.float32)
    image = read_image(_save(tmp_path, "f.tif", Image.fromarray(values, "F")))
    assert image.mode == "F" and image.bit_depth == 16
    _assert_close(image.rgb, np.broadcast_to(np.clip(values, 0, 1), (3, 2, 3)))


@pytest.mark.parametrize("maxval", [65535, 4095])
@pytest.mark.parametrize("channels", [1, 3])
def test_ppm16(tmp_path: Path, maxval: int, channels: int) -> None:
    pixels = RNG.integers(0, maxval + 1, (3, 4, channels), dtype=np.uint16)
    path = tmp_path / "deep.pnm"
    magic = "P6" if channels == 3 else "P5"
    path.write_bytes(f"{magic} 4 3 {maxval}\n".encode() + pixels.astype(">u2").tobytes())
    image = read_image(path)
    assert image.bit_depth == 16
    # Rescaled to 16 bits with rounding, then to [0, 1]: within half a 16-bit level of v / maxval.
    expected = np.broadcast_to(_chw(pixels, maxval), (3, 3, 4))
    np.testing.assert_allclose(image.rgb.numpy(), expected, atol=0.5 / 65535 + 1e-7)


# ------------------------------------------------------------------------------------------
# EXIF orientation and metadata


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_exif_transpose(tmp_path: Path, orientation: int) -> None:
    rgba = RNG.integers(0, 256, (3, 5, 4), dtype=np.uint8)
    img = Image.fromarray(rgba)
    path = _save(tmp_path, "o.png", img, exif=_exif(orientation=orientation).tobytes())
    image = read_image(path)
    reference = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    _assert_close(image.rgb, _chw(reference[..., :3], 255))
    assert image.alpha is not None
    _assert_close(image.alpha, _chw(reference[..., 3:], 255))


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [(3, (-1, -1)), (6, (0, -1)), (8, (-1, 0))],  # where the stored top-left pixel ends up
)
def test_orientation_moves_top_left_pixel(tmp_path: Path, orientation: int, corner: tuple) -> None:
    pixels = np.zeros((2, 3, 3), dtype=np.uint8)  # 2 rows, 3 columns
    pixels[0, 0] = (255, 0, 0)
    exif = _exif(orientation=orientation, make="TestCam").tobytes()
    image = read_image(_save(tmp_path, "o.jpg", Image.fromarray(pixels), exif=exif, quality=100))
    expected_shape = (3, 2, 3) if orientation == 3 else (3, 3, 2)  # 6 and 8 swap H and W
    assert image.rgb.shape == expected_shape
    red = image.rgb[0] - image.rgb[1]
    row, col = np.unravel_index(int(red.argmax()), red.shape)
    assert (row, col) == (corner[0] % red.shape[0], corner[1] % red.shape[1])
    # The returned EXIF no longer asks for a rotation but keeps the other tags.
    assert image.exif is not None and image.exif.startswith(b"Exif\x00\x00")
    parsed = Image.Exif()
    parsed.load(image.exif)
    assert parsed.get(0x0112, 1) == 1 and parsed[0x010F] == "TestCam"


def test_rgb_icc_kept_other_profiles_dropped(tmp_path: Path) -> None:
    srgb = _srgb_profile()
    img = Image.new("RGB", (2, 2), (1, 2, 3))
    assert read_image(_save(tmp_path, "a.png", img, icc_profile=srgb)).icc_profile == srgb
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    grey = Image.new("L", (2, 2), 9)
    assert read_image(_save(tmp_path, "b.png", grey, icc_profile=lab)).icc_profile is None
    assert read_image(_save(tmp_path, "c.png", img)).icc_profile is None


# ------------------------------------------------------------------------------------------
# writing and round trips


def _random_image(height: int = 6, width: int = 7, *, bit_depth: int = 8) -> torch.Tensor:
    levels = 255 if bit_depth == 8 else 65535
    values = RNG.integers(0, levels + 1, (3, height, width))
    return torch.from_numpy(values.astype(np.float32) / np.float32(levels))


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_rgba8_round_trip_exact(tmp_path: Path, suffix: str) -> None:
    rgb = _random_image()
    alpha = _random_image()[:1]
    quality = 100  # lossless for WebP
    path = write_image(tmp_path / f"x{suffix}", rgb, alpha=alpha, quality=quality)
    back = read_image(path)
    assert back.bit_depth == 8
    assert torch.equal(back.rgb, rgb)
    assert back.alpha is not None and torch.equal(back.alpha, alpha)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("with_alpha", [False, True])
def test_16bit_round_trip_exact(tmp_path: Path, suffix: str, with_alpha: bool) -> None:
    rgb = _random_image(9, 11, bit_depth=16)
    ramp = torch.arange(11, dtype=torch.float32) * 6553 / 65535  # smooth rows: exercise filters
    rgb[:, 3:6] = ramp
    alpha = _random_image(9, 11, bit_depth=16)[:1] if with_alpha else None
    path = write_image(tmp_path / f"deep{suffix}", rgb, alpha=alpha, bit_depth=16)
    back = read_image(path)
    assert back.bit_depth == 16
    assert torch.equal(back.rgb, rgb)
    if with_alpha:
        assert back.alpha is not None and alpha is not None and torch.equal(back.alpha, alpha)
    # Independent check: Pillow's own 8-bit decode of our file holds the high bytes.
    high = np.asarray(Image.open(path))
    levels = np.round(rgb.numpy() * 65535).astype(np.uint16)
    np.testing.assert_array_equal(high[..., :3], np.moveaxis(levels >> 8, 0, -1))


def test_16bit_tiff_readable_by_tifffile(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    rgb = _random_image(5, 8, bit_depth=16)
    path = write_image(tmp_path / "deep.tif", rgb, bit_depth=16)
    levels = np.round(rgb.numpy() * 65535).astype(np.uint16)
    np.testing.assert_array_equal(tifffile.imread(path), np.moveaxis(levels, 0, -1))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize("with_alpha", [False, True])
def test_grey_round_trip_exact(
    tmp_path: Path, suffix: str, bit_depth: int, with_alpha: bool
) -> None:
    grey = _random_image(9, 11, bit_depth=bit_depth)[:1]
    grey[:, 3:6] = torch.arange(11, dtype=torch.float32) * 23 / 255  # smooth rows: filters
    alpha = _random_image(9, 11, bit_depth=bit_depth)[:1] if with_alpha else None
    path = write_image(tmp_path / f"g{suffix}", grey, alpha=alpha, bit_depth=bit_depth)
    back = read_image(path)
    # 16-bit grey+alpha TIFF is stored as RGBA: Pillow cannot read it back otherwise.
    expected_mode = {
        (8, False): "L",
        (8, True): "LA",
        (16, False): "I;16",
        (16, True): "LA;16" if suffix == ".png" else "RGBA;16",
    }[bit_depth, with_alpha]
    assert back.mode == expected_mode and back.bit_depth == bit_depth
    assert torch.equal(back.rgb, grey.expand(3, -1, -1))
    if with_alpha:
        assert back.alpha is not None and alpha is not None and torch.equal(back.alpha, alpha)
    else:
        assert back.alpha is None
        # Independent check: Pillow's own decode of the one-channel file.
        levels = np.round(grey[0].numpy() * (255 if bit_depth == 8 else 65535))
        np.testing.assert_array_equal(np.asarray(Image.open(path)), levels)


def test_grey16_tiff_readable_by_tifffile(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    grey = _random_image(5, 8, bit_depth=16)[:1]
    path = write_image(tmp_path / "g16.tif", grey, bit_depth=16)
    levels = np.round(grey[0].numpy() * 65535).astype(np.uint16)
    np.testing.assert_array_equal(tifffile.imread(path), levels)


def test_grey_jpeg_is_grey_and_webp_is_rgb(tmp_path: Path) -> None:
    grey = _random_image(8, 8)[:1]
    with Image.open(write_image(tmp_path / "g.jpg", grey[None])) as jpeg:
        assert jpeg.mode == "L"
    back = read_image(write_image(tmp_path / "g.webp", grey, quality=100))  # no grey WebP
    assert back.mode == "RGB" and torch.equal(back.rgb, grey.expand(3, -1, -1))


def test_grey_refuses_an_rgb_icc_profile(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="grey"):
        write_image(tmp_path / "g.png", _random_image()[:1], icc_profile=_srgb_profile())
    assert list(tmp_path.iterdir()) == []


def test_png16_uses_several_filters(tmp_path: Path, photo: np.ndarray) -> None:
    rgb = image_to_tensor(photo[:64, :64])
    path = write_image(tmp_path / "photo16.png", rgb, bit_depth=16)
    data = path.read_bytes()
    idat, pos = b"", 8
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(64, 1 + 64 * 6)
    assert len(set(rows[:, 0].tolist())) >= 2 and rows[:, 0].max() <= 4
    assert torch.equal(read_image(path).rgb, rgb)


def test_eight_bit_tensor_values_round_trip(tmp_path: Path) -> None:
    levels = torch.arange(256, dtype=torch.float32).reshape(1, 16, 16) / 255
    rgb = levels.expand(3, 16, 16)
    assert torch.equal(read_image(write_image(tmp_path / "ramp.png", rgb)).rgb, rgb)


def test_clamp_and_rounding(tmp_path: Path) -> None:
    rgb = torch.tensor([-0.5, 0.0, 127.4 / 255, 127.6 / 255, 1.0, 1.5]).reshape(1, 1, 6)
    back = read_image(write_image(tmp_path / "c.png", rgb.expand(3, 1, 6).contiguous()))
    np.testing.assert_array_equal(
        np.round(back.rgb[0, 0].numpy() * 255), [0, 0, 127, 128, 255, 255]
    )


def test_batched_input_accepted(tmp_path: Path) -> None:
    rgb = _random_image()
    assert torch.equal(read_image(write_image(tmp_path / "b.png", rgb[None])).rgb, rgb)


def test_jpeg_quality(tmp_path: Path, photo: np.ndarray) -> None:
    rgb = image_to_tensor(photo[:128, :128])
    errors, sizes = [], []
    for quality in (30, 95):
        path = write_image(tmp_path / f"q{quality}.jpg", rgb, quality=quality)
        sizes.append(path.stat().st_size)
        errors.append(float((read_image(path).rgb - rgb).abs().mean()))
    assert sizes[1] > sizes[0] and errors[1] < errors[0] < 0.05


def test_jpeg_16bit_request_writes_8bit(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="deblurgan.io.image"):
        path = write_image(tmp_path / "x.jpg", _random_image(), bit_depth=16)
    assert "8-bit" in caplog.text
    assert read_image(path).bit_depth == 8


def test_jpeg_refuses_alpha(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"\.png") as info:
        write_image(tmp_path / "x.jpg", _random_image(), alpha=_random_image()[:1])
    assert "x.jpg" in str(info.value)
    assert not (tmp_path / "x.jpg").exists()


def test_unknown_extension_lists_allowed(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as info:
        write_image(tmp_path / "x.gif", _random_image())
    assert all(ext in str(info.value) for ext in WRITE_EXTENSIONS)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_exif_and_icc_carried(tmp_path: Path, suffix: str, bit_depth: int) -> None:
    icc = _srgb_profile()
    exif = _exif(orientation=6, make="TestCam").tobytes()
    rgb = _random_image(4, 6)
    path = write_image(
        tmp_path / f"m{suffix}", rgb, exif=exif, icc_profile=icc, bit_depth=bit_depth
    )
    back = read_image(path)
    assert back.rgb.shape == rgb.shape  # orientation reset to 1: no second rotation
    assert back.icc_profile == icc
    assert back.exif is not None
    parsed = Image.Exif()
    parsed.load(back.exif)
    assert parsed[0x010F] == "TestCam" and parsed.get(0x0112, 1) == 1


def test_write_validates_arguments(tmp_path: Path) -> None:
    rgb = _random_image()
    target = tmp_path / "v.png"
    with pytest.raises(ValueError, match="shape"):
        write_image(target, rgb[:2])
    with pytest.raises(TypeError, match="floating"):
        write_image(target, (rgb * 255).to(torch.uint8))
    with pytest.raises(ValueError, match="NaN"):
        write_image(target, torch.full((3, 2, 2), float("nan")))
    with pytest.raises(ValueError, match="bit_depth"):
        write_image(target, rgb, bit_depth=12)
    with pytest.raises(ValueError, match="quality"):
        write_image(target, rgb, quality=0)
    with pytest.raises(ValueError, match="alpha"):
        write_image(target, rgb, alpha=torch.ones(1, 2, 2))
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    with pytest.raises(ValueError, match="RGB"):
        write_image(target, rgb, icc_profile=lab)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# atomic writes


def test_write_creates_parents_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a" / "b" / "out.png", _random_image())
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["out.png"]


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_save(self: Image.Image, fp: io.BufferedWriter, *args: object, **kw: object) -> None:
        fp.write(b"\x89PNG partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ImageError, match="disk full") as info:
        write_image(tmp_path / "out.png", _random_image())
    assert "out.png" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old contents")

    def broken(*args: object, **kw: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(image_module, "write_png16", broken)
    with pytest.raises(ImageError):
        write_image(target, _random_image(), bit_depth=16)
    assert target.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_write_is_interrupt_safe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(image_module, "write_tiff16", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_image(tmp_path / "x.tif", _random_image(), bit_depth=16)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# errors


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(RNG.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def _png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(RNG.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


JPEG, PNG = _jpeg_bytes(), _png_bytes()
BAD_FILES = {
    "empty.png": (b"", "empty"),
    "text.png": (b"just some words, not pixels\n" * 10, "not an image file"),
    "header_only.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "decode|truncated|image"),
    "half.jpg": (JPEG[: len(JPEG) // 2], "truncated"),
    "no_eoi.jpg": (JPEG[:-2], "truncated"),
    "half.png": (PNG[: len(PNG) // 2], "truncated"),
    "no_iend.png": (PNG[:-12], "truncated"),
    "cut_tail.png": (PNG[:-6], "truncated"),
    "half.webp": (
        b"RIFF" + (1000).to_bytes(4, "little") + b"WEBPVP8 " + b"\x00" * 20,
        "decode|truncated|image",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_raise_one_line_image_error(tmp_path: Path, name: str) -> None:
    data, words = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImageError, match=words) as info:
        read_image(path)
    message = str(info.value)
    assert name in message and "\n" not in message and message.startswith(str(path))


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file") as info:
        read_image(tmp_path / "nope.png")
    assert "nope.png" in str(info.value)
    with pytest.raises(ImageError, match="folder") as info:
        read_image(tmp_path)
    assert str(tmp_path) in str(info.value)


def _huge_png_header(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100)  # nowhere near enough data: decoding would fail
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def test_decompression_bomb_rejected_from_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_huge_png_header(100_000, 100_000))

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageError, match="--max-pixels") as info:
        read_image(path)
    message = str(info.value)
    assert "bomb.png" in message and "\n" not in message and "10,000,000,000" in message
    assert DEFAULT_MAX_PIXELS == 100_000_000  # an 8 GB machine holds it (48 MB per MP)


def test_max_pixels_limit_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(tmp_path, "img.png", Image.new("RGB", (64, 64), (1, 2, 3)))
    with pytest.raises(ImageError, match="4,096 pixels"):
        read_image(path, max_pixels=4095)
    assert read_image(path, max_pixels=4096).rgb.shape == (3, 64, 64)
    # Pillow's own global limit (lower than ours here) neither refuses nor warns, and stays put.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_image(path, max_pixels=None).rgb.shape == (3, 64, 64)
        assert read_image(path).rgb.shape == (3, 64, 64)
    assert Image.MAX_IMAGE_PIXELS == 100
    with pytest.raises(ValueError, match="max_pixels"):
        read_image(path, max_pixels=0)


def test_image_error_is_value_error_and_pickles() -> None:
    err = ImageError(Path("dir/a.png"), "bad\nthing")
    assert isinstance(err, ValueError) and str(err) == "dir/a.png: bad thing"
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.path == "dir/a.png"


# ------------------------------------------------------------------------------------------
# array helpers


@pytest.mark.parametrize(("dtype", "bit_depth"), [(np.uint8, 8), (np.uint16, 16)])
def test_array_tensor_round_trip_every_level(dtype: type, bit_depth: int) -> None:
    levels = np.arange(2**bit_depth, dtype=dtype).reshape(-1, 256, 1)
    tensor = image_to_tensor(levels)
    assert tensor.shape == (1, levels.shape[0], 256) and tensor.dtype == torch.float32
    np.testing.assert_allclose(tensor.numpy()[0], levels[..., 0] / (2.0**bit_depth - 1), atol=1e-7)
    np.testing.assert_array_equal(tensor_to_array(tensor, bit_depth=bit_depth), levels)
