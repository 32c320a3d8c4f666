"""Content losses between the restored and the sharp image: L1, MSE, Charbonnier (Charbonnier et
al., 1994; the smooth L1 of LapSRN and MPRNet), the PSNR loss of HINet and NAFNet (Chen et al.,
CVPRW 2021, "HINet: Half Instance Normalization Network for Image Restoration"; ECCV 2022, "Simple
Baselines for Image Restoration"), the FFT loss of MIMO-UNet (Cho et al., ICCV 2021),
1 - SSIM (Wang et al., 2004) and the edge loss of MPRNet (Zamir et al., CVPR 2021).

The feature losses (VGG perceptual, LPIPS) live in :mod:`deblurgan.losses.perceptual`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.losses.registries import CONTENT_LOSSES
from deblurgan.metrics import ssim

__all__ = ["CharbonnierLoss", "EdgeLoss", "FFTLoss", "L1Loss", "MSELoss", "PSNRLoss", "SSIMLoss"]


def _check_pair(restored: Tensor, sharp: Tensor, name: str) -> None:
    if restored.shape != sharp.shape:
        raise ValueError(
            f"{name}: restored and sharp must have the same shape, got "
            f"{tuple(restored.shape)} and {tuple(sharp.shape)}"
        )


@CONTENT_LOSSES.register("l1")
class L1Loss(nn.Module):
    """Mean absolute error over all elements.

    Shape:
        - restored, sharp: :math:`(B, C, H, W)` (any equal shapes)
        - output: scalar

    Example:
        >>> L1Loss()(torch.full((1, 3, 2, 2), 0.5), torch.zeros(1, 3, 2, 2))
        tensor(0.5000)
    """

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "l1")
        return (restored - sharp).abs().mean()


@CONTENT_LOSSES.register("mse")
class MSELoss(nn.Module):
    """Mean squared error over all elements.

    Shape:
        - restored, sharp: :math:`(B, C, H, W)` (any equal shapes)
        - output: scalar

    Example:
        >>> MSELoss()(torch.full((1, 3, 2, 2), 0.5), torch.zeros(1, 3, 2, 2))
        tensor(0.2500)
    """

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "mse")
        return (restored - sharp).square().mean()


@CONTENT_LOSSES.register("psnr")
class PSNRLoss(nn.Module):
    """Negative PSNR per image, averaged over the batch: ``mean_i 10 log10(MSE_i + eps)`` (in dB).

    The benchmarks average PSNR over images, and an image's PSNR is ``-10 log10(MSE)``, so this loss
    is the metric itself: each image's error counts relative to its own MSE. A flat, nearly clean
    crop weighs as much as a textured one, where L1 or MSE over the batch let the large errors of
    textured crops drown it. HINet and NAFNet train with it (there scaled by 10 / ln 10 on the
    natural log, which is the same number). The value is negative (``-PSNR`` with a peak of 1);
    only its gradient matters.

    Args:
        eps: added to each image's MSE, so a perfect image gives ``10 log10(eps)`` and a finite
            gradient (``1e-8``: 80 dB).

    Shape:
        - restored, sharp: :math:`(B, C, H, W)` (any equal shapes with a batch dimension first)
        - output: scalar

    Example:
        >>> restored = torch.full((2, 3, 4, 4), 0.1)
        >>> PSNRLoss()(restored, torch.zeros(2, 3, 4, 4))  # MSE 0.01 in both: -20 dB
        tensor(-20.0000)
    """

    def __init__(self, *, eps: float = 1e-8) -> None:
        super().__init__()
        if not eps > 0:
            raise ValueError(f"psnr: eps must be positive, got {eps}")
        self.eps = float(eps)

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "psnr")
        if restored.ndim < 2:
            raise ValueError(
                f"psnr: needs a batch dimension first, got shape {tuple(restored.shape)}"
            )
        mse = (restored - sharp).square().flatten(1).mean(dim=1)
        return 10 * torch.log10(mse + self.eps).mean()


@CONTENT_LOSSES.register("charbonnier")
class CharbonnierLoss(nn.Module):
    """Charbonnier loss ``mean(sqrt((restored - sharp)^2 + eps^2))``: L1 with a smooth minimum.

    Args:
        eps: the smoothing scale; below it the loss is quadratic, above it linear.

    Shape:
        - restored, sharp: :math:`(B, C, H, W)` (any equal shapes)
        - output: scalar

    Example:
        >>> CharbonnierLoss(eps=0.3)(torch.full((1, 1, 2, 2), 0.4), torch.zeros(1, 1, 2, 2))
        tensor(0.5000)
    """

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
            raise ValueError(f"charbonnier: eps must be a positive finite number, got {eps!r}")
        self.eps = float(eps)

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "charbonnier")
        return torch.sqrt((restored - sharp).square() + self.eps**2).mean()

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


_FFT_NORMS = ("backward", "ortho", "forward")


@CONTENT_LOSSES.register("fft")
class FFTLoss(nn.Module):
    """L1 distance between 2-D Fourier spectra: MIMO-UNet's frequency reconstruction loss.

    ``mean(|Re F(restored) - Re F(sharp)|, |Im F(restored) - Im F(sharp)|)`` over every
    element, where ``F`` is the full (two-sided) 2-D FFT over ``H, W`` of each channel. This is
    MIMO-UNet's ``L1Loss(torch.rfft(x, signal_ndim=2, normalized=False, onesided=False), ...)``
    (chosj95/MIMO-UNet, ``train.py``; its PyTorch >= 1.8 form is ``torch.fft.fft2`` with
    ``torch.stack((f.real, f.imag), -1)``): real and imaginary parts stacked, no normalisation,
    the mean over ``B * C * H * W * 2`` numbers. (Not ``rfft2``: the one-sided spectrum of some
    later works would weigh frequencies differently.) MIMO-UNet weights it 0.1 next to L1 and
    applies both at every output scale (``configs/content/l1_fft.yaml`` with multi-scale outputs).

    Unnormalised (``norm="backward"``), a difference in the image mean adds ``H * W`` times as
    much to the DC coefficient, so the loss grows with the crop size; the paper's weight 0.1 was
    tuned for 256x256 crops. ``norm="ortho"`` divides the spectra by ``sqrt(H * W)``.

    Half-precision inputs are transformed in float32 (FFTs of float16 are limited to
    power-of-two sizes).

    Args:
        norm: ``"backward"`` (none, MIMO-UNet's), ``"ortho"`` or ``"forward"``, as in
            :func:`torch.fft.fft2`.

    Shape:
        - restored, sharp: :math:`(B, C, H, W)`
        - output: scalar

    Example:
        >>> sharp = torch.zeros(1, 1, 2, 2)
        >>> FFTLoss()(sharp + 0.5, sharp)  # only the DC term: 0.5 * 4, in 1 of 8 numbers
        tensor(0.2500)
    """

    def __init__(self, *, norm: str = "backward") -> None:
        super().__init__()
        if norm not in _FFT_NORMS:
            raise ValueError(f"fft: norm must be one of {', '.join(_FFT_NORMS)}, got {norm!r}")
        self.norm = norm

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "fft")
        diff = restored - sharp  # the FFT is linear: transform the difference once
        if diff.dtype in (torch.float16, torch.bfloat16):
            diff = diff.float()
        spectrum = torch.fft.fft2(diff, dim=(-2, -1), norm=self.norm)
        return torch.view_as_real(spectrum).abs().mean()

    def extra_repr(self) -> str:
        return f"norm={self.norm!r}"


@CONTENT_LOSSES.register("ssim")
class SSIMLoss(nn.Module):
    """``1 - SSIM``: one minus the mean structural similarity of the batch (Wang et al., 2004).

    SSIM is :func:`deblurgan.metrics.ssim` (Gaussian window, valid filtering, scikit-image's
    conventions) with ``data_range=1``; the loss is 0 for identical images and at most 2.

    Args:
        window: side of the Gaussian window, odd; images must be at least this large.
        sigma: standard deviation of the window, in pixels.

    Shape:
        - restored, sharp: :math:`(B, C, H, W)` with ``H, W >= window``
        - output: scalar

    Example:
        >>> sharp = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> SSIMLoss()(sharp, sharp)
        tensor(0.)
    """

    def __init__(self, *, window: int = 11, sigma: float = 1.5) -> None:
        super().__init__()
        if isinstance(window, bool) or not isinstance(window, int) or window < 1 or window % 2 == 0:
            raise ValueError(f"ssim: window must be an odd positive integer, got {window!r}")
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"ssim: sigma must be a positive finite number, got {sigma!r}")
        self.window = window
        self.sigma = float(sigma)

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "ssim")
        return 1 - ssim(restored, sharp, window=self.window, sigma=self.sigma).mean()

    def extra_repr(self) -> str:
        return f"window={self.window}, sigma={self.sigma}"


# MPRNet's 5-tap binomial-like smoothing kernel (losses.py, EdgeLoss).
_EDGE_TAPS = (0.05, 0.25, 0.4, 0.25, 0.05)


def _gauss(x: Tensor) -> Tensor:
    """Depthwise 5x5 smoothing with replicate padding (MPRNet's ``conv_gauss``)."""
    taps = torch.tensor(_EDGE_TAPS, dtype=x.dtype, device=x.device)
    kernel = torch.outer(taps, taps).expand(x.shape[1], 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), kernel, groups=x.shape[1])


def laplacian(x: Tensor) -> Tensor:
    """One Laplacian-pyramid band: ``x - smooth(upsample(downsample(smooth(x))))``.

    MPRNet's ``laplacian_kernel``: smooth, keep every second pixel, put it back on a zero grid
    times 4 (zero-insertion upsampling), smooth again, subtract from ``x``. As in MPRNet, the
    replicate padding of the zero-filled grid leaves a response within two pixels of the border
    even for a flat image; inside, a flat image has none.

    Shape:
        - x: :math:`(B, C, H, W)`; output: same shape

    Example:
        >>> band = laplacian(torch.ones(1, 3, 8, 8))
        >>> bool(band[..., 2:-2, 2:-2].abs().max() < 1e-6), bool(band.abs().max() > 0.1)
        (True, True)
    """
    filtered = _gauss(x)
    upsampled = torch.zeros_like(filtered)
    upsampled[:, :, ::2, ::2] = 4 * filtered[:, :, ::2, ::2]
    return x - _gauss(upsampled)


@CONTENT_LOSSES.register("edge")
class EdgeLoss(nn.Module):
    """MPRNet's edge loss: Charbonnier distance between the images' Laplacian bands.

    ``mean(sqrt((lap(restored) - lap(sharp))^2 + eps^2))`` with :func:`laplacian` as MPRNet's
    ``EdgeLoss`` (swz30/MPRNet, ``Deblurring/losses.py``), which weights it 0.05 next to the
    Charbonnier loss (``configs/content/charbonnier_edge.yaml``).

    Args:
        eps: the Charbonnier smoothing scale (MPRNet: 1e-3).

    Shape:
        - restored, sharp: :math:`(B, C, H, W)`
        - output: scalar

    Example:
        >>> sharp = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> EdgeLoss()(sharp, sharp)  # equal images: only eps is left
        tensor(0.0010)
    """

    def __init__(self, *, eps: float = 1e-3) -> None:
        super().__init__()
        if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
            raise ValueError(f"edge: eps must be a positive finite number, got {eps!r}")
        self.eps = float(eps)

    def forward(self, restored: Tensor, sharp: Tensor) -> Tensor:
        _check_pair(restored, sharp, "edge")
        if restored.ndim != 4:
            raise ValueError(f"edge: expected (B, C, H, W) images, got {tuple(restored.shape)}")
        diff = laplacian(restored) - laplacian(sharp)
        return torch.sqrt(diff.square() + self.eps**2).mean()

    def extra_repr(self) -> str:
        return f"eps={self.eps}"
