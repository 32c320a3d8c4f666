"""NAFNet blocks (Chen et al., ECCV 2022) in a U-Net on pixel-unshuffled input, with TLC.

"Simple Baselines for Image Restoration", Fig. 3c: a nonlinear-activation-free block. LayerNorm
over channels, a 1x1 convolution to twice the channels, a 3x3 depthwise convolution, a
*SimpleGate* (split the channels in two halves and multiply them: the gate replaces the
activation), a *simplified channel attention* (global average pool, 1x1 convolution, multiply),
a 1x1 convolution back; then a feed-forward half (LayerNorm, 1x1 to twice the channels,
SimpleGate, 1x1). Each half is added to its input through a learned per-channel scale (``beta``,
``gamma``) that starts at zero, so every block starts as the identity. The blocks sit in a U-Net:
a 2x2 stride-2 convolution doubles the channels on the way down, a 1x1 convolution and a pixel
shuffle halve them on the way up, encoder features are added (not concatenated) to the decoder's.

What this file adds, and why:

* **Pixel unshuffle** (Shi et al., 2016): the image is rearranged losslessly into 12 channels at
  half the resolution before the first convolution and shuffled back after the last, so every
  level runs on a quarter of the pixels (``unshuffle=1`` is the paper's layout). On a CPU the
  full-resolution levels cost memory traffic, not arithmetic; this halves the reach needed in
  convolution steps as well.
* **Reach for real blur**: motion streaks in a 1280x720 frame reach 80 px, so an output pixel
  must see more than 160 px of input. Convolutional reach grows by ``(k - 1) * stride`` per
  depthwise convolution, so the reach is bought where it is cheap: at the coarsest level (stride
  32 in input pixels), where ``middle_kernel`` widens the depthwise kernel (7x7 there adds 192 px
  per block for ~1 % of the multiply-accumulates).
  :attr:`NAFNetGenerator.receptive_field` states it; the tests measure it from gradients.
* **Test-time local converter** (TLC; Chu et al., ECCV 2022, "Improving Image Restoration by
  Revisiting Global Information Aggregation"): the channel attention's *global* average is taken
  over a training crop while training and over the whole frame at test time, a different
  statistic (TLC reports +0.6 dB for NAFNet on GoPro from fixing it). With ``tlc=True`` the
  statistic of each pixel is the mean over the ``train_size`` window around it (slid inward at
  the image borders, as TLC does) whenever the frame is larger than the window: on training
  crops of that size it is the paper's global pool, on a larger frame TLC's local one, in
  training and eval mode alike. The means are taken on cells of 1/8 of the window (32 input
  pixels at ``train_size=256``), one extra pass over the map (:class:`LocalAvgPool2d`). A tile of
  a frame therefore sees the statistics that the whole frame gives its pixels (away from the
  tile's borders), so tiled and untiled inference agree. **Off by default**, by measurement
  (``benchmarks/tlc_effect.py``, 2026-12-06, the default model's training, stage 5): whole
  frames gain more from the global pool. On Lai et al.'s real-kernel pairs (1024 px photos)
  +0.19 dB over the input with the global pool, +0.05 dB with TLC's 256 px window (+0.13 with
  NAFNet's own 1.5x window, +0.17 with a 512 px one: the larger the window, the better); on the
  synthetic view scored on whole photos (up to 1280 px) +0.94 against +0.91 dB, LPIPS 0.5205
  against 0.5221. The channel attention here acts as a descriptor of the blur, which a larger
  area estimates better. Without TLC a tile sees its own statistics, so an image larger than
  the inference tile (``--tile-size``, 1024 px by default) is restored tile by tile with each
  tile's global pool.
* The untrained model is the identity (the last convolution starts at zero, as in
  :mod:`~deblurgan.models.generators.lite_unet`), and the output is clamped to [0, 1] with a
  straight-through gradient.

Module and parameter names are the authors' (``megvii-research/NAFNet``,
``basicsr/models/archs/NAFNet_arch.py``: ``intro``, ``encoders``, ``downs``, ``middle_blks``,
``ups``, ``decoders``, ``ending``; in a block ``norm1``, ``conv1`` to ``conv5``, ``sca.1``,
``norm2``, ``beta``, ``gamma``), so a released NAFNet state dict maps onto ``unshuffle=1``
without renaming.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.models.generators.lite_unet import clamp_straight_through
from deblurgan.models.registries import GENERATORS

__all__ = [
    "LayerNorm2d",
    "LocalAvgPool2d",
    "NAFBlock",
    "NAFNetGenerator",
    "SimpleGate",
    "local_mean",
]

_LN_EPS = 1e-6  # NAFNet's LayerNorm2d


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of each pixel of a ``(B, C, H, W)`` tensor.

    Computed by :func:`torch.nn.functional.layer_norm` on the channels-last view: one fused kernel
    instead of the six element-wise passes of a mean-and-variance formula (4-8x faster on a CPU).
    The output is channels-last in memory, which the convolutions that follow prefer on a CPU.

    Args:
        channels: C.
        eps: added to the variance.

    Example:
        >>> y = LayerNorm2d(4)(torch.randn(2, 4, 3, 5))
        >>> y.shape, bool(y.mean(1).abs().max() < 1e-5)
        (torch.Size([2, 4, 3, 5]), True)
    """

    def __init__(self, channels: int, *, eps: float = _LN_EPS) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        channels_last = x.permute(0, 2, 3, 1)  # (B, H, W, C)
        y = F.layer_norm(channels_last, (x.shape[1],), self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)


