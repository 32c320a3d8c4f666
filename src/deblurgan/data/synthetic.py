"""Synthetic training pairs from sharp photos: the realistic pipeline, or DeblurGAN's chain.

By default each item goes through the one realistic degradation of
:class:`~deblurgan.blur.RealisticDegradation` (:func:`degrade_photo`): the photo is downscaled by
a random factor (never enlarged), the item's blur is drawn, a window holding the crop plus the
margin that blur needs is cut from the photo (mirrored where the photo is too small), flipped,
then blurred (camera path or camera shake), boosted and clipped, made noisy and compressed;
the margin is cut off. ``deblur blur --kind realistic`` and ``deblur eval --format synthetic``
call the same function, so an item is the same pixels everywhere.

Given a ``sampler`` (or the old ``noise_std``, ``linear_light``, ``return_kernel`` settings) the
dataset keeps DeblurGAN's simpler chain (Kupyn et al., 2018): rescale a photo, crop a window
with a margin of ``k // 2`` on each side, blur it with a kernel from the sampler (in linear light
by default), cut the margin off and add Gaussian noise. Flips and quarter turns are applied to
the sharp window before blurring (so a returned kernel is the one used); colour jitter, last, to
both images alike. That blur half is :class:`PairSynthesizer`, shared with the dead leaves.

Every random choice comes from a generator seeded by ``(seed, index)``: an item is the same in
every epoch, process and DataLoader worker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from deblurgan.blur import BLUR_SAMPLERS, GoProBlurSynthesizer, add_gaussian_noise, blur_image
from deblurgan.blur.apply import linear_to_srgb, srgb_to_linear
from deblurgan.blur.checks import check_range
from deblurgan.blur.realistic import (
    DegradedPair,
    RealisticDegradation,
    build_degradation,
    reflect_pad,
)
from deblurgan.data.files import list_image_files, normalise_extensions
from deblurgan.data.registries import DATASETS
from deblurgan.data.transforms import (
    PairAugment,
    crop_window,
    item_generator,
    random_colour_jitter_pair,
    random_flip_pair,
    random_quarter_turns,
)
from deblurgan.data.validation import check_image, raise_if_problems
from deblurgan.io import IMAGE_EXTENSIONS, read_image

__all__ = [
    "GOPRO_SAMPLER",
    "PairSynthesizer",
    "SyntheticBlurDataset",
    "build_sampler",
    "degrade_photo",
    "list_image_files",
    "to_uint8",
]

logger = logging.getLogger(__name__)

PathLike = str | Path


#: Sampler name of the GoPro-style synthesis (non-uniform blur along a camera path).
GOPRO_SAMPLER = "gopro"


def build_sampler(sampler: Any) -> Any:
    """A blur sampler from a spec (``{"name": ..., **kwargs}`` or a name) or an object.

    Names are those of ``BLUR_SAMPLERS`` (uniform blur kernels), plus ``"gopro"``: the GoPro-style
    synthesis of :class:`~deblurgan.blur.GoProBlurSynthesizer` (sub-frames along a random camera
    path, averaged), whose keyword arguments the spec passes on. An object is used as it is if
    it has ``kernel_size`` and ``sample(batch, *, generator)``, or is a ``GoProBlurSynthesizer``.

    Example:
        >>> build_sampler({"name": "trajectory", "kernel_size": 7}).kernel_size
        7
        >>> type(build_sampler({"name": "gopro", "num_frames": 5})).__name__
        'GoProBlurSynthesizer'
    """
    if sampler is None:
        sampler = {"name": "trajectory"}
    if isinstance(sampler, str) and sampler == GOPRO_SAMPLER:
        return GoProBlurSynthesizer()
    if isinstance(sampler, Mapping) and sampler.get("name") == GOPRO_SAMPLER:
        options = {k: v for k, v in sampler.items() if k != "name"}
        try:
            return GoProBlurSynthesizer(**options)
        except TypeError as exc:
            raise TypeError(f"cannot build the 'gopro' sampler with {options}: {exc}") from exc
    if isinstance(sampler, str | Mapping):
        return BLUR_SAMPLERS.from_spec(sampler)
    if isinstance(sampler, GoProBlurSynthesizer):
        return sampler
    if not callable(getattr(sampler, "sample", None)) or not isinstance(
        getattr(sampler, "kernel_size", None), int
    ):
        raise TypeError(
            "sampler must be a BLUR_SAMPLERS spec (a name or {'name': ..., **kwargs}) or an "
            f"object with an int kernel_size and sample(batch, *, generator), got {sampler!r}"
        )
    return sampler


def _gopro_margin(synthesizer: GoProBlurSynthesizer, crop_size: int) -> int:
    """The margin ``m`` whose ``(crop + 2m)``-pixel window the synthesis crops back to ``crop``.

    The synthesiser's margin grows with the window it is given (rotation and zoom move far
    pixels more), so iterate ``m = margin_for(crop + 2m)`` to its fixed point.
    """
    margin = synthesizer.margin_for(crop_size, crop_size)
    for _ in range(100):
        window = crop_size + 2 * margin
        again = synthesizer.margin_for(window, window)
        if again <= margin:
            return margin
        margin = again
    raise ValueError(
        f"the 'gopro' motion ({synthesizer!r}) is too large for any window around a "
        f"{crop_size}-pixel crop: lower rotation or zoom"
    )


def to_uint8(rgb: Tensor) -> Tensor:
    """A photo as the dataset keeps it: float RGB in [0, 1] to uint8 (rounded).

    Example:
        >>> to_uint8(torch.tensor([[[0.0, 0.5, 1.0]]])).tolist()
        [[[0, 128, 255]]]
    """
    return (rgb.clamp(0, 1) * 255).round().to(torch.uint8).contiguous()


_to_uint8 = to_uint8


class PairSynthesizer:
    """Turn a sharp window (the crop plus a blur margin on each side) into a training item.

    The shared blur pipeline of the synthetic datasets: blur the window with a kernel from the
    sampler (in linear light by default), cut the margin off (so the convolution's border padding
    never reaches the crop), add Gaussian noise of a random level, apply colour jitter to both
    images alike. With the ``"gopro"`` sampler the window goes through
    :class:`~deblurgan.blur.GoProBlurSynthesizer` instead and is centre-cropped. Random numbers
    are drawn in this order: the blur, the noise level, the noise, the jitter.

    Args:
        crop_size: side of the square crops returned.
        sampler: blur sampler spec or object (see :func:`build_sampler`); default
            ``"trajectory"``.
        noise_std: range of the Gaussian noise standard deviation added to the blurry image.
        jitter: colour jitter ``{"brightness": x, "contrast": x, "saturation": x}``.
        linear_light: blur in linear light (sRGB decoded, blurred, re-encoded).
        return_kernel: also return the blur kernel as ``"kernel"`` ``(k, k)``.

    Attributes:
        margin: pixels of context needed on each side of the crop.
        window: side of the sharp window expected, ``crop_size + 2 * margin``.

    Example:
        >>> synth = PairSynthesizer(8, sampler={"name": "linear", "kernel_size": 5})
        >>> synth.window
        12
        >>> item = synth(torch.rand(3, 12, 12), generator=torch.Generator(), name="x")
        >>> item["blurry"].shape, item["sharp"].shape, item["name"]
        (torch.Size([3, 8, 8]), torch.Size([3, 8, 8]), 'x')
    """

    def __init__(
        self,
        crop_size: int,
        *,
        sampler: Any = None,
        noise_std: float | Sequence[float] = (0.0, 0.01),
        jitter: Mapping[str, float] | None = None,
        linear_light: bool = True,
        return_kernel: bool = False,
    ) -> None:
        if not isinstance(crop_size, int) or isinstance(crop_size, bool) or crop_size < 1:
            raise ValueError(f"crop_size must be a positive integer, got {crop_size!r}")
        self.crop_size = crop_size
        self.sampler = build_sampler(sampler)
        self.gopro = isinstance(self.sampler, GoProBlurSynthesizer)
        if self.gopro:
            if return_kernel:
                raise ValueError(
                    "return_kernel=True needs a kernel sampler; the 'gopro' blur varies over the "
                    "image and has no single kernel"
                )
            self.margin = _gopro_margin(self.sampler, crop_size)
        else:
            self.margin = int(self.sampler.kernel_size) // 2
        self.noise_std = check_range("noise_std", noise_std, low=0.0)
        self.jitter = PairAugment(jitter=jitter).jitter  # validated amounts of the enabled parts
        self.linear_light = bool(linear_light)
        self.return_kernel = bool(return_kernel)

    @property
    def window(self) -> int:
        """Side of the sharp window :meth:`__call__` expects: the crop plus both margins."""
        return self.crop_size + 2 * self.margin

    def __call__(self, region: Tensor, *, generator: torch.Generator, name: str) -> dict[str, Any]:
        """Blur, crop, add noise and jitter: the item ``{"blurry", "sharp", "name"[, "kernel"]}``.

        Shape:
            - region: ``(3, window, window)``, RGB in [0, 1]
            - blurry, sharp: ``(3, crop_size, crop_size)``; kernel: ``(k, k)``
        """
        if region.ndim != 3 or tuple(region.shape[-2:]) != (self.window, self.window):
            raise ValueError(
                f"the sharp window must be (3, {self.window}, {self.window}) (crop "
                f"{self.crop_size} + margin 2x{self.margin}), got {tuple(region.shape)}"
            )
        kernel: Tensor | None = None
        if self.gopro:
            # Sub-frames are cut from inside the window; centre-crop what is left to the crop.
            pair = self.sampler(region, generator=generator)
            offset = (pair.blurry.shape[-1] - self.crop_size) // 2
            inner = slice(offset, offset + self.crop_size)
            blurry, sharp = pair.blurry[:, inner, inner], pair.sharp[:, inner, inner]
        else:
            kernel = self.sampler.sample(1, generator=generator).kernels[0]
            light = srgb_to_linear(region) if self.linear_light else region
            blurred = blur_image(light, kernel)
            if self.linear_light:
                blurred = linear_to_srgb(blurred)
            # Cut the margin off: border padding of the convolution never reaches the crop.
            inner = slice(self.margin, self.margin + self.crop_size)
            blurry = blurred[:, inner, inner]
            sharp = region[:, inner, inner]

        u = float(torch.rand(1, generator=generator, dtype=torch.float64))
        std = self.noise_std[0] + (self.noise_std[1] - self.noise_std[0]) * u
        blurry = add_gaussian_noise(blurry, std, generator=generator)
        if self.jitter:
            blurry, sharp = random_colour_jitter_pair(
                blurry, sharp, generator=generator, **self.jitter
            )
        item: dict[str, Any] = {
            "blurry": blurry.contiguous().float(),
            "sharp": sharp.contiguous().float(),
            "name": name,
        }
        if self.return_kernel and kernel is not None:
            item["kernel"] = kernel.float()
        return item

    def __repr__(self) -> str:
        return (
            f"PairSynthesizer(crop_size={self.crop_size}, sampler={self.sampler!r}, "
            f"noise_std={self.noise_std}, jitter={self.jitter!r}, "
            f"linear_light={self.linear_light}, return_kernel={self.return_kernel})"
        )


def _scaled_size(size: int, scale: float) -> int:
    return max(1, round(size * scale))


def degrade_photo(
    photo: Tensor,
    degradation: RealisticDegradation,
    *,
    generator: torch.Generator,
    crop_size: int | None = None,
    scale: tuple[float, float] = (1.0, 1.0),
    flip: bool = False,
    rot90: bool = False,
    jitter: Mapping[str, float] | None = None,
) -> DegradedPair:
    """One realistic pair from a sharp photo: the item of :class:`SyntheticBlurDataset`.

    In order, each drawing from ``generator``: a scale in ``scale`` (clipped so the crop fits;
    the photo is resampled with antialiasing when it is not 1), the blur
    (:meth:`~deblurgan.blur.RealisticDegradation.draw`, sizes relative to the degradation's
    frame width, or to the scaled photo's longer side when that is ``None``), a window of the
    crop plus the blur's margin (two numbers, always), flips (two numbers), a quarter turn (one
    number, when ``rot90``), colour jitter (when given), then the degradation itself. Where the
    scaled photo is smaller than the window, its border is mirrored; the crop itself always
    lies inside the photo.

    Args:
        photo: ``(3, H, W)`` sharp photo, uint8 or float in [0, 1].
        degradation: the pipeline.
        generator: the only source of randomness (``item_generator(seed, index)``).
        crop_size: side of the square crop; ``None``: the whole (scaled) photo.
        scale: ``(low, high)`` range of the random rescale.
        flip: random horizontal and vertical flips.
        rot90: random quarter turns.
        jitter: colour jitter amounts applied to the sharp window before the degradation.

    Returns:
        A :class:`~deblurgan.blur.DegradedPair` with ``(3, crop, crop)`` images (or the scaled
        photo's size); its params add ``scale`` and the window's position.

    Example:
        >>> photo = torch.randint(0, 256, (3, 40, 48), dtype=torch.uint8)
        >>> pair = degrade_photo(photo, RealisticDegradation(frame_width=48), crop_size=16,
        ...                      generator=torch.Generator().manual_seed(0))
        >>> pair.blurry.shape, pair.sharp.shape
        (torch.Size([3, 16, 16]), torch.Size([3, 16, 16]))
    """
    height, width = int(photo.shape[-2]), int(photo.shape[-1])
    if crop_size is not None and crop_size > min(height, width):
        raise ValueError(f"a {width}x{height} photo is smaller than the crop {crop_size}")
    low = scale[0] if crop_size is None else max(scale[0], crop_size / min(height, width))
    high = max(scale[1], low)
    u = float(torch.rand(1, generator=generator, dtype=torch.float64))
    factor = low + (high - low) * u
    scaled_h, scaled_w = _scaled_size(height, factor), _scaled_size(width, factor)
    if crop_size is not None:  # rounding must not lose the crop
        scaled_h, scaled_w = max(scaled_h, crop_size), max(scaled_w, crop_size)
    out_h, out_w = (crop_size, crop_size) if crop_size is not None else (scaled_h, scaled_w)
    params = degradation.draw(
        generator=generator, frame_width=degradation.frame_width_for(scaled_h, scaled_w)
    )
    margin = degradation.margin(params, out_h, out_w)
    # The real pixels of the window, in the scaled photo and in the photo itself.
    real_h, real_w = min(out_h + 2 * margin, scaled_h), min(out_w + 2 * margin, scaled_w)
    source_h = min(max(round(real_h * height / scaled_h), 1), height)
    source_w = min(max(round(real_w * width / scaled_w), 1), width)
    top, left = crop_window(height, width, (source_h, source_w), generator=generator)
    region = photo[:, top : top + source_h, left : left + source_w]
    region = region.float().div_(255) if region.dtype == torch.uint8 else region.float()
    if (source_h, source_w) != (real_h, real_w):
        region = F.interpolate(
            region[None],
            size=(real_h, real_w),
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )[0].clamp_(0, 1)
    pad_h, pad_w = out_h + 2 * margin - real_h, out_w + 2 * margin - real_w
    if pad_h or pad_w:
        region = reflect_pad(region, pad_h // 2, pad_h - pad_h // 2, pad_w // 2, pad_w - pad_w // 2)
    region, _ = random_flip_pair(
        region, region, generator=generator, horizontal=flip, vertical=flip
    )
    if rot90:
        turns = random_quarter_turns(region.shape[-2], region.shape[-1], generator=generator)
        region = torch.rot90(region, turns, dims=(-2, -1))
    if jitter:
        region, _ = random_colour_jitter_pair(region, region, generator=generator, **jitter)
    pair = degradation.apply(region, params, margin=margin, generator=generator)
    pair.params.update(scale=factor, window_top=top, window_left=left)
    return pair


class _SynthesizedPairs(Dataset[dict[str, Any]]):
    """Base of the datasets whose items come out of a :class:`PairSynthesizer`.

    The blur settings are the synthesizer's; these read-only views keep them one attribute away.
    """

    synthesizer: PairSynthesizer

    @property
    def crop_size(self) -> int:
        """Side of the square crops."""
        return self.synthesizer.crop_size

    @property
    def sampler(self) -> Any:
        """The blur sampler (or the GoPro-style synthesiser)."""
        return self.synthesizer.sampler

    @property
    def gopro(self) -> bool:
        """Whether the blur is the GoPro-style synthesis (no single kernel)."""
        return self.synthesizer.gopro

    @property
    def margin(self) -> int:
        """Pixels of context blurred on each side of the crop."""
        return self.synthesizer.margin

    @property
    def noise_std(self) -> tuple[float, float]:
        """Range of the noise standard deviation."""
        return self.synthesizer.noise_std

    @property
    def jitter(self) -> dict[str, float]:
        """The enabled colour-jitter amounts."""
        return self.synthesizer.jitter

    @property
    def linear_light(self) -> bool:
        """Whether the blur averages linear light."""
        return self.synthesizer.linear_light

    @property
    def return_kernel(self) -> bool:
        """Whether items carry their blur kernel."""
        return self.synthesizer.return_kernel


_LEGACY_DEFAULTS: dict[str, Any] = {"noise_std": (0.0, 0.01), "linear_light": True}


@DATASETS.register("synthetic")
class SyntheticBlurDataset(_SynthesizedPairs):
    """Pairs ``(blurry, sharp)`` synthesised from a folder of sharp photos.

    By default (no ``sampler``) every item is the realistic degradation of
    :func:`degrade_photo` (:class:`~deblurgan.blur.RealisticDegradation`, settings in
    ``degradation``). A ``sampler`` (or any of ``noise_std``, ``linear_light``,
    ``return_kernel``) selects DeblurGAN's simpler chain of :class:`PairSynthesizer` instead.

    Photos are decoded once at construction and kept as uint8 ``(3, H, W)`` tensors (a quarter of
    float32's memory; with ``fork`` DataLoader workers share them). ``cache=False`` decodes on
    every access instead, for collections larger than memory; the start-up check then reads only
    image headers.

    Args:
        root: folder of sharp photos, a photo file, or a list of folders and files.
        crop_size: side of the square crops returned; ``None`` (realistic pipeline only): whole
            photos, of their own sizes (for evaluation and ``deblur blur``, not batches).
        length: virtual epoch length; default one item per photo. Item ``i`` uses photo
            ``i % len(photos)``.
        degradation: the realistic pipeline's settings: a mapping of
            :class:`~deblurgan.blur.RealisticDegradation` keywords, ``"realistic"``, an instance
            or ``None`` (its defaults). Not with ``sampler``.
        sampler: the old chain's blur sampler: any name registered in ``BLUR_SAMPLERS``
            (camera-shake ``"trajectory"``, ``"linear"``, ``"defocus"``, ``"gaussian"``...),
            alone or as ``{"name": ..., **kwargs}``; or a sampler object (``kernel_size`` and
            ``sample(batch, *, generator)``). ``"gopro"`` (or ``{"name": "gopro", **kwargs}`` of
            :class:`~deblurgan.blur.GoProBlurSynthesizer`) synthesises GoPro-style non-uniform
            blur instead: sub-frames along a random camera path, averaged with the
            synthesiser's own ``gamma`` (``linear_light`` does not apply).
        scale: range of the random rescale applied to the photo before cropping (downscaling with
            antialiasing varies the detail under the blur); clipped per photo so the crop (old
            chain: the crop and its kernel margin) fits.
        noise_std: old chain: range of the Gaussian noise standard deviation (default 0-0.01).
        flip: random horizontal and vertical flips, applied to both images alike.
        rot90: random quarter turns, applied to both images alike.
        jitter: colour jitter ``{"brightness": x, "contrast": x, "saturation": x}`` applied
            identically to both images (see ``random_colour_jitter_pair``).
        linear_light: old chain: blur in linear light (sRGB decoded, blurred, re-encoded), as a
            camera integrates light (default); ``False`` blurs the sRGB values as DeblurGAN did.
        seed: base seed; item ``i`` is a function of ``(seed, i)`` only.
        extensions: file extensions taken from folders.
        recursive: scan sub-folders of ``root`` too.
        cache: decode every photo once at construction (default) or at every access.
        return_kernel: old chain: also return the blur kernel as ``"kernel"`` ``(k, k)``.
        return_params: realistic pipeline: also return the item's parameters as ``"params"``
            (a JSON-ready dict; for evaluation and ``deblur blur``: it does not collate).

    Raises:
        ValueError: no photos, unreadable photos, or photos too small for ``crop_size`` (old
            chain: plus the kernel margin) even at the largest scale; the message lists every
            offending file.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> folder = tempfile.mkdtemp()
        >>> Image.new("RGB", (48, 40), (200, 90, 30)).save(f"{folder}/flat.png")
        >>> data = SyntheticBlurDataset(folder, crop_size=16, length=3,
        ...                             sampler={"name": "trajectory", "kernel_size": 7})
        >>> item = data[2]
        >>> len(data), item["blurry"].shape, item["sharp"].shape, item["name"]
        (3, torch.Size([3, 16, 16]), torch.Size([3, 16, 16]), 'flat_2')
        >>> realistic = SyntheticBlurDataset(folder, crop_size=16, degradation={"frame_width": 48})
        >>> realistic[0]["blurry"].shape
        torch.Size([3, 16, 16])
    """

    def __init__(
        self,
        root: PathLike | Sequence[PathLike],
        *,
        crop_size: int | None = 256,
        length: int | None = None,
        degradation: Any = None,
        sampler: Any = None,
        scale: float | Sequence[float] = (0.25, 1.0),
        noise_std: float | Sequence[float] | None = None,
        flip: bool = True,
        rot90: bool = False,
        jitter: Mapping[str, float] | None = None,
        linear_light: bool | None = None,
        seed: int = 0,
        extensions: Sequence[str] | str = tuple(IMAGE_EXTENSIONS),
        recursive: bool = False,
        cache: bool = True,
        return_kernel: bool = False,
        return_params: bool = False,
    ) -> None:
        legacy = sampler is not None or noise_std is not None or linear_light is not None
        legacy = legacy or bool(return_kernel)
        if legacy and degradation is not None:
            raise ValueError(
                "give either degradation (the realistic pipeline) or sampler/noise_std/"
                "linear_light/return_kernel (the old chain), not both"
            )
        self.degradation: RealisticDegradation | None = None
        if legacy:
            if crop_size is None:
                raise ValueError("crop_size=None (whole photos) needs the realistic pipeline")
            if return_params:
                raise ValueError("return_params needs the realistic pipeline (no sampler)")
            self.synthesizer = PairSynthesizer(
                crop_size,
                sampler=sampler,
                noise_std=_LEGACY_DEFAULTS["noise_std"] if noise_std is None else noise_std,
                jitter=jitter,
                linear_light=_LEGACY_DEFAULTS["linear_light"]
                if linear_light is None
                else linear_light,
                return_kernel=return_kernel,
            )
            self._jitter: dict[str, float] = self.synthesizer.jitter
        else:
            if crop_size is not None and (
                not isinstance(crop_size, int) or isinstance(crop_size, bool) or crop_size < 1
            ):
                raise ValueError(f"crop_size must be a positive integer or None, got {crop_size!r}")
            self.degradation = build_degradation(degradation)
            self._crop_size = crop_size
            self._jitter = PairAugment(jitter=jitter).jitter
        self.return_params = bool(return_params)
        self.scale = check_range("scale", scale, low=0.0)
        if self.scale[0] <= 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        self.flip = bool(flip)
        self.rot90 = bool(rot90)
        self.seed = int(seed)
        self.cache = bool(cache)

        self.files = list_image_files(root, extensions=extensions, recursive=recursive)
        if not self.files:
            allowed = sorted(normalise_extensions(extensions))
            raise ValueError(f"no photos found in {root!r} with extensions {allowed}")
        self.photos: list[Tensor] = []
        self.sizes: list[tuple[int, int]] = []
        problems: list[str] = []
        for path in self.files:
            size = self._load_size(path, problems)
            if size is None or crop_size is None:
                continue
            h, w = size
            if self.degradation is not None:
                if min(h, w) < crop_size:  # the blur's margin is mirrored where it must be
                    problems.append(f"{path}: {w}x{h} is smaller than the crop {crop_size}")
                continue
            need = crop_size + 2 * self.margin
            # A photo too small for the scale range is used at the smallest scale that fits the
            # window (see __getitem__); only one smaller than the window itself is unusable.
            if min(h, w) < need:
                problems.append(
                    f"{path}: {w}x{h} is smaller than the {need}x{need} window (crop {crop_size} "
                    f"+ blur margin 2x{self.margin})"
                )
        raise_if_problems(problems, f"synthetic dataset {root}")
        if length is None:
            length = len(self.files)
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise ValueError(f"length must be a positive integer, got {length!r}")
        self.length = length
        logger.info(
            "SyntheticBlurDataset: %d photos, %d items, crop %s, %r",
            len(self.files),
            self.length,
            crop_size,
            self.degradation if self.degradation is not None else self.sampler,
        )

    # The old chain's settings live in its PairSynthesizer; the realistic pipeline has its own.
    @property
    def crop_size(self) -> int | None:  # type: ignore[override]
        """Side of the square crops (``None``: whole photos)."""
        return self._crop_size if self.degradation is not None else self.synthesizer.crop_size

    @property
    def sampler(self) -> Any:
        """The old chain's blur sampler; the realistic pipeline itself otherwise."""
        return self.degradation if self.degradation is not None else self.synthesizer.sampler

    @property
    def gopro(self) -> bool:
        """Whether the old chain's blur is the GoPro-style synthesis."""
        return self.degradation is None and self.synthesizer.gopro

    @property
    def margin(self) -> int:
        """Old chain: pixels of context blurred on each side of the crop; realistic: per item."""
        return self.synthesizer.margin if self.degradation is None else 0

    @property
    def noise_std(self) -> tuple[float, float]:
        """Old chain: range of the noise standard deviation."""
        if self.degradation is not None:
            raise AttributeError("the realistic pipeline has no noise_std; see .degradation")
        return self.synthesizer.noise_std

    @property
    def jitter(self) -> dict[str, float]:
        """The enabled colour-jitter amounts."""
        return self._jitter

    @property
    def linear_light(self) -> bool:
        """Old chain: whether the blur averages linear light."""
        if self.degradation is not None:
            raise AttributeError("the realistic pipeline draws linear or gamma averaging per item")
        return self.synthesizer.linear_light

    @property
    def return_kernel(self) -> bool:
        """Whether items carry their blur kernel (old chain only)."""
        return self.degradation is None and self.synthesizer.return_kernel

    def _load_size(self, path: Path, problems: list[str]) -> tuple[int, int] | None:
        """Check one photo (cache it when caching): ``(height, width)``, or ``None`` + a problem."""
        if not self.cache:
            size = check_image(path, problems)  # the header only
        else:
            try:
                photo = _to_uint8(read_image(path, max_pixels=None).rgb)
            except (OSError, ValueError) as exc:  # ImageError is a ValueError
                problems.append(f"{path}: unreadable ({str(exc).removeprefix(f'{path}: ')})")
                return None
            self.photos.append(photo)
            size = (int(photo.shape[1]), int(photo.shape[2]))
        if size is not None:
            self.sizes.append(size)
        return size

    def _photo(self, index: int) -> Tensor:
        if self.cache:
            return self.photos[index]
        return _to_uint8(read_image(self.files[index], max_pixels=None).rgb)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for a dataset of {self.length} items")
        index %= self.length
        generator = item_generator(self.seed, index)
        photo_index = index % len(self.files)
        photo = self._photo(photo_index)
        name = f"{self.files[photo_index].stem}_{index}"
        if self.degradation is not None:
            pair = degrade_photo(
                photo,
                self.degradation,
                generator=generator,
                crop_size=self._crop_size,
                scale=self.scale,
                flip=self.flip,
                rot90=self.rot90,
                jitter=self._jitter,
            )
            item: dict[str, Any] = {
                "blurry": pair.blurry.contiguous().float(),
                "sharp": pair.sharp.contiguous().float(),
                "name": name,
            }
            if self.return_params:
                item["params"] = pair.params
            return item

        height, width = photo.shape[-2:]
        window = self.synthesizer.crop_size + 2 * self.margin

        # Random scale, clipped so the window still fits the rescaled photo.
        low = max(self.scale[0], window / min(height, width))
        high = max(self.scale[1], low)
        u = float(torch.rand(1, generator=generator, dtype=torch.float64))
        scale = low + (high - low) * u
        # Crop the source region that maps onto the window, then resize only that region.
        source = min(max(round(window / scale), 1), height, width)
        top, left = crop_window(height, width, source, generator=generator)
        region = photo[:, top : top + source, left : left + source].float().div_(255)
        if source != window:
            region = F.interpolate(
                region[None],
                size=(window, window),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            )[0].clamp_(0, 1)

        if self.flip:
            # Flipping the sharp window before blurring keeps the returned kernel the one used.
            region, _ = random_flip_pair(region, region, generator=generator)
        if self.rot90:
            turns = random_quarter_turns(window, window, generator=generator)
            region = torch.rot90(region, turns, dims=(-2, -1))

        return self.synthesizer(region, generator=generator, name=name)
