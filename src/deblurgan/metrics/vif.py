"""Visual information fidelity in the pixel domain, VIFp (Sheikh and Bovik, IEEE TIP 2006).

A port of LIVE's ``vifp_mscale.m``: four scales; at scale ``s`` (1..4) a Gaussian window of
``N = 2^(4-s+1) + 1`` taps (17, 9, 5, 3) and standard deviation ``N / 5``; before scales 2..4
both images are filtered with that scale's window ('valid') and subsampled by 2; local
statistics are 'valid' Gaussian averages; the visual noise variance is ``sigma_nsq = 2``.
The constants assume pixel values on the [0, 255] scale (``sigma_nsq`` is absolute), so the
images are rescaled to it here; a [0, 1] image fed unscaled to ``vifp_mscale.m`` (or to
torchmetrics' ``visual_information_fidelity``) gives a different, wrong number.
"""

from __future__ import annotations

import torch
from torch import Tensor

from deblurgan.metrics._checks import check_pair, check_positive, compute_dtype
from deblurgan.metrics._color import grey
from deblurgan.metrics.ssim import gaussian_filter, gaussian_window

__all__ = ["VIF_MIN_SIZE", "vif"]

_SCALES = 4
_TINY = 1e-10  # vifp_mscale.m's threshold for "zero" variances

#: The smallest side for which every scale keeps at least one full window (as torchmetrics).
VIF_MIN_SIZE = 41


def _window_taps(scale: int) -> int:
    """``N = 2^(4 - scale + 1) + 1`` for ``scale`` = 1..4: 17, 9, 5, 3."""
    return 2 ** (_SCALES - scale + 1) + 1


def vif(
    restored: Tensor,
    sharp: Tensor,
    *,
    data_range: float = 1.0,
    sigma_n_sq: float = 2.0,
) -> Tensor:
    """VIFp of each restored image against its sharp reference (not symmetric).

    RGB images are scored on their BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` (the grey
    image ``vifp_mscale.m`` expects); grey images on their one channel. Identical images score
    1; a blurred or noisy image scores less; contrast enhancement can score above 1.

    Args:
        restored: the distorted images (``dist`` in ``vifp_mscale.m``).
        sharp: the reference images (``ref``), same shape.
        data_range: the span of pixel values (1 for images in [0, 1]); the images are
            rescaled to [0, 255] before scoring.
        sigma_n_sq: the visual noise variance, on the [0, 255] scale.

    Returns:
        One VIFp per image, >= 0, float32 (float64 for float64 inputs).

    Shape:
        - restored, sharp: :math:`(B, C, H, W)`, ``C`` 1 or 3, ``H, W >= 41``
        - output: :math:`(B,)`

    Example:
        >>> sharp = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(0))
        >>> vif(sharp, sharp)
        tensor([1., 1.])
        >>> bool((vif(0.5 * sharp + 0.25, sharp) < 1).all())
        True
    """
    check_pair(restored, sharp, name="vif", channels=(1, 3))
    height, width = restored.shape[-2:]
    if height < VIF_MIN_SIZE or width < VIF_MIN_SIZE:
        raise ValueError(
            f"vif: its 4 scales need images of at least {VIF_MIN_SIZE}x{VIF_MIN_SIZE} pixels, "
            f"got {height}x{width}"
        )
    data_range = check_positive(data_range, name="vif", label="data_range")
    sigma_n_sq = check_positive(sigma_n_sq, name="vif", label="sigma_n_sq")
    dtype = compute_dtype(restored)
    scale_to_255 = 255.0 / data_range
    dist = grey(restored.to(dtype)) * scale_to_255  # (B, 1, H, W)
    ref = grey(sharp.to(dtype)) * scale_to_255
    # VIF uses only local (co)variances, which no constant shift changes; centring each image
    # keeps E[x^2] - E[x]^2 accurate in float32 on the [0, 255] scale.
    dist = dist - dist.mean(dim=(1, 2, 3), keepdim=True)
    ref = ref - ref.mean(dim=(1, 2, 3), keepdim=True)

    num = torch.zeros(ref.shape[0], dtype=dtype, device=ref.device)
    den = torch.zeros_like(num)
    for scale in range(1, _SCALES + 1):
        taps = _window_taps(scale)
        g = gaussian_window(taps, taps / 5, dtype=dtype, device=ref.device)
        if scale > 1:
            pair = gaussian_filter(torch.cat([ref, dist], dim=1), g)[..., ::2, ::2]
            ref, dist = pair[:, :1], pair[:, 1:]
        maps = torch.cat([ref, dist, ref * ref, dist * dist, ref * dist], dim=1)
        mu1, mu2, e11, e22, e12 = gaussian_filter(maps, g).unbind(dim=1)  # (B, h, w) each
        sigma1_sq = (e11 - mu1 * mu1).clamp_min(0)
        sigma2_sq = (e22 - mu2 * mu2).clamp_min(0)
        sigma12 = e12 - mu1 * mu2

        # vifp_mscale.m's special cases, in its order.
        g_gain = sigma12 / (sigma1_sq + _TINY)
        sv_sq = sigma2_sq - g_gain * sigma12
        flat_ref = sigma1_sq < _TINY
        g_gain = torch.where(flat_ref, torch.zeros_like(g_gain), g_gain)
        sv_sq = torch.where(flat_ref, sigma2_sq, sv_sq)
        sigma1_sq = torch.where(flat_ref, torch.zeros_like(sigma1_sq), sigma1_sq)
        flat_dist = sigma2_sq < _TINY
        g_gain = torch.where(flat_dist, torch.zeros_like(g_gain), g_gain)
        sv_sq = torch.where(flat_dist, torch.zeros_like(sv_sq), sv_sq)
        negative = g_gain < 0
        sv_sq = torch.where(negative, sigma2_sq, sv_sq)
        g_gain = torch.where(negative, torch.zeros_like(g_gain), g_gain)
        sv_sq = sv_sq.clamp_min(_TINY)

        num = num + torch.log10(1 + g_gain**2 * sigma1_sq / (sv_sq + sigma_n_sq)).sum(dim=(1, 2))
        den = den + torch.log10(1 + sigma1_sq / sigma_n_sq).sum(dim=(1, 2))
    # A flat reference carries no information (0 / 0 in the original); score it 1, like FSIM.
    featureless = den == 0
    safe = torch.where(featureless, torch.ones_like(den), den)
    return torch.where(featureless, torch.ones_like(num), num / safe)
