"""Fine detail lost and added, block by block: does a restoration smooth, or invent texture?

PSNR and SSIM average over the image, so a restoration that sharpens the strong edges and
smooths the fine texture around them can still gain; and a model's output on a real blurred
photo with no sharp partner can only be compared with the input or with another model's output.
These two measures look at fine detail locally, against any reference (the sharp image, the
blurry input, or a proxy such as MAXIM-3S's output):

- the *fine detail* of an image is the energy of its luma minus the luma blurred by a Gaussian of
  ``sigma`` px (1 px: the finest scale, texture of one or two pixels), averaged over blocks of
  ``block`` px (16);
- ``detail_lost``: the share of the reference's textured blocks (fine detail above ``floor``, the
  energy of a 2/255 ripple) where the restored image keeps less than ``1 / ratio`` (half) of it:
  smoothing. Against the sharp image it measures over-smoothing; against the blurry input it
  measures what a model removes that the input had (a deblurring model should remove almost
  nothing: MAXIM-3S loses 0.1 % of the input's blocks of 128 real blurred photos at 640 px);
- ``detail_added``: the share of blocks textured in either image where the restored image has
  more than ``ratio`` (twice) the reference's fine detail: sharpening against the blurry input,
  invented texture, ringing or noise against the sharp image.

The high-pass energy ratio is the blur measure of Crete et al. (2007, "The blur effect:
perception and estimation with a new no-reference perceptual blur metric", SPIE 6492), taken per
block rather than over the image, with the thresholds above. These are not published metrics:
their figures compare methods measured in the same run, not papers.
"""

from __future__ import annotations

import math

import torch  # noqa: F401  (doctests)
import torch.nn.functional as F
from torch import Tensor

from deblurgan.metrics._checks import check_pair
from deblurgan.metrics._color import grey
from deblurgan.metrics.ssim import gaussian_filter, gaussian_window

__all__ = ["DETAIL_BLOCK", "detail_added", "detail_lost", "fine_detail"]

#: The side of the blocks detail is compared over, and so the smallest image scored.
DETAIL_BLOCK = 16
#: Fine detail below this energy is flat (a 2/255 ripple's): neither lost nor added there.
DETAIL_FLOOR = (2.0 / 255.0) ** 2


def fine_detail(image: Tensor, *, sigma: float = 1.0, block: int = DETAIL_BLOCK) -> Tensor:
    """The fine detail of each block: mean squared luma minus its Gaussian blur.

    Shape:
        - image: :math:`(B, C, H, W)` in [0, 1], C 1 or 3
        - output: :math:`(B, 1, \\lfloor H / block \\rfloor, \\lfloor W / block \\rfloor)`

    Example:
        >>> flat = torch.full((1, 3, 32, 32), 0.5)
        >>> fine_detail(flat).shape, float(fine_detail(flat).max()) < 1e-20
        (torch.Size([1, 1, 2, 2]), True)
        >>> stripes = torch.zeros(1, 1, 32, 32); stripes[..., ::2] = 1.0
        >>> bool((fine_detail(stripes) > 0.1).all())
        True
    """
    luma = grey(image.double())
    taps = 2 * math.ceil(3 * sigma) + 1
    window = gaussian_window(taps, sigma, dtype=luma.dtype, device=luma.device)
    high = luma - gaussian_filter(luma, window, border="replicate")
    return F.avg_pool2d(high * high, block).to(image.dtype)


def _blocks(
    restored: Tensor, reference: Tensor, name: str, ratio: float, floor: float
) -> tuple[Tensor, Tensor]:
    check_pair(restored, reference, name=name, channels=(1, 3), min_size=DETAIL_BLOCK)
    if not (math.isfinite(ratio) and ratio >= 1.0) or not (math.isfinite(floor) and floor >= 0):
        raise ValueError(f"{name}: ratio must be >= 1 and floor >= 0, got {ratio} and {floor}")
    return fine_detail(restored).flatten(1), fine_detail(reference).flatten(1)


def detail_lost(
    restored: Tensor, reference: Tensor, *, ratio: float = 2.0, floor: float = DETAIL_FLOOR
) -> Tensor:
    """The share of the reference's textured blocks where ``restored`` keeps under 1/ratio.

    0 when the reference has no textured block. Lower is better.

    Shape:
        - restored, reference: :math:`(B, C, H, W)` in [0, 1]
        - output: :math:`(B,)` in [0, 1]

    Example:
        >>> texture = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> smooth = torch.full_like(texture, 0.5)
        >>> detail_lost(smooth, texture), detail_lost(texture, texture)
        (tensor([1.]), tensor([0.]))
    """
    mine, theirs = _blocks(restored, reference, "detail_lost", ratio, floor)
    textured = theirs > floor
    lost = textured & (mine * ratio < theirs)
    return (lost.sum(1) / textured.sum(1).clamp(min=1)).to(restored.dtype)


def detail_added(
    restored: Tensor, reference: Tensor, *, ratio: float = 2.0, floor: float = DETAIL_FLOOR
) -> Tensor:
    """The share of blocks textured in either image where ``restored`` has over ratio x.

    0 when neither image has a textured block. Lower is better against a sharp reference;
    against the blurry input it is the share of blocks sharpened.

    Shape:
        - restored, reference: :math:`(B, C, H, W)` in [0, 1]
        - output: :math:`(B,)` in [0, 1]

    Example:
        >>> texture = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> smooth = torch.full_like(texture, 0.5)
        >>> detail_added(texture, smooth), detail_added(smooth, texture)
        (tensor([1.]), tensor([0.]))
    """
    mine, theirs = _blocks(restored, reference, "detail_added", ratio, floor)
    either = (mine > floor) | (theirs > floor)
    added = either & (mine > ratio * theirs)
    return (added.sum(1) / either.sum(1).clamp(min=1)).to(restored.dtype)