class SimpleGate(nn.Module):
    """Split the channels in two halves and multiply them: ``(B, 2C, H, W) -> (B, C, H, W)``.

    Example:
        >>> SimpleGate()(torch.arange(4.0).view(1, 4, 1, 1)).flatten().tolist()
        [0.0, 3.0]
    """

    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


def _window_sums(x: Tensor, window: int, dim: int) -> Tensor:
    """Sums of ``window`` consecutive entries along ``dim`` (valid positions only)."""
    size = x.shape[dim]
    csum = x.cumsum(dim)
    head = csum.narrow(dim, window - 1, 1)  # the first window
    if window == size:
        return head
    rest = csum.narrow(dim, window, size - window) - csum.narrow(dim, 0, size - window)
    return torch.cat([head, rest], dim)


def local_mean(x: Tensor, window: int) -> Tensor:
    """Mean of each pixel's ``window x window`` neighbourhood, the window kept inside the image.

    The window is centred on the pixel where it fits, and slid inward at the borders (TLC's
    ``replicate`` padding of the valid means); a window larger than the image is clipped to it,
    so ``window >= max(H, W)`` gives the global mean at every pixel. Computed with one cumulative
    sum per axis (an integral image, O(HW) whatever the window), each along a single row or
    column, so float32 rounding stays at the level of one row's sum.

    Args:
        x: ``(B, C, H, W)``.
        window: the window side in pixels (>= 1).

    Returns:
        ``(B, C, H, W)``.

    Example:
        >>> x = torch.arange(5.0).view(1, 1, 1, 5)
        >>> local_mean(x, 3).flatten().tolist()  # windows [0:3], [0:3], [1:4], [2:5], [2:5]
        [1.0, 1.0, 2.0, 3.0, 3.0]
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    h, w = x.shape[-2:]
    kh, kw = min(window, h), min(window, w)
    sums = _window_sums(_window_sums(x, kh, 2), kw, 3)  # (B, C, H - kh + 1, W - kw + 1)
    means = sums / (kh * kw)
    top, left = (kh - 1) // 2, (kw - 1) // 2
    return F.pad(means, (left, kw - 1 - left, top, kh - 1 - top), mode="replicate")


class LocalAvgPool2d(nn.Module):
    """The channel attention's pool: the global mean, or the mean over a window (TLC).

    With ``window`` None, or on a map no larger than the window, it is ``AdaptiveAvgPool2d(1)``
    (output ``(B, C, 1, 1)``). Otherwise it returns the mean over the ``window x window``
    neighbourhood of each pixel (:func:`local_mean`), evaluated on a grid of ``cell x cell``
    cells: the map is average-pooled by ``cell`` first, so the output is ``(B, C, H / cell,
    W / cell)`` and each pixel takes its cell's value. A statistic over hundreds of pixels varies
    slowly, so cells of ``window / 8`` change it little and save all but one pass over the map
    (exact per-pixel means cost as much as the rest of the block on a CPU). The generator sets
    ``window`` and ``cell`` per level; a cell that does not divide the map falls back to 1.

    The same rule holds in training and in eval mode: trained on crops of the window's size it is
    the paper's global pool; at test time on a larger frame it is TLC.

    Example:
        >>> pool = LocalAvgPool2d()
        >>> pool(torch.rand(1, 2, 8, 8)).shape
        torch.Size([1, 2, 1, 1])
        >>> pool.window, pool.cell = 4, 2
        >>> pool(torch.rand(1, 2, 8, 8)).shape
        torch.Size([1, 2, 4, 4])
    """

    def __init__(self) -> None:
        super().__init__()
        self.window: int | None = None
        self.cell = 1

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        if self.window is None or self.window >= max(h, w):
            return x.mean((2, 3), keepdim=True)
        cell = self.cell if h % self.cell == 0 and w % self.cell == 0 else 1
        if cell > 1:
            x = F.avg_pool2d(x, cell)  # (B, C, H / cell, W / cell)
        return local_mean(x, max(1, round(self.window / cell)))

    def extra_repr(self) -> str:
        return f"window={self.window}, cell={self.cell}"


def _gate(x: Tensor, attention: Tensor) -> Tensor:
    """``x * attention``, ``attention`` repeated over cells if coarser than ``x`` (nearest).

    The repetition is a broadcast over a view of ``x`` cut into cells, not a copy: one pass over
    ``x`` instead of three (upsample, then multiply), which matters on a CPU.
    """
    (b, c, h, w), (ah, aw) = x.shape, attention.shape[-2:]
    if (ah, aw) == (1, 1) or (ah, aw) == (h, w):
        return x * attention
    if h % ah or w % aw:
        raise ValueError(f"attention of size {ah}x{aw} does not tile a {h}x{w} map")
    ch, cw = h // ah, w // aw
    if x.is_contiguous(memory_format=torch.channels_last):  # (B, H, W, C) in memory
        cells = x.permute(0, 2, 3, 1).view(b, ah, ch, aw, cw, c)
        scale = attention.permute(0, 2, 3, 1).reshape(b, ah, 1, aw, 1, c)
        return (cells * scale).view(b, h, w, c).permute(0, 3, 1, 2)
    cells = x.reshape(b, c, ah, ch, aw, cw)
    return (cells * attention.reshape(b, c, ah, 1, aw, 1)).view(b, c, h, w)


class NAFBlock(nn.Module):
    """NAFNet's block: a gated depthwise-convolution half and a gated feed-forward half.

    Args:
        channels: C, in and out.
        kernel_size: side of the depthwise convolution (3 in the paper; odd).

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``.

    Example:
        >>> block = NAFBlock(8)
        >>> x = torch.randn(1, 8, 6, 10)
        >>> torch.equal(block(x), x)  # beta = gamma = 0: the identity at init
        True
    """

    def __init__(self, channels: int, *, kernel_size: int = 3) -> None:
        super().__init__()
        c, c2 = channels, 2 * channels
        self.norm1 = LayerNorm2d(c)
        self.conv1 = nn.Conv2d(c, c2, 1)
        self.conv2 = nn.Conv2d(c2, c2, kernel_size, padding=kernel_size // 2, groups=c2)
        self.sg = SimpleGate()
        self.sca = nn.Sequential(LocalAvgPool2d(), nn.Conv2d(c, c, 1))  # simplified attention
        self.conv3 = nn.Conv2d(c, c, 1)
        self.norm2 = LayerNorm2d(c)
        self.conv4 = nn.Conv2d(c, c2, 1)
        self.conv5 = nn.Conv2d(c, c, 1)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.sg(self.conv2(self.conv1(self.norm1(x))))  # (B, C, H, W)
        attention = self.sca(y)  # (B, C, 1, 1); under TLC (B, C, H / cell, W / cell)
        x = torch.addcmul(x, self.conv3(_gate(y, attention)), self.beta)
        y = self.conv5(self.sg(self.conv4(self.norm2(x))))
        return torch.addcmul(x, y, self.gamma)


def _stage(channels: int, blocks: int, kernel_size: int = 3) -> nn.Sequential:
    return nn.Sequential(*[NAFBlock(channels, kernel_size=kernel_size) for _ in range(blocks)])


def _block_counts(name: str, value: Sequence[int]) -> tuple[int, ...]:
    counts = tuple(value)
    if not counts or not all(isinstance(n, int) and n >= 0 for n in counts):
        raise ValueError(f"{name} must be a non-empty sequence of ints >= 0, got {value!r}")
    return counts


@GENERATORS.register("nafnet")
class NAFNetGenerator(nn.Module):
    """U-Net of NAFNet blocks on pixel-unshuffled input; global residual; TLC at test time.

    Level ``i`` (``i = 0 ... L-1``, ``L = len(enc_blocks)``) has ``width * 2**i`` channels at
    ``1 / (unshuffle * 2**i)`` of the input resolution; the middle stage sits one level below the
    last. The defaults are the CPU model: width 16, blocks (1, 1, 1, 2) + 2 + (1, 1, 1, 1) with
    7x7 depthwise kernels in the middle, i.e. 5 levels at strides 2 to 32 with 16 to 256 channels,
    1.77 M parameters, 6.2 GMACs at 1280x720, a field of 576 px. Chosen for the CPU: against
    the earlier layout ((1, 1, 2, 4) + 6 with 3x3 middle kernels: 3.86 M parameters, 9.1 GMACs,
    a field of 656 px) it takes 0.16 s instead of 0.21 s per training step (4 crops of 256 px,
    2 threads) and 0.22x the time of ``fpn_mobilenet`` at 720p
    (``benchmarks/inference_speed.py``), so more steps fit in the CPU budget. The reach comes
    cheap from the wide middle kernels (each adds 192 px).

    Args:
        width: channels at the first level.
        enc_blocks: NAFBlocks of each encoder level, fine to coarse.
        middle_blocks: NAFBlocks at the coarsest level.
        dec_blocks: NAFBlocks of each decoder level, coarse to fine (as many as ``enc_blocks``).
        middle_kernel: depthwise kernel side of the middle blocks (reach: ``(k - 1)`` times the
            middle stride per block).
        unshuffle: pixel-unshuffle factor of the input (1: the paper's full-resolution layout).
        train_size: side of the square training crops, in input pixels: the TLC window (set it
            to the crop size the weights are trained on).
        tlc: on frames larger than ``train_size``, replace the channel attention's global pool
            by the mean over a ``train_size`` window around each pixel (TLC, see
            :class:`LocalAvgPool2d`); settable later through :attr:`tlc`. Off by default: the
            global pool measured better on whole frames (see the module docstring).

    Shape:
        - blurry: ``(B, 3, H, W)`` in [0, 1], H and W multiples of :attr:`size_multiple`
          (``unshuffle * 2**len(enc_blocks)``).
        - restored: same shape, in [0, 1].

    Example:
        >>> model = NAFNetGenerator(width=4, enc_blocks=(1, 1), middle_blocks=1, dec_blocks=(1, 1))
        >>> blurry = torch.rand(1, 3, 16, 24)
        >>> torch.equal(model(blurry), blurry)  # the untrained model is the identity
        True
        >>> model.size_multiple, model.receptive_field
        (8, 88)
    """

    paper = "Chen et al. 2022 (NAFNet), pixel-unshuffled, TLC optional"
    #: ``tlc`` and its window ``train_size`` change only test-time statistics (on training crops
    #: of ``train_size`` both pools are the same): a resumed run or an export may change them.
    inference_settings: ClassVar[frozenset[str]] = frozenset({"tlc", "train_size"})

    def __init__(
        self,
        *,
        width: int = 16,
        enc_blocks: Sequence[int] = (1, 1, 1, 2),
        middle_blocks: int = 2,
        dec_blocks: Sequence[int] = (1, 1, 1, 1),
        middle_kernel: int = 7,
        unshuffle: int = 2,
        train_size: int = 256,
        tlc: bool = False,
    ) -> None:
        super().__init__()
        enc = _block_counts("enc_blocks", enc_blocks)
        dec = _block_counts("dec_blocks", dec_blocks)
        if len(dec) != len(enc):
            raise ValueError(
                f"dec_blocks needs one count per level of enc_blocks ({len(enc)}), got {dec!r}"
            )
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive int, got {width!r}")
        if not isinstance(middle_blocks, int) or middle_blocks < 0:
            raise ValueError(f"middle_blocks must be an int >= 0, got {middle_blocks!r}")
        if not isinstance(middle_kernel, int) or middle_kernel < 1 or middle_kernel % 2 == 0:
            raise ValueError(f"middle_kernel must be an odd positive int, got {middle_kernel!r}")
        if not isinstance(unshuffle, int) or unshuffle < 1:
            raise ValueError(f"unshuffle must be a positive int, got {unshuffle!r}")
        if not isinstance(train_size, int) or train_size < 1:
            raise ValueError(f"train_size must be a positive int, got {train_size!r}")
        self.unshuffle = unshuffle
        self.train_size = train_size
        self.size_multiple = unshuffle * 2 ** len(enc)
        pixels = 3 * unshuffle**2
        self.intro = nn.Conv2d(pixels, width, 3, padding=1)
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        c = width
        for n in enc:
            self.encoders.append(_stage(c, n))
            self.downs.append(nn.Conv2d(c, 2 * c, 2, stride=2))
            c *= 2
        self.middle_blks = _stage(c, middle_blocks, middle_kernel)
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for n in dec:
            self.ups.append(nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.PixelShuffle(2)))
            c //= 2
            self.decoders.append(_stage(c, n))
        self.ending = nn.Conv2d(width, pixels, 3, padding=1)
        nn.init.zeros_(self.ending.weight)  # the untrained model is the identity
        nn.init.zeros_(self.ending.bias)  # type: ignore[arg-type]  # bias=True: never None
        self._middle_kernel = middle_kernel
        self._enc, self._dec, self._middle = enc, dec, middle_blocks
        self.tlc = tlc

    @property
    def tlc(self) -> bool:
        """Local statistics over ``train_size`` windows (True) or the global pool (False)."""
        return self._tlc

    @tlc.setter
    def tlc(self, value: bool) -> None:
        self._tlc = bool(value)
        levels = self._stages_by_level()
        for level, stages in enumerate(levels):
            window = max(1, self.train_size // (self.unshuffle * 2**level))
            # cells of window / 8, at most the coarsest level's pixel (which divides every map)
            cell = min(2 ** (len(levels) - 1 - level), max(1, window // 8))
            for stage in stages:
                for module in stage.modules():
                    if isinstance(module, LocalAvgPool2d):
                        module.window = window if self._tlc else None
                        module.cell = cell

    def _stages_by_level(self) -> list[list[nn.Module]]:
        levels: list[list[nn.Module]] = [[e] for e in self.encoders]
        levels.append([self.middle_blks])
        for i, d in enumerate(self.decoders):
            levels[len(self.encoders) - 1 - i].append(d)
        return levels

    @property
    def receptive_field(self) -> int:
        """Nominal side, in input pixels, of the square that the convolutions let a pixel see.

        ``1 + sum((k - 1) * s)`` over the deepest chain of convolutions, each k x k at stride s
        (input pixels per feature pixel; a 2x2 stride-2 downsampling counts ``k = 2``), plus the
        ``unshuffle - 1`` of the pixel (un)shuffle. The exact field of one output pixel differs
        from it by at most the coarsest stride with the pixel's place on the sampling grid
        (upsampling quantises it, skip connections widen it); the tests measure it from
        gradients. The channel attention adds context on top (a ``train_size`` window).
        """
        s = self.unshuffle
        field = 1 + (s - 1) + 2 * s  # unshuffle alignment, intro
        for level, n in enumerate(self._enc):
            stride = s * 2**level
            field += 2 * stride * n + stride  # 3x3 depthwise convs, then the 2x2 stride-2 down
        field += (self._middle_kernel - 1) * s * 2 ** len(self._enc) * self._middle
        for level, n in enumerate(self._dec):
            field += 2 * s * 2 ** (len(self._dec) - 1 - level) * n
        return field + 2 * s  # ending

    def forward(self, blurry: Tensor) -> Tensor:
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"nafnet needs height and width divisible by {self.size_multiple}, got {h}x{w}; "
                "pad first (the Deblurrer does)"
            )
        x = F.pixel_unshuffle(blurry, self.unshuffle) if self.unshuffle > 1 else blurry
        # Channels-last memory all through: LayerNorm2d reads channels as the contiguous axis, and
        # oneDNN's depthwise and 1x1 convolutions run 2-3x faster on it than on NCHW on a CPU.
        x = self.intro(x.contiguous(memory_format=torch.channels_last))
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.middle_blks(x)
        for decoder, up, skip in zip(self.decoders, self.ups, reversed(skips), strict=True):
            x = decoder(up(x) + skip)
        correction = self.ending(x)
        if self.unshuffle > 1:
            correction = F.pixel_shuffle(correction, self.unshuffle)
        restored = blurry + correction  # NCHW like blurry: the add lays it out as its first input
        if torch.is_grad_enabled():
            return clamp_straight_through(restored)
        return restored.clamp_(0, 1)  # inference: the same values, two passes fewer
