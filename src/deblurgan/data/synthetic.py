"""Synthetic training pairs: sharp photos blurred by random camera shake (DeblurGAN, Kupyn 2018).

Each item rescales a photo, crops a window with a margin of ``k // 2`` on each side, blurs it with
a kernel from a blur sampler (in linear light by default), cuts the margin off (so no border
padding ever reaches the blurry crop) and adds Gaussian noise. Flips and quarter turns are applied
to the sharp window before blurring (so a returned kernel is the one used); colour jitter, last,
to both images alike. Every random choice comes from a generator seeded by ``(seed, index)``: an
item is the same in every epoch, process and DataLoader worker.

The blur half ("sharp window with margin -> blur -> cut the margin -> noise -> jitter -> item") is
:class:`PairSynthesizer`, shared with the other synthetic sources (dead leaves).
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
    "list_image_files",
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


def _range(name: str, value: float | Sequence[float], *, low: float) -> tuple[float, float]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        lo = hi = float(value)
    elif isinstance(value, Sequence) and len(value) == 2:
        lo, hi = float(value[0]), float(value[1])
    else:
        raise ValueError(f"{name} must be a number or a (low, high) pair, got {value!r}")
    if not low <= lo <= hi:
        raise ValueError(f"{name} must satisfy {low} <= low <= high, got {value!r}")
    return lo, hi


def _to_uint8(rgb: Tensor) -> Tensor:
    return (rgb.clamp(0, 1) * 255).round().to(torch.uint8).contiguous()


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
        self.noise_std = _range("noise_std", noise_std, low=0.0)
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


@DATASETS.register("synthetic")
class SyntheticBlurDataset(_SynthesizedPairs):
    """Pairs ``(blurry, sharp)`` synthesised from a folder of sharp photos.

    Photos are decoded once at construction and kept as uint8 ``(3, H, W)`` tensors (a quarter of
    float32's memory; with ``fork`` DataLoader workers share them). ``cache=False`` decodes on
    every access instead, for collections larger than memory; the start-up check then reads only
    image headers.

    Args:
        root: folder of sharp photos, a photo file, or a list of folders and files.
        crop_size: side of the square crops returned.
        length: virtual epoch length; default one item per photo. Item ``i`` uses photo
            ``i % len(photos)``.
        sampler: blur sampler spec: any name registered in ``BLUR_SAMPLERS`` (camera-shake
            ``"trajectory"``, the default, or ``"linear"``, ``"defocus"``, ``"gaussian"``...),
            alone or as ``{"name": ..., **kwargs}``; or a sampler object (``kernel_size`` and
            ``sample(batch, *, generator)``). ``"gopro"`` (or ``{"name": "gopro", **kwargs}`` of
            :class:`~deblurgan.blur.GoProBlurSynthesizer`) synthesises GoPro-style non-uniform
            blur instead: sub-frames along a random camera path, averaged with the
            synthesiser's own ``gamma`` (``linear_light`` does not apply).
        scale: range of the random rescale applied to the photo before cropping (downscaling with
            antialiasing varies the blur-to-detail ratio); clipped per photo so the crop fits.
        noise_std: range of the Gaussian noise standard deviation added to the blurry image.
        flip: random horizontal and vertical flips, applied to both images alike.
        rot90: random quarter turns, applied to both images alike.
        jitter: colour jitter ``{"brightness": x, "contrast": x, "saturation": x}`` applied
            identically to both images (see ``random_colour_jitter_pair``).
        linear_light: blur in linear light (sRGB decoded, blurred, re-encoded), as a camera
            integrates light; ``False`` blurs the sRGB values directly as DeblurGAN did.
        seed: base seed; item ``i`` is a function of ``(seed, i)`` only.
        extensions: file extensions taken from folders.
        recursive: scan sub-folders of ``root`` too.
        cache: decode every photo once at construction (default) or at every access.
        return_kernel: also return the blur kernel as ``"kernel"`` ``(k, k)``.

    Raises:
        ValueError: no photos, unreadable photos, or photos too small for ``crop_size`` plus the
            kernel margin even at the largest scale; the message lists every offending file.

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
    """

    def __init__(
        self,
        root: PathLike | Sequence[PathLike],
        *,
        crop_size: int = 256,
        length: int | None = None,
        sampler: Any = None,
        scale: float | Sequence[float] = (0.25, 1.0),
        noise_std: float | Sequence[float] = (0.0, 0.01),
        flip: bool = True,
        rot90: bool = False,
        jitter: Mapping[str, float] | None = None,
        linear_light: bool = True,
        seed: int = 0,
        extensions: Sequence[str] | str = tuple(IMAGE_EXTENSIONS),
        recursive: bool = False,
        cache: bool = True,
        return_kernel: bool = False,
    ) -> None:
        self.synthesizer = PairSynthesizer(
            crop_size,
            sampler=sampler,
            noise_std=noise_std,
            jitter=jitter,
            linear_light=linear_light,
            return_kernel=return_kernel,
        )
        self.scale = _range("scale", scale, low=0.0)
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
        need = crop_size + 2 * self.margin
        for path in self.files:
            size = self._load_size(path, problems)
            if size is None:
                continue
            h, w = size
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
            "SyntheticBlurDataset: %d photos, %d items, crop %d, sampler %r",
            len(self.files),
            self.length,
            crop_size,
            self.sampler,
        )

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
        height, width = photo.shape[-2:]
        window = self.crop_size + 2 * self.margin

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

        return self.synthesizer(
            region, generator=generator, name=f"{self.files[photo_index].stem}_{index}"
        )
