"""The table of metrics an evaluation loops over: name, function, direction, minimum size."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType

from torch import Tensor

from deblurgan.metrics._checks import check_pair
from deblurgan.metrics.colour import COLOUR_BLOCK, colour_shift
from deblurgan.metrics.detail import DETAIL_BLOCK, detail_added, detail_lost
from deblurgan.metrics.fsim import fsim
from deblurgan.metrics.lpips import PairDistance, lpips
from deblurgan.metrics.ms_ssim import ms_ssim, ms_ssim_min_size
from deblurgan.metrics.psnr import psnr
from deblurgan.metrics.ssim import ssim
from deblurgan.metrics.vif import VIF_MIN_SIZE, vif

__all__ = ["METRICS", "MetricSpec"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric of the evaluation protocol.

    Args:
        name: the public, stable name (a key of :data:`METRICS`, a column of reports).
        function: ``function(restored, sharp)`` (or ``function(restored, sharp, network)`` when
            ``needs_network``) on (B, C, H, W) images in [0, 1], returning :math:`(B,)`.
        higher_is_better: the direction of improvement.
        min_size: the smallest height and width the metric accepts.
        channels: the channel counts it accepts.
        needs_network: whether it takes a network (LPIPS) as third argument.
        description: one line for tables and ``--help``.

    Example:
        >>> import torch
        >>> spec = METRICS["psnr"]
        >>> spec(torch.full((1, 3, 4, 4), 0.5), torch.zeros(1, 3, 4, 4))
        tensor([6.0206])
        >>> spec.higher_is_better, METRICS["lpips"].higher_is_better
        (True, False)
    """

    name: str
    function: Callable[..., Tensor]
    higher_is_better: bool
    min_size: int
    channels: tuple[int, ...] = (1, 3)
    needs_network: bool = False
    description: str = ""

    def __call__(
        self, restored: Tensor, sharp: Tensor, *, network: PairDistance | None = None
    ) -> Tensor:
        """Score a batch; ``network`` is required exactly when ``needs_network``.

        Shape:
            - restored, sharp: :math:`(B, C, H, W)` in [0, 1]
            - output: :math:`(B,)`
        """
        check_pair(restored, sharp, name=self.name, channels=self.channels, min_size=self.min_size)
        if self.needs_network:
            if network is None:
                raise ValueError(f"{self.name}: this metric needs a network, got network=None")
            return self.function(restored, sharp, network)
        if network is not None:
            raise ValueError(f"{self.name}: this metric takes no network, got one")
        return self.function(restored, sharp)


def _table(*specs: MetricSpec) -> Mapping[str, MetricSpec]:
    return MappingProxyType({spec.name: spec for spec in specs})


#: Every metric by its public name, for ``deblur eval`` and reports. Read-only.
METRICS: Mapping[str, MetricSpec] = _table(
    MetricSpec(
        "psnr",
        psnr,
        higher_is_better=True,
        min_size=1,
        description="PSNR over RGB (skimage peak_signal_noise_ratio), dB",
    ),
    MetricSpec(
        "psnr_y",
        partial(psnr, channel="y"),
        higher_is_better=True,
        min_size=1,
        channels=(3,),
        description="PSNR on the BT.601 luma of rgb2ycbcr, unrounded (BasicSR test_y_channel), dB",
    ),
    MetricSpec(
        "ssim",
        ssim,
        higher_is_better=True,
        min_size=11,
        description="SSIM per RGB channel, Gaussian 11/1.5, valid windows (skimage, ssim_index.m)",
    ),
    MetricSpec(
        "ssim_matlab",
        partial(ssim, channel="volume", border="replicate"),
        higher_is_better=True,
        min_size=1,
        description="MATLAB ssim() on an RGB array: 3-D Gaussian, replicate padding (MPRNet)",
    ),
    MetricSpec(
        "ssim_matlab_y",
        partial(ssim, channel="y", border="replicate", round_y=True),
        higher_is_better=True,
        min_size=1,
        channels=(3,),
        description="MATLAB ssim() on the luma of rgb2ycbcr(uint8 RGB): rounded Y, replicate",
    ),
    MetricSpec(
        "ms_ssim",
        ms_ssim,
        higher_is_better=True,
        min_size=ms_ssim_min_size(),
        description="MS-SSIM, 5 scales (Wang et al. 2003, msssim.m), per channel",
    ),
    MetricSpec(
        "fsim",
        fsim,
        higher_is_better=True,
        min_size=2,
        description="FSIM on luma (Zhang et al. 2011, FeatureSIM.m)",
    ),
    MetricSpec(
        "fsimc",
        partial(fsim, chromatic=True),
        higher_is_better=True,
        min_size=2,
        channels=(3,),
        description="FSIMc: FSIM with the YIQ chroma term",
    ),
    MetricSpec(
        "vif",
        vif,
        higher_is_better=True,
        min_size=VIF_MIN_SIZE,
        description="VIFp on luma (Sheikh and Bovik 2006, vifp_mscale.m)",
    ),
    MetricSpec(
        "detail_lost",
        detail_lost,
        higher_is_better=False,
        min_size=DETAIL_BLOCK,
        description="share of the reference's textured 16 px blocks with under half their fine "
        "detail (smoothing)",
    ),
    MetricSpec(
        "detail_added",
        detail_added,
        higher_is_better=False,
        min_size=DETAIL_BLOCK,
        description="share of 16 px blocks with over twice the reference's fine detail "
        "(sharpened, or invented texture, ringing, noise)",
    ),
    MetricSpec(
        "colour_shift",
        colour_shift,
        higher_is_better=False,
        min_size=COLOUR_BLOCK,
        channels=(3,),
        description="mean CIELAB chroma distance (Delta E*ab, no lightness) of the 32 px blocks' "
        "mean colours",
    ),
    MetricSpec(
        "lpips",
        lpips,
        higher_is_better=False,
        min_size=16,
        channels=(3,),
        needs_network=True,
        description="LPIPS distance through a given network (16 px for VGG, 31 for AlexNet)",
    ),
)
