"""DeepDeblur: Nah, Kim and Lee's multi-scale CNN for dynamic scene deblurring (CVPR 2017).

"Deep Multi-scale Convolutional Neural Network for Dynamic Scene Deblurring", Fig. 3: a Gaussian
pyramid of the blurry image (full, 1/2, 1/4 resolution) is restored coarse to fine. Each scale is
its own network: a 5x5 convolution, 19 residual blocks of 64 channels (5x5 convolutions, ReLU
between them, no normalisation) and a 5x5 convolution to RGB. The restored image of a coarser
scale is upsampled by an up-convolution and concatenated to the blurry input of the next finer
scale, which therefore takes 6 channels. Every scale's output is supervised while training.

The layout is that of the authors' PyTorch release (SeungjunNah/DeepDeblur-PyTorch,
``model/MSResNet.py``): ``body_models[0]`` is the finest scale and ``body_models[-1]`` the
coarsest, each a ``body`` Sequential (``body.0`` head, ``body.1..19`` residual blocks with their
own ``body`` of conv-ReLU-conv, ``body.20`` tail); ``conv_end_models[s]`` (``s >= 1``) is the
up-convolution from scale ``s`` to ``s - 1``, a 5x5 convolution to 12 channels and a pixel
shuffle, and ``conv_end_models[0]`` holds nothing. The release works on pixel values in
[0, 255] minus 127.5 (``rgb_range=255``); ``forward`` converts from and to [0, 1], so the state
dict under ``"G"`` in their ``model-*.pt`` files loads key for key. The pyramid is
scikit-image's ``pyramid_gaussian`` (the release's input): a Gaussian blur with sigma 2/3,
symmetric borders, then 2x2 averaging.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.models.registries import GENERATORS

__all__ = ["DeepDeblurGenerator", "gaussian_pyramid_down"]

_PYRAMID_SIGMA = 2.0 / 3.0  # scikit-image pyramid_reduce: sigma = 2 * downscale / 6
_TRUNCATE = 4.0  # scipy.ndimage.gaussian_filter's default support, in sigmas


def _symmetric_indices(size: int, radius: int, device: torch.device) -> Tensor:
    """Indices of a symmetric ("d c b a | a b c d") padding by ``radius``, any ``size``."""
    idx = torch.arange(-radius, size + radius, device=device) % (2 * size)
    return torch.where(idx < size, idx, 2 * size - 1 - idx)


def gaussian_pyramid_down(image: Tensor) -> Tensor:
    """One level of scikit-image's Gaussian pyramid: blur with sigma 2/3, then halve.

    The blur is ``scipy.ndimage.gaussian_filter`` (radius 3, mode ``"reflect"``, i.e. the edge
    pixel repeated); halving an even size with bilinear resampling averages 2x2 blocks.

    Args:
        image: ``(B, C, H, W)`` with even ``H`` and ``W``.

    Returns:
        ``(B, C, H/2, W/2)``.

    Example:
        >>> gaussian_pyramid_down(torch.ones(1, 3, 8, 6)).shape
        torch.Size([1, 3, 4, 3])
        >>> bool(torch.allclose(gaussian_pyramid_down(torch.ones(1, 1, 4, 4)), torch.ones(1)))
        True
    """
    if image.ndim != 4:
        raise ValueError(f"image must be (B, C, H, W), got {tuple(image.shape)}")
    b, c, h, w = image.shape
    if h % 2 or w % 2:
        raise ValueError(f"gaussian_pyramid_down needs an even height and width, got {h}x{w}")
    radius = int(_TRUNCATE * _PYRAMID_SIGMA + 0.5)
    taps = torch.arange(-radius, radius + 1, device=image.device, dtype=image.dtype)
    kernel = torch.exp(-0.5 * (taps / _PYRAMID_SIGMA) ** 2)
    kernel = kernel / kernel.sum()
    x = image.reshape(b * c, 1, h, w)
    x = x.index_select(-1, _symmetric_indices(w, radius, image.device))
    x = F.conv2d(x, kernel.view(1, 1, 1, -1))
    x = x.index_select(-2, _symmetric_indices(h, radius, image.device))
    x = F.conv2d(x, kernel.view(1, 1, -1, 1))
    return F.avg_pool2d(x, 2).reshape(b, c, h // 2, w // 2)


def _conv(in_channels: int, out_channels: int, kernel_size: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)


class _ResBlock(nn.Module):
    """conv - ReLU - conv plus the input, no normalisation: ``body.0``, ``body.2``."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels, kernel_size),
            nn.ReLU(inplace=True),
            _conv(channels, channels, kernel_size),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + x


