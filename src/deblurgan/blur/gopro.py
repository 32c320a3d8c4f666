"""GoPro-style non-uniform blur from one sharp photo: sub-frames along a random camera path.

The GoPro dataset (Nah et al., 2017, "Deep multi-scale convolutional neural network for dynamic
scene deblurring") averages consecutive high-speed video frames. From a single photo we imitate
it: a smooth random camera path (translation, in-plane rotation, zoom) gives ``N`` sub-frames,
each the photo warped by one pose (bilinear :func:`torch.nn.functional.grid_sample`), and their
average in linear light is the blurry image. Rotation and zoom make the blur vary over the image,
unlike a convolution. The middle sub-frame is the identity pose and the sharp target; by default
the path is point-symmetric about it, so the middle pose is also the mean pose and the blur is
centred on the sharp target (to first order in rotation and zoom; exactly for translation).
Sub-frames are cut from inside the photo (a margin wide enough for the largest motion), so no
border ever shows. Optionally, objects (elliptical cut-outs of the photo) move across the scene
along their own straight paths.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from deblurgan.blur.camera_path import (
    GoProSample,
    _draw_camera_path,
    _frame_times,
    _render,
    _step_lengths,
    adaptive_frame_times,
    random_camera_path,
    render_camera_path,
)
from deblurgan.blur.checks import as_batch, check_generator, check_range
from deblurgan.blur.degrade import Gamma, parse_gamma
from deblurgan.blur.frames import FrameCount, draw_odd, odd_counts
from deblurgan.blur.trajectory import _uniform

__all__ = [
    "GoProBlurSynthesizer",
    "GoProSample",
    "adaptive_frame_times",
    "random_camera_path",
    "render_camera_path",
    "synthesize_gopro_blur",
]

Range = float | tuple[float, float]


def _count_range(name: str, value: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        lo = hi = value
    elif (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        lo, hi = int(value[0]), int(value[1])
    else:
        raise ValueError(f"{name} must be an integer or a (low, high) pair of them, got {value!r}")
    if not 0 <= lo <= hi:
        raise ValueError(f"{name} must satisfy 0 <= low <= high, got {value!r}")
    return lo, hi


class GoProBlurSynthesizer:
    """Settings of GoPro-style blur synthesis; call it on photos to get blurry/sharp pairs.

    Args:
        num_frames: sub-frames per image, an odd count or a range of them (GoPro: 7 to 13),
            drawn once per call; or ``"auto"``: per call, sub-frames placed so that
            consecutive copies of any edge are at most ``max_step`` pixels apart and weighted
            by the exposure time each stands for (see :func:`adaptive_frame_times`), so streaks
            are smooth whatever their length. A GoPro
            frame averages 7 to 13 frames of a 240 fps camera, whose copies of a fast edge are
            several pixels apart: ghost edges that real photos, integrated over a continuous
            exposure, do not have.
        translation: largest shift of a sub-frame from the sharp one, pixels (number or range).
        rotation: largest in-plane rotation from the sharp one, degrees.
        zoom: largest relative change of scale (0.02: 2%).
        centred: point-symmetric camera paths, so the blur is centred on the sharp target; with
            ``False`` paths may also bend to one side (the middle frame is still sharp).
        moving_objects: how many objects move over the scene (number or range, drawn per call).
        object_size: object semi-axes as fractions of half the output's shorter side.
        object_speed: distance an object travels from the middle to the last sub-frame, pixels.
        gamma: averaging curve: ``"srgb"`` (linear light, default), 2.2 (GoPro's
            ``blur_gamma``) or ``None``.
        margin: pixels cut from each side; ``None`` (default) computes the smallest margin that
            keeps every sub-frame inside the photo for the largest motion the settings allow.
        max_step: ``"auto"``: the largest distance between consecutive sub-frames, pixels.
        max_frames: ``"auto"``: the most sub-frames of one image (odd); longer streaks get
            copies further apart than ``max_step``.
        clip: clip the average to [0, 1] (see :func:`render_camera_path`).

    Example:
        >>> synth = GoProBlurSynthesizer(num_frames=5, translation=3.0, rotation=0.5, zoom=0.0)
        >>> pair = synth(torch.rand(1, 3, 40, 48), generator=torch.Generator().manual_seed(0))
        >>> pair.blurry.shape == pair.sharp.shape, synth.margin_for(40, 48)
        (True, 4)
    """

    def __init__(
        self,
        num_frames: FrameCount | str = (7, 13),
        *,
        translation: Range = (2.0, 16.0),
        rotation: Range = (0.0, 1.0),
        zoom: Range = (0.0, 0.02),
        centred: bool = True,
        moving_objects: int | tuple[int, int] = 0,
        object_size: Range = (0.1, 0.3),
        object_speed: Range = (4.0, 24.0),
        gamma: Gamma = "srgb",
        margin: int | None = None,
        max_step: float = 1.0,
        max_frames: int = 301,
        clip: bool = True,
    ) -> None:
        self.adaptive = isinstance(num_frames, str)
        if self.adaptive and num_frames != "auto":
            raise ValueError(
                f"num_frames must be an odd count, a range or 'auto', got {num_frames!r}"
            )
        self.num_frames = (1,) if self.adaptive else odd_counts(num_frames)  # type: ignore[arg-type]
        if not (isinstance(max_step, int | float) and 0 < max_step < math.inf):
            raise ValueError(f"max_step must be a positive number of pixels, got {max_step!r}")
        if not isinstance(max_frames, int) or max_frames < 1 or max_frames % 2 == 0:
            raise ValueError(f"max_frames must be a positive odd integer, got {max_frames!r}")
        self.max_step = float(max_step)
        self.max_frames = max_frames
        self.clip = bool(clip)
        self.translation = check_range("translation", translation, low=0.0, high=math.inf)
        self.rotation = check_range("rotation", rotation, low=0.0, high=45.0)
        self.zoom = check_range("zoom", zoom, low=0.0, high=1.0)
        self.centred = bool(centred)
        self.moving_objects = _count_range("moving_objects", moving_objects)
        self.object_size = check_range("object_size", object_size, low=0.0, high=1.0)
        self.object_speed = check_range("object_speed", object_speed, low=0.0, high=math.inf)
        self.gamma = parse_gamma(gamma)
        if margin is not None and (
            not isinstance(margin, int) or isinstance(margin, bool) or margin < 0
        ):
            raise ValueError(f"margin must be a non-negative integer or None, got {margin!r}")
        self.margin = margin

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_frames={'auto' if self.adaptive else self.num_frames}, "
            f"translation={self.translation}, "
            f"rotation={self.rotation}, zoom={self.zoom}, moving_objects={self.moving_objects}, "
            f"gamma={self.gamma!r})"
        )

    def margin_for(self, height: int, width: int) -> int:
        """The margin used for a ``height x width`` photo.

        A point at distance ``r`` from the centre moves by at most
        ``translation + r (zoom + (1 + zoom) rotation)`` (rotation in radians); ``r`` is bounded
        by the photo's half-diagonal.
        """
        if self.margin is not None:
            return self.margin
        radius = 0.5 * math.hypot(width - 1, height - 1)
        z = self.zoom[1]
        reach = self.translation[1] + radius * (z + (1 + z) * math.radians(self.rotation[1]))
        return math.ceil(reach - 1e-9)

    def __call__(self, sharp: Tensor, *, generator: torch.Generator) -> GoProSample:
        """Synthesise blurry/sharp pairs from photos.

        Args:
            sharp: photos ``(B, 3, H, W)`` or ``(3, H, W)`` in [0, 1].
            generator: the only source of randomness (CPU); the same seed gives the same pair.

        Returns:
            A :class:`GoProSample`; images are ``(B, 3, H - 2 m, W - 2 m)`` with ``m`` from
            :meth:`margin_for` (no batch dimension if ``sharp`` had none; the params always
            have one). With ``num_frames="auto"`` the params add the sub-frame ``times`` and
            ``weights`` (see :func:`adaptive_frame_times`), ``max_step`` (a bound on the
            largest distance between consecutive copies of any output pixel) and
            ``longest_streak`` (a bound on the longest path one travels), both in pixels.
        """
        check_generator(generator)
        images, squeeze = as_batch(sharp)
        b, _, height, width = images.shape
        margin = self.margin_for(height, width)
        if 2 * margin >= min(height, width):
            raise ValueError(
                f"a {width}x{height} photo is too small for this motion: it needs a margin of "
                f"{margin} px on each side; use a larger photo or less translation/rotation/zoom"
            )
        if self.adaptive:
            return self._adaptive(images, margin, squeeze, generator)
        n = draw_odd(self.num_frames, generator)
        lo, hi = self.moving_objects
        m = lo if lo == hi else int(torch.randint(lo, hi + 1, (1,), generator=generator))
        path = random_camera_path(
            b,
            n,
            translation=self.translation,
            rotation=self.rotation,
            zoom=self.zoom,
            centred=self.centred,
            generator=generator,
        )
        objects = self._random_objects(b, m, height, width, margin, generator) if m else None
        blurry, target = _render(
            images,
            path["translation"],
            path["rotation"],
            path["zoom"],
            margin=margin,
            gamma=self.gamma,
            objects=objects,
            clip=self.clip,
        )
        return self._sample(blurry, target, path, n, margin, objects, squeeze)

    def _adaptive(
        self, images: Tensor, margin: int, squeeze: bool, generator: torch.Generator
    ) -> GoProSample:
        """Draw the motion first, then render as many sub-frames as smooth streaks need."""
        b, _, height, width = images.shape
        lo, hi = self.moving_objects
        m = lo if lo == hi else int(torch.randint(lo, hi + 1, (1,), generator=generator))
        drawn = _draw_camera_path(
            b, self.translation, self.rotation, self.zoom, centred=self.centred, generator=generator
        )
        objects = self._random_objects(b, m, height, width, margin, generator) if m else None
        dense = _frame_times(1025)

        def poses(times: Tensor) -> dict[str, Tensor]:
            return drawn.at(times, peak_times=dense)

        h, w = height - 2 * margin, width - 2 * margin
        radius = 0.5 * math.hypot(w - 1, h - 1)
        speed = float(objects["velocity"].norm(dim=-1).max()) if objects is not None else 0.0
        times, weights = adaptive_frame_times(
            poses,
            radius=radius,
            object_speed=speed,
            max_step=self.max_step,
            max_frames=self.max_frames,
        )
        n = len(times)
        path = poses(times)
        blurry, target = _render(
            images,
            path["translation"],
            path["rotation"],
            path["zoom"],
            margin=margin,
            gamma=self.gamma,
            objects=objects,
            clip=self.clip,
            precise=False,
            times=times,
            weights=weights,
        )
        sample = self._sample(blurry, target, path, n, margin, objects, squeeze)
        steps = (
            torch.maximum(_step_lengths(path, radius), speed * times.diff())
            if n > 1
            else torch.zeros(b, 1)
        )
        sample.params["times"] = times.float().expand(b, n)
        sample.params["weights"] = weights.float().expand(b, n)
        sample.params["max_step"] = steps.amax(dim=1).float()
        sample.params["longest_streak"] = steps.sum(dim=1).float()
        return sample

    def _sample(
        self,
        blurry: Tensor,
        target: Tensor,
        path: dict[str, Tensor],
        n: int,
        margin: int,
        objects: dict[str, Tensor] | None,
        squeeze: bool,
    ) -> GoProSample:
        b = blurry.shape[0]
        params = {key: value.float() for key, value in path.items()}
        params["num_frames"] = torch.full((b,), n, dtype=torch.int64)
        params["margin"] = torch.full((b,), margin, dtype=torch.int64)
        if objects is not None:
            params.update({f"object_{key}": value.float() for key, value in objects.items()})
        if squeeze:
            return GoProSample(blurry[0], target[0], params)
        return GoProSample(blurry, target, params)

    def _random_objects(
        self,
        batch: int,
        count: int,
        height: int,
        width: int,
        margin: int,
        generator: torch.Generator,
    ) -> dict[str, Tensor]:
        h, w = height - 2 * margin, width - 2 * margin
        shape = (batch, count)

        def uniform(bounds: tuple[float, float]) -> Tensor:
            return _uniform(bounds, batch * count, generator).view(shape)

        half = min(h, w) / 2
        radii = torch.stack(
            [uniform(self.object_size) * half, uniform(self.object_size) * half], dim=-1
        )
        angle = uniform((0.0, 180.0))
        center = torch.stack([uniform((0.0, w - 1.0)), uniform((0.0, h - 1.0))], dim=-1)
        speed = uniform(self.object_speed)
        heading = uniform((0.0, 2 * math.pi))
        velocity = torch.stack([speed * heading.cos(), speed * heading.sin()], dim=-1)
        source = torch.stack([uniform((0.0, width - 1.0)), uniform((0.0, height - 1.0))], dim=-1)
        return {
            "center": center,
            "velocity": velocity,
            "radii": radii.clamp_min(0.5),
            "angle": angle,
            "source": source,
        }


def synthesize_gopro_blur(
    sharp: Tensor, *, generator: torch.Generator, **settings: Any
) -> GoProSample:
    """GoPro-style blurry/sharp pairs from sharp photos; see :class:`GoProBlurSynthesizer`.

    Args:
        sharp: photos ``(B, 3, H, W)`` or ``(3, H, W)`` in [0, 1].
        generator: the only source of randomness.
        **settings: :class:`GoProBlurSynthesizer`'s settings (``num_frames``,
            ``translation``, ``rotation``, ``zoom``, ``centred``, ``moving_objects``,
            ``object_size``, ``object_speed``, ``gamma``, ``margin``), with its defaults.

    Returns:
        A :class:`GoProSample` (images cropped by the margin on every side).

    Shape:
        - sharp: ``(B, 3, H, W)``; blurry, sharp target: ``(B, 3, H - 2 m, W - 2 m)``

    Example:
        >>> pair = synthesize_gopro_blur(torch.rand(3, 32, 32), num_frames=3, translation=0.0,
        ...                              rotation=0.0, zoom=0.0,
        ...                              generator=torch.Generator().manual_seed(0))
        >>> bool(torch.allclose(pair.blurry, pair.sharp, atol=1e-5))  # no motion, no blur
        True
    """
    synthesizer = GoProBlurSynthesizer(**settings)
    return synthesizer(sharp, generator=generator)
