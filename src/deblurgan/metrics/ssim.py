"""Structural similarity (Wang, Bovik, Sheikh and Simoncelli, 2004) with a Gaussian window.

Deblurring papers compute "SSIM" in several incompatible ways, and the differences (MATLAB's
is said to run about 0.01 above Python's on GoPro) are as large as the gains they report.
:func:`ssim` covers the Gaussian-window ones:

- ``border="valid"`` (default): Wang's reference ``ssim_index.m`` and
  ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False)``: only windows that lie inside the image are scored.
- ``border="replicate"``: MATLAB's Image Processing Toolbox ``ssim``: Gaussian filtering with
  ``imgaussfilt(X, 1.5, 'FilterSize', 2*ceil(3*1.5)+1 = 11, 'Padding', 'replicate')``, a map the
  size of the image, averaged over every pixel; exponents ``[1 1 1]``, ``C3 = C2 / 2``,
  ``DynamicRange`` 255 for uint8 (1 for double).
- ``channel="volume"`` with ``border="replicate"``: MATLAB's ``ssim`` on an H x W x 3 RGB
  array, which it treats as a 3-D volume (``imgaussfilt3``: the colour axis is a third spatial
  axis of the Gaussian, replicate-padded). This is what ``ssim(input, gt)`` on 8-bit RGB files
  computes in the GoPro/HIDE evaluation scripts of MPRNet and Restormer
  (``evaluate_GOPRO_HIDE.m``) and the many scripts copied from them.
- ``channel="y"``: the luma of MATLAB's ``rgb2ycbcr`` (BT.601, Y in [16, 235]) with ``L = 255``,
  as super-resolution and some deblurring papers report it; with ``border="replicate"`` it is
  MATLAB's ``ssim`` on that Y plane.

DeblurGAN-v2's own validation used ``skimage.measure.compare_ssim(..., multichannel=True)``
with its defaults (a 7 x 7 uniform window, sample covariance), which is not covered here.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.metrics._checks import check_choice, check_pair, check_positive, compute_dtype
from deblurgan.metrics._color import ycbcr_luma

__all__ = ["SSIMBorder", "SSIMChannel", "gaussian_filter", "gaussian_window", "ssim", "ssim_maps"]

SSIMChannel = Literal["rgb", "y", "volume"]
SSIMBorder = Literal["valid", "replicate"]

_CHANNELS: tuple[str, ...] = ("rgb", "y", "volume")
_BORDERS: tuple[str, ...] = ("valid", "replicate")

_K1 = 0.01
_K2 = 0.03


def gaussian_window(
    window: int, sigma: float, *, dtype: torch.dtype, device: torch.device
) -> Tensor:
    """The normalised 1-D Gaussian of ``window`` taps (odd) and standard deviation ``sigma``.

    Example:
        >>> w = gaussian_window(5, 1.0, dtype=torch.float64, device=torch.device("cpu"))
        >>> round(float(w.sum()), 6), bool(w[2] == w.max())
        (1.0, True)
    """
    x = torch.arange(window, dtype=dtype, device=device) - (window - 1) / 2
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


def gaussian_filter(maps: Tensor, g: Tensor, *, border: str = "valid") -> Tensor:
    """Filter each channel of ``maps`` with the separable 2-D Gaussian ``g x g``.

    ``border="valid"`` keeps only outputs whose window lies inside (``H - w + 1`` rows);
    ``"replicate"`` pads by repeating the edge pixels first and keeps the size.

    Shape:
        - maps: :math:`(N, K, H, W)`; g: :math:`(w,)`
        - output: :math:`(N, K, H', W')`

    Example:
        >>> g = gaussian_window(5, 1.0, dtype=torch.float32, device=torch.device("cpu"))
        >>> ones = torch.ones(1, 2, 8, 9)
        >>> gaussian_filter(ones, g).shape, gaussian_filter(ones, g, border="replicate").shape
        (torch.Size([1, 2, 4, 5]), torch.Size([1, 2, 8, 9]))
    """
    taps = g.numel()
    if border == "replicate":
        r = (taps - 1) // 2
        maps = F.pad(maps, (r, r, r, r), mode="replicate")
    groups = maps.shape[1]
    maps = F.conv2d(maps, g.view(1, 1, taps, 1).expand(groups, 1, taps, 1), groups=groups)
    return F.conv2d(maps, g.view(1, 1, 1, taps).expand(groups, 1, 1, taps), groups=groups)


def _gaussian_filter_volume(maps: Tensor, g: Tensor) -> Tensor:
    """Separable 3-D Gaussian over (D, H, W) with replicate padding and 'same' size.

    Shape:
        - maps: :math:`(N, K, D, H, W)`; output: same
    """
    n, k, depth, height, width = maps.shape
    # Replicate padding commutes with filtering along the other axes, so the costly (H, W)
    # pass runs on the D planes alone; the short D axis is then one (D, D) matrix whose rows
    # hold the taps folded onto the clamped (edge-replicated) indices.
    maps = gaussian_filter(maps.reshape(n, k * depth, height, width), g, border="replicate")
    maps = maps.reshape(n, k, depth, height, width)
    taps = g.numel()
    offsets = torch.arange(taps, device=maps.device) - (taps - 1) // 2
    columns = (torch.arange(depth, device=maps.device)[:, None] + offsets).clamp(0, depth - 1)
    mixing = torch.zeros(depth, depth, dtype=maps.dtype, device=maps.device)
    mixing.scatter_add_(1, columns, g.expand(depth, taps))
    return torch.einsum("od,nkdhw->nkohw", mixing, maps)


def ssim_maps(
    x: Tensor,
    y: Tensor,
    g: Tensor,
    *,
    data_range: float,
    border: str = "valid",
    volume: bool = False,
) -> tuple[Tensor, Tensor]:
    """The SSIM map and the contrast-structure map ``cs`` (SSIM without luminance).

    ``cs = (2 cov + C2) / (var_x + var_y + C2)``, as in Wang's ``ssim_index_new.m`` of MS-SSIM.

    Args:
        x: one batch, in the compute dtype.
        y: the other batch, same shape.
        g: the 1-D window (:func:`gaussian_window`).
        data_range: the span of pixel values, for the constants.
        border: as in :func:`ssim`.
        volume: filter across channels too (MATLAB's 3-D ``ssim``; replicate padding).

    Shape:
        - x, y: :math:`(B, C, H, W)`
        - outputs: :math:`(B, C, H', W')` each

    Example:
        >>> g = gaussian_window(3, 1.0, dtype=torch.float32, device=torch.device("cpu"))
        >>> x = torch.rand(1, 1, 6, 6, generator=torch.Generator().manual_seed(0))
        >>> full, cs = ssim_maps(x, x, g, data_range=1.0)
        >>> full.shape, bool((full == 1).all() and (cs == 1).all())
        (torch.Size([1, 1, 4, 4]), True)
    """
    channels = x.shape[1]
    if volume:
        maps = torch.stack([x, y, x * x, y * y, x * y], dim=1)  # (B, 5, C, H, W)
        mu_x, mu_y, e_xx, e_yy, e_xy = _gaussian_filter_volume(maps, g).unbind(dim=1)
    else:
        # One depthwise pass over the five maps whose local averages SSIM needs.
        maps = torch.cat([x, y, x * x, y * y, x * y], dim=1)  # (B, 5C, H, W)
        mu_x, mu_y, e_xx, e_yy, e_xy = gaussian_filter(maps, g, border=border).split(
            channels, dim=1
        )  # each (B, C, H', W')

    var_x = e_xx - mu_x * mu_x
    var_y = e_yy - mu_y * mu_y
    cov_xy = e_xy - mu_x * mu_y
    c1 = (_K1 * data_range) ** 2
    c2 = (_K2 * data_range) ** 2
    cs = (2 * cov_xy + c2) / (var_x + var_y + c2)
    luminance = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    return luminance * cs, cs


def ssim(
    restored: Tensor,
    sharp: Tensor,
    *,
    data_range: float = 1.0,
    window: int = 11,
    sigma: float = 1.5,
    channel: SSIMChannel = "rgb",
    border: SSIMBorder = "valid",
    round_y: bool = False,
) -> Tensor:
    """Mean SSIM of each image of a batch, averaged over channels.

    Local means, variances and the covariance are Gaussian-weighted averages over a
    ``window`` x ``window`` neighbourhood (population statistics, no ``N / (N - 1)`` factor).
    Constants are ``C1 = (0.01 L)^2`` and ``C2 = (0.03 L)^2`` with ``L = data_range``. The
    defaults score only windows that lie fully inside the image ('valid' filtering), which
    matches ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)``: scikit-image filters the whole image and then crops the
    border of half a window. See the module docstring for the MATLAB conventions.

    Args:
        restored: the images to score.
        sharp: the reference images, same shape.
        data_range: the span of pixel values (1 for images in [0, 1]).
        window: the side of the Gaussian window, odd; with ``border="valid"`` the images must
            be at least this large.
        sigma: the standard deviation of the Gaussian window, in pixels.
        channel: ``"rgb"`` scores each channel on its own and averages (any channel count);
            ``"y"`` scores the BT.601 luma of MATLAB's ``rgb2ycbcr`` (3 channels; the
            constants use ``L = 255`` on Y's [16, 235] scale, so the score does not depend on
            ``data_range`` beyond the input scaling); ``"volume"`` filters across channels
            too, as MATLAB's ``ssim`` does with an RGB array (needs ``border="replicate"``).
        border: ``"valid"`` (Wang's ``ssim_index.m``, scikit-image) or ``"replicate"``
            (MATLAB's ``ssim``: edge-replicated padding, a map the size of the image).
        round_y: with ``channel="y"``, round Y to integers on its 8-bit scale, as
            ``rgb2ycbcr`` does for uint8 input: MATLAB's result on 8-bit image files when the
            inputs are multiples of ``data_range / 255`` (up to Y values that sit exactly on
            a half, which floating-point order rounds either way, in MATLAB too: about 1e-5).
            It moves SSIM by about 1e-3 and stops gradients.

    Returns:
        One SSIM per image in [-1, 1], float32 (float64 for float64 inputs).

    Shape:
        - restored, sharp: :math:`(B, C, H, W)`; ``H, W >= window`` when ``border="valid"``;
          ``C = 3`` for ``channel="y"``
        - output: :math:`(B,)`

    Example:
        >>> sharp = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> ssim(sharp, sharp)
        tensor([1., 1.])
        >>> bool((ssim(sharp * 0.5, sharp) < 1).all())
        True
        >>> matlab_rgb = ssim(sharp * 0.5, sharp, channel="volume", border="replicate")
        >>> matlab_y = ssim(sharp * 0.5, sharp, channel="y", border="replicate")
        >>> matlab_rgb.shape, matlab_y.shape
        (torch.Size([2]), torch.Size([2]))
    """
    check_pair(restored, sharp, name="ssim")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1 or window % 2 == 0:
        raise ValueError(f"ssim: window must be an odd positive integer, got {window!r}")
    sigma = check_positive(sigma, name="ssim", label="sigma")
    data_range = check_positive(data_range, name="ssim", label="data_range")
    check_choice(channel, _CHANNELS, name="ssim", label="channel")
    check_choice(border, _BORDERS, name="ssim", label="border")
    if channel == "y" and restored.shape[1] != 3:
        raise ValueError(
            f"ssim: channel='y' needs RGB images (3 channels), got {restored.shape[1]} channels"
        )
    if not isinstance(round_y, bool):
        raise TypeError(f"ssim: round_y must be a bool, got {type(round_y).__name__}")
    if round_y and channel != "y":
        raise ValueError(f"ssim: round_y=True needs channel='y', got channel={channel!r}")
    if channel == "volume" and border != "replicate":
        raise ValueError(
            "ssim: channel='volume' filters across the colour axis and needs "
            f"border='replicate', got border={border!r}"
        )
    height, width = restored.shape[-2:]
    if border == "valid" and (height < window or width < window):
        raise ValueError(
            f"ssim: images of {height}x{width} pixels are smaller than the {window}x{window} window"
        )

    dtype = compute_dtype(restored)
    x = restored.to(dtype)
    y = sharp.to(dtype)
    if channel == "y":
        x = ycbcr_luma(x, data_range) * (255.0 / data_range)  # (B, 1, H, W), Y in [16, 235]
        y = ycbcr_luma(y, data_range) * (255.0 / data_range)
        if round_y:  # MATLAB rounds halves away from zero; Y > 0
            x, y = torch.floor(x + 0.5), torch.floor(y + 0.5)
        data_range = 255.0
    g = gaussian_window(window, sigma, dtype=dtype, device=x.device)
    ssim_map, _ = ssim_maps(
        x, y, g, data_range=data_range, border=border, volume=channel == "volume"
    )
    return ssim_map.flatten(1).mean(dim=1)