class _ScaleNet(nn.Module):
    """One scale: head convolution, residual blocks, tail convolution to RGB."""

    def __init__(self, in_channels: int, width: int, n_resblocks: int, kernel_size: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(in_channels, width, kernel_size),
            *[_ResBlock(width, kernel_size) for _ in range(n_resblocks)],
            _conv(width, 3, kernel_size),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


class _UpConv(nn.Module):
    """Up-convolution of a coarse output to the next scale: conv to 12 channels, pixel shuffle."""

    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        self.uppath = nn.Sequential(_conv(3, 12, kernel_size), nn.PixelShuffle(2))

    def forward(self, x: Tensor) -> Tensor:
        return self.uppath(x)


@GENERATORS.register("deepdeblur")
class DeepDeblurGenerator(nn.Module):
    """Nah et al.'s multi-scale CNN: a network per pyramid level, restored coarse to fine.

    ``forward`` returns the full-resolution output clamped to [0, 1]; :meth:`forward_multiscale`
    returns every scale's output, unclamped, coarse to fine, for the multi-scale content loss
    (targets: the Gaussian pyramid of the sharp image, :func:`gaussian_pyramid_down`).

    Args:
        width: feature channels of every scale (``n_feats``, 64).
        n_resblocks: residual blocks per scale (19).
        kernel_size: convolution size (5).
        n_scales: pyramid levels (3); inputs must be divisible by ``2 ** (n_scales - 1)``.
        rgb_range: the pixel range the network works in (the release: 255, centred on
            ``rgb_range / 2``); keep 255 to load the authors' weights.

    Shape:
        - blurry: ``(B, 3, H, W)`` in [0, 1], H and W divisible by :attr:`size_multiple` (4).
        - restored: ``(B, 3, H, W)`` in [0, 1].

    Example:
        >>> net = DeepDeblurGenerator(width=8, n_resblocks=1)
        >>> net(torch.rand(1, 3, 16, 20)).shape
        torch.Size([1, 3, 16, 20])
        >>> [tuple(o.shape[-2:]) for o in net.forward_multiscale(torch.rand(1, 3, 16, 20))]
        [(4, 5), (8, 10), (16, 20)]
    """

    size_multiple: int = 4  # 2 ** (n_scales - 1), set per instance

    def __init__(
        self,
        *,
        width: int = 64,
        n_resblocks: int = 19,
        kernel_size: int = 5,
        n_scales: int = 3,
        rgb_range: float = 255.0,
    ) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive int, got {width!r}")
        if not isinstance(n_resblocks, int) or n_resblocks < 0:
            raise ValueError(f"n_resblocks must be a non-negative int, got {n_resblocks!r}")
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size!r}")
        if not isinstance(n_scales, int) or n_scales < 1:
            raise ValueError(f"n_scales must be a positive int, got {n_scales!r}")
        if not math.isfinite(rgb_range) or rgb_range <= 0:
            raise ValueError(f"rgb_range must be a positive number, got {rgb_range!r}")
        self.n_scales = n_scales
        self.rgb_range = float(rgb_range)
        self.size_multiple = 2 ** (n_scales - 1)
        # Finest first: scales below the coarsest also see the upsampled coarser output.
        self.body_models = nn.ModuleList(
            [_ScaleNet(6, width, n_resblocks, kernel_size) for _ in range(n_scales - 1)]
            + [_ScaleNet(3, width, n_resblocks, kernel_size)]
        )
        self.conv_end_models = nn.ModuleList(
            [nn.Identity()] + [_UpConv(kernel_size) for _ in range(n_scales - 1)]
        )

    def forward_multiscale(self, blurry: Tensor) -> list[Tensor]:
        """Restored images coarse to fine (1/4, 1/2, 1 for three scales), unclamped.

        Args:
            blurry: ``(B, 3, H, W)`` in [0, 1], H and W divisible by :attr:`size_multiple`.

        Returns:
            One ``(B, 3, H / 2**s, W / 2**s)`` tensor per scale ``s``, coarsest first.
        """
        if blurry.ndim != 4 or blurry.shape[1] != 3:
            raise ValueError(f"blurry must be (B, 3, H, W), got {tuple(blurry.shape)}")
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"deepdeblur needs height and width divisible by {self.size_multiple}, "
                f"got {h}x{w}; pad the input first"
            )
        pyramid = [blurry]  # finest first, as the release
        for _ in range(1, self.n_scales):
            pyramid.append(gaussian_pyramid_down(pyramid[-1]))
        mean = self.rgb_range / 2
        pyramid = [level * self.rgb_range - mean for level in pyramid]
        outputs: list[Tensor] = []
        x = pyramid[-1]
        for s in range(self.n_scales - 1, -1, -1):
            restored = self.body_models[s](x)
            outputs.append((restored + mean) / self.rgb_range)
            if s > 0:  # the next finer scale sees its blurry level and this output, upsampled
                x = torch.cat([pyramid[s - 1], self.conv_end_models[s](restored)], dim=1)
        return outputs

    def forward(self, blurry: Tensor) -> Tensor:
        return self.forward_multiscale(blurry)[-1].clamp(0, 1)
