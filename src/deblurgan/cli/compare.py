"""``deblur compare IMAGE --model A --model B``: a labelled side-by-side picture with zoomed crops.

Usage::

    deblur compare shot.png --model default --model runs/a/generator.safetensors
    deblur compare blur/0001.png --sharp sharp/0001.png -m default -m other.pt --crop 120,80,64,64
    deblur compare shot.png -m default --crop auto --crop-size 96 -o figure.png --force

The picture has one column per panel: the blurry input, each model's restoration and, with
``--sharp``, the sharp reference. Each panel carries its label above (Pillow's default font) and,
with ``--sharp``, its PSNR and SSIM against the reference below. A second row repeats the same
crop of every panel, enlarged (nearest neighbour) to the panel's width; the crop box is drawn on
the full panels. ``--crop auto`` (the default) picks the square of ``--crop-size`` with the most
detail: the highest gradient energy (sum of squared finite differences of the luma) in the sharp
image, or in the blurry one without ``--sharp``. Panels wider than ``--max-width`` are shown
downscaled; crops are always taken at full resolution.

Layout, in pixels (``G`` = 8 gap, ``L`` = 18 label band, ``M`` = 16 metrics band with
``--sharp`` else 0; ``PW x PH`` the panel, ``cw x ch`` the crop, ``n`` panels)::

    width  = G + n * (PW + G)
    height = G + L + PH + M + G + round(ch * PW / cw) + G

The output (``<stem>_compare.png`` next to IMAGE by default) is written atomically; an input or a
model file is never overwritten, and an existing output is replaced only with ``--force``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.cli.arguments import add_running_options, positive_int
from deblurgan.cli.shared import add_download_options, check_download_options
from deblurgan.io import rgb_to_grey
from deblurgan.io.errors import one_line

__all__ = [
    "GAP",
    "LABEL_HEIGHT",
    "METRICS_HEIGHT",
    "auto_crop",
    "build_parser",
    "compare_main",
    "layout_size",
    "parse_crop",
    "render_comparison",
]

_PROG = "deblur compare"
#: Gap between panels and around the picture, in pixels.
GAP = 8
#: Height of the label band above each panel.
LABEL_HEIGHT = 18
#: Height of the PSNR/SSIM band below each panel (only with a sharp reference).
METRICS_HEIGHT = 16
_BOX_COLOUR = (255, 40, 40)
_BOX_WIDTH = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deblur compare``."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Restore one image with several models and write a labelled side-by-side "
        "picture (blurry, each model, sharp) with a row of zoomed crops.",
        epilog="exit codes: 0 written, 1 unreadable image or existing output, 2 usage error "
        "(bad option, unloadable model)",
    )
    parser.add_argument("image", metavar="IMAGE", help="the blurry image")
    parser.add_argument(
        "-m",
        "--model",
        action="append",
        required=True,
        metavar="NAME|PATH|URL",
        help="shipped or fetched weights name, checkpoint file or https URL (repeatable; one "
        "panel each)",
    )
    add_download_options(parser)
    parser.add_argument("--sharp", metavar="PATH", help="the sharp reference: a panel, PSNR/SSIM")
    parser.add_argument(
        "--crop",
        default="auto",
        metavar="X,Y,W,H|auto",
        help="the zoomed region in pixels of IMAGE, or auto: the most detailed square "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--crop-size",
        type=positive_int,
        metavar="N",
        help="side of the auto crop (default: a quarter of the shorter side, at least 16)",
    )
    parser.add_argument(
        "--max-width",
        type=positive_int,
        default=512,
        metavar="N",
        help="show wider panels downscaled to N pixels (default: %(default)s)",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="default: <stem>_compare.png")
    parser.add_argument("-f", "--force", action="store_true", help="replace an existing output")
    add_running_options(parser)
    return parser


def parse_crop(text: str) -> tuple[int, int, int, int] | None:
    """``"X,Y,W,H"`` as integers, or ``None`` for ``"auto"``.

    Example:
        >>> parse_crop("10,20,32,16"), parse_crop("auto")
        ((10, 20, 32, 16), None)
    """
    if text.strip().lower() == "auto":
        return None
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--crop must be X,Y,W,H (integers) or auto, got {text!r}") from None
    if x < 0 or y < 0 or w < 1 or h < 1:
        raise ValueError(f"--crop needs X, Y >= 0 and W, H >= 1, got {text!r}")
    return x, y, w, h


def auto_crop(image: Tensor, size: int) -> tuple[int, int, int, int]:
    """The ``size x size`` square of highest gradient energy: ``(x, y, size, size)``.

    The energy of a window is the sum over it of ``(dI/dx)^2 + (dI/dy)^2`` (forward differences
    of the BT.601 luma); ties go to the first window in raster order. ``size`` is clipped to the
    image.

    Args:
        image: ``(3, H, W)`` in [0, 1].
        size: the side of the square.

    Shape:
        - image: :math:`(3, H, W)`

    Example:
        >>> image = torch.zeros(3, 64, 64)
        >>> image[:, 40:48, 8:16] = 1.0  # the only detail
        >>> auto_crop(image, 16)[2:]
        (16, 16)
        >>> x, y, _, _ = auto_crop(image, 16)
        >>> x <= 8 and x + 16 >= 16 and y <= 40 and y + 16 >= 48
        True
    """
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"image must be (3, H, W), got {tuple(image.shape)}")
    height, width = image.shape[-2:]
    size = max(1, min(int(size), height, width))
    luma = rgb_to_grey(image.double())[0]
    energy = torch.zeros_like(luma)
    energy[:, :-1] += (luma[:, 1:] - luma[:, :-1]).square()
    energy[:-1, :] += (luma[1:, :] - luma[:-1, :]).square()
    # Window sums through an integral image: exact, and one pass whatever the window.
    integral = F.pad(energy.cumsum(0).cumsum(1), (1, 0, 1, 0))
    sums = (
        integral[size:, size:]
        - integral[:-size, size:]
        - integral[size:, :-size]
        + integral[:-size, :-size]
    )  # (H - size + 1, W - size + 1)
    index = int(torch.argmax(sums))
    y, x = divmod(index, sums.shape[1])
    return x, y, size, size


def layout_size(
    panels: int, panel: tuple[int, int], crop: tuple[int, int], *, with_metrics: bool
) -> tuple[int, int]:
    """``(width, height)`` of the picture (see the module docstring).

    Args:
        panels: the number of panels.
        panel: ``(width, height)`` of a displayed panel.
        crop: ``(width, height)`` of the crop at full resolution.
        with_metrics: whether the PSNR/SSIM band is there.

    Example:
        >>> layout_size(3, (64, 48), (16, 16), with_metrics=True)
        (224, 170)
    """
    pw, ph = panel
    cw, ch = crop
    zoom_h = max(1, round(ch * pw / cw))
    width = GAP + panels * (pw + GAP)
    height = GAP + LABEL_HEIGHT + ph + (METRICS_HEIGHT if with_metrics else 0) + GAP + zoom_h + GAP
    return width, height


def _to_pil(image: Tensor) -> Any:
    from PIL import Image

    array = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array, mode="RGB")


def render_comparison(
    panels: Sequence[tuple[str, Tensor]],
    *,
    crop: tuple[int, int, int, int],
    captions: Sequence[str] | None = None,
    max_width: int = 512,
) -> Any:
    """Draw the side-by-side picture as a Pillow RGB image.

    Args:
        panels: ``(label, image (3, H, W))`` in display order, all one size.
        crop: ``(x, y, w, h)`` of the zoomed region, in full-resolution pixels.
        captions: one line under each panel (PSNR/SSIM), or ``None`` for no metrics band. A
            label or caption may hold ``|``-separated variants, long to short: the first that
            fits the panel is drawn.
        max_width: panels wider than this are shown downscaled.

    Shape:
        - each image: :math:`(3, H, W)` in [0, 1]

    Example:
        >>> panels = [("a", torch.zeros(3, 48, 64)), ("b", torch.ones(3, 48, 64))]
        >>> picture = render_comparison(panels, crop=(0, 0, 16, 16))
        >>> picture.size == layout_size(2, (64, 48), (16, 16), with_metrics=False)
        True
    """
    from PIL import Image, ImageDraw, ImageFont

    if not panels:
        raise ValueError("render_comparison needs at least one panel")
    height, width = panels[0][1].shape[-2:]
    if any(image.shape[-2:] != (height, width) for _, image in panels):
        raise ValueError("every panel must have the same size")
    if captions is not None and len(captions) != len(panels):
        raise ValueError(f"got {len(captions)} captions for {len(panels)} panels")
    x, y, cw, ch = crop
    if x + cw > width or y + ch > height:
        raise ValueError(f"crop {crop} does not fit a {width}x{height} image")
    scale = min(1.0, max_width / width)
    pw, ph = max(1, round(width * scale)), max(1, round(height * scale))
    size = layout_size(len(panels), (pw, ph), (cw, ch), with_metrics=captions is not None)
    zoom_h = max(1, round(ch * pw / cw))
    canvas = Image.new("RGB", size, (255, 255, 255))
    font = ImageFont.load_default()
    metrics_h = METRICS_HEIGHT if captions is not None else 0
    box = (
        round(x * scale),
        round(y * scale),
        max(round((x + cw) * scale) - 1, round(x * scale)),
        max(round((y + ch) * scale) - 1, round(y * scale)),
    )
    for index, (label, image) in enumerate(panels):
        left = GAP + index * (pw + GAP)
        top = GAP + LABEL_HEIGHT
        full = _to_pil(image)
        if (pw, ph) != (width, height):
            full = full.resize((pw, ph), Image.Resampling.LANCZOS)
        shown = ImageDraw.Draw(full)
        shown.rectangle(box, outline=_BOX_COLOUR, width=_BOX_WIDTH)
        canvas.paste(full, (left, top))
        canvas.paste(_text_strip(label, pw, LABEL_HEIGHT, font), (left, GAP))
        if captions is not None:
            caption = captions[index]
            strip = _text_strip(caption, pw, METRICS_HEIGHT, font)
            canvas.paste(strip, (left, top + ph))
        zoom = _to_pil(image[:, y : y + ch, x : x + cw]).resize(
            (pw, zoom_h), Image.Resampling.NEAREST
        )
        canvas.paste(zoom, (left, top + ph + metrics_h + GAP))
    return canvas


def _text_strip(text: str, width: int, height: int, font: Any) -> Any:
    """A white band of ``width x height`` with ``text`` (``|``-separated variants: the first
    that fits, else the last) drawn in black, clipped to the band."""
    from PIL import Image, ImageDraw

    strip = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    variants = text.split("|")
    chosen = next((v for v in variants if draw.textlength(v, font=font) <= width), variants[-1])
    draw.text((0, 2), chosen, fill=(0, 0, 0), font=font)
    return strip


def compare_main(argv: Sequence[str]) -> int:
    """Run ``deblur compare``; returns the exit code (argparse exits with 2 on usage errors)."""
    from deblurgan.cli.shared import unique_names
    from deblurgan.io import WRITE_EXTENSIONS, ImageError, read_image

    parser = build_parser()
    args = parser.parse_args(list(argv))
    try:
        crop = parse_crop(args.crop)
    except ValueError as exc:
        parser.error(str(exc))
    if len(set(args.model)) != len(args.model):
        parser.error("a --model is given twice")
    check_download_options(parser, args.model, args)
    source = Path(args.image)
    output = Path(args.output) if args.output else source.with_name(f"{source.stem}_compare.png")
    if output.suffix.lower() not in WRITE_EXTENSIONS:
        parser.error(f"cannot write {output.suffix!r} files; use one of {WRITE_EXTENSIONS}")
    protected = [source, *([Path(args.sharp)] if args.sharp else []), *map(Path, args.model)]
    if any(output.resolve() == p.resolve() for p in protected):
        print(
            f"{_PROG}: error: refusing to write {output}: it is an input "
            "(inputs are never overwritten, not even with --force)",
            file=sys.stderr,
        )
        return 1
    if output.exists() and not args.force:
        print(f"{_PROG}: error: {output} exists (use --force to replace it)", file=sys.stderr)
        return 1

    try:
        blurry = read_image(source).rgb
        sharp = read_image(args.sharp).rgb if args.sharp else None
    except ImageError as exc:
        print(f"{_PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    height, width = blurry.shape[-2:]
    if sharp is not None and sharp.shape != blurry.shape:
        print(
            f"{_PROG}: error: {args.sharp}: size {sharp.shape[-1]}x{sharp.shape[-2]} differs from "
            f"{source}'s {width}x{height}",
            file=sys.stderr,
        )
        return 1
    if crop is None:
        side = args.crop_size or max(16, min(height, width) // 4)
        crop = auto_crop(sharp if sharp is not None else blurry, side)
    elif crop[0] + crop[2] > width or crop[1] + crop[3] > height:
        parser.error(f"--crop {args.crop} does not fit the {width}x{height} image")

    panels: list[tuple[str, Tensor]] = [("blurry", blurry)]
    try:
        from deblurgan.cli.shared import fetch_model_sources
        from deblurgan.inference import Deblurrer
        from deblurgan.io import redact_url
        from deblurgan.models import load_generator

        sources = fetch_model_sources(args.model, args, _PROG)
        names = unique_names(args.model)
        for model, local, name in zip(args.model, sources, names, strict=True):
            try:
                generator = load_generator(local)
            except (ValueError, OSError) as exc:
                shown = redact_url(model)
                raise ValueError(f"cannot load model {shown!r}: {one_line(exc)}") from exc
            deblurrer = Deblurrer(
                generator,
                device=args.device,
                precision=args.precision,
                tile_size=args.tile_size,
                tile_overlap=args.tile_overlap,
                threads=args.threads,
            )
            panels.append((name, deblurrer(blurry)))
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        print(f"{_PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    captions = None
    if sharp is not None:
        panels.append(("sharp", sharp))
        captions = [_caption(image, sharp) for _, image in panels[:-1]] + ["reference"]

    picture = render_comparison(panels, crop=crop, captions=captions, max_width=args.max_width)
    import numpy as np

    from deblurgan.io import image_to_tensor, write_image

    try:
        write_image(output, image_to_tensor(np.asarray(picture)), replace=args.force)
    except (ImageError, OSError) as exc:
        print(f"{_PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    x, y, cw, ch = crop
    print(f"wrote {output} ({picture.size[0]}x{picture.size[1]}; crop {x},{y},{cw},{ch})")
    return 0


def _caption(image: Tensor, sharp: Tensor) -> str:
    """PSNR and SSIM, in ``|``-separated variants from long to short (the panel takes one)."""
    from deblurgan.metrics import psnr, ssim

    db = psnr(image[None], sharp[None]).item()
    if min(sharp.shape[-2:]) < 11:  # SSIM's Gaussian window does not fit
        return f"PSNR {db:.2f} dB|{db:.2f} dB"
    score = ssim(image[None], sharp[None]).item()
    return f"PSNR {db:.2f} dB  SSIM {score:.4f}|{db:.2f} dB / {score:.4f}|{db:.2f} / {score:.3f}"
