"""Training pairs from dead leaves images (Achddou et al. 2021; Baradad et al. 2021).

Achddou, Gousseau and Ladjal ("Synthetic images as a regularity prior for image restoration
neural networks", SSVM 2021) and Baradad et al. ("Learning to see by looking at noise", NeurIPS
2021) train restoration and representation networks on dead leaves images alone; mixed with
photos they add endless, photo-free variety. :class:`DeadLeavesDataset` renders them
(:mod:`deblurgan.data.dead_leaves_render`, whose names are re-exported here) and blurs them with
the pipeline of the photo dataset.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from deblurgan.data.dead_leaves_render import (
    COLOUR_MODES,
    LEAF_SHAPES,
    LEAF_TEXTURES,
    LeafPartition,
    check_options,
    dead_leaves_image,
    dead_leaves_partition,
    sample_radii,
)
from deblurgan.data.registries import DATASETS
from deblurgan.data.synthetic import PairSynthesizer, _SynthesizedPairs
from deblurgan.data.transforms import item_generator

__all__ = [
    "COLOUR_MODES",
    "LEAF_SHAPES",
    "LEAF_TEXTURES",
    "DeadLeavesDataset",
    "LeafPartition",
    "dead_leaves_image",
    "dead_leaves_partition",
    "sample_radii",
]

logger = logging.getLogger(__name__)


@DATASETS.register("dead_leaves")
class DeadLeavesDataset(_SynthesizedPairs):
    """Pairs ``(blurry, sharp)`` whose sharp image is a fresh dead leaves image.

    Each item renders a dead leaves window (the crop plus the blur margin, see
    :func:`dead_leaves_image`) and passes it through the blur pipeline of
    :class:`~deblurgan.data.SyntheticBlurDataset` (:class:`~deblurgan.data.PairSynthesizer`):
    blur in linear light with a kernel from the sampler, cut the margin, noise, colour jitter.
    Items match that dataset's (``blurry``, ``sharp``, ``name`` and optionally ``kernel``) and
    are a function of ``(seed, index)`` only. Flips and rotations are left out: the model is
    already isotropic.

    Args:
        crop_size: side of the square crops returned.
        length: number of items (each one a new image).
        sampler: blur sampler spec or object, as for ``SyntheticBlurDataset`` (``"gopro"``
            included); default ``"trajectory"``.
        noise_std: range of the Gaussian noise standard deviation added to the blurry image.
        jitter: colour jitter ``{"brightness": x, "contrast": x, "saturation": x}`` applied
            identically to both images.
        linear_light: blur in linear light (sRGB decoded, blurred, re-encoded).
        seed: base seed; item ``i`` is a function of ``(seed, i)`` only.
        return_kernel: also return the blur kernel as ``"kernel"`` ``(k, k)``.
        radius_min: smallest leaf size in pixels.
        radius_max: largest leaf size in pixels; default the side of the rendered window.
        alpha: exponent of the leaf-size law (3: scale invariant).
        shapes: leaf shapes from :data:`LEAF_SHAPES`.
        texture: per-leaf texture from :data:`LEAF_TEXTURES`.
        texture_strength: largest relative amplitude of the texture.
        colours: colour mode from :data:`COLOUR_MODES`.
        supersample: anti-aliasing factor of the rendering.

    Example:
        >>> data = DeadLeavesDataset(16, length=3, sampler={"name": "trajectory", "kernel_size": 7})
        >>> item = data[2]
        >>> len(data), item["blurry"].shape, item["sharp"].shape, item["name"]
        (3, torch.Size([3, 16, 16]), torch.Size([3, 16, 16]), 'dead_leaves_2')
    """

    def __init__(
        self,
        crop_size: int = 256,
        *,
        length: int = 1000,
        sampler: Any = None,
        noise_std: float | Sequence[float] = (0.0, 0.01),
        jitter: Mapping[str, float] | None = None,
        linear_light: bool = True,
        seed: int = 0,
        return_kernel: bool = False,
        radius_min: float = 1.0,
        radius_max: float | None = None,
        alpha: float = 3.0,
        shapes: Sequence[str] | str = ("disc",),
        texture: str = "gradient",
        texture_strength: float = 0.15,
        colours: str = "uniform",
        supersample: int = 2,
    ) -> None:
        self.synthesizer = PairSynthesizer(
            crop_size,
            sampler=sampler,
            noise_std=noise_std,
            jitter=jitter,
            linear_light=linear_light,
            return_kernel=return_kernel,
        )
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"length must be a positive integer, got {length!r}")
        self.length = length
        self.seed = int(seed)
        self.leaf_options: dict[str, Any] = {
            "radius_min": radius_min,
            "radius_max": radius_max,
            "alpha": alpha,
            "shapes": tuple(shapes) if not isinstance(shapes, str) else (shapes,),
            "texture": texture,
            "texture_strength": texture_strength,
            "colours": colours,
            "supersample": supersample,
        }
        # Validate every option now rather than in a DataLoader worker.
        check_options(
            radius_min,
            float(self.synthesizer.window) if radius_max is None else radius_max,
            alpha,
            shapes,
            texture,
            texture_strength,
            colours,
            supersample,
        )
        logger.info(
            "DeadLeavesDataset: %d items, crop %d, sampler %r, leaves %r",
            self.length,
            self.crop_size,
            self.sampler,
            self.leaf_options,
        )

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for a dataset of {self.length} items")
        index %= self.length
        generator = item_generator(self.seed, index)
        window = dead_leaves_image(
            self.synthesizer.window, generator=generator, **self.leaf_options
        )
        return self.synthesizer(window, generator=generator, name=f"dead_leaves_{index}")
