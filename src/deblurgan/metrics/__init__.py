"""Full-reference image quality metrics on (B, C, H, W) images in [0, 1], one score per image.

PSNR, SSIM (scikit-image and MATLAB conventions), MS-SSIM, FSIM/FSIMc, VIFp, fine detail lost
and added and colour shift (against any reference, the blurry input included) and LPIPS
(through a network passed in). :data:`METRICS` lists them by public name for evaluation loops.
"""

from deblurgan.metrics.colour import COLOUR_BLOCK, colour_shift, lab_chroma
from deblurgan.metrics.detail import DETAIL_BLOCK, detail_added, detail_lost, fine_detail
from deblurgan.metrics.fsim import fsim, phase_congruency
from deblurgan.metrics.lpips import PairDistance, lpips
from deblurgan.metrics.ms_ssim import MS_SSIM_WEIGHTS, ms_ssim, ms_ssim_min_size
from deblurgan.metrics.psnr import psnr
from deblurgan.metrics.ssim import ssim
from deblurgan.metrics.table import METRICS, MetricSpec
from deblurgan.metrics.vif import VIF_MIN_SIZE, vif

__all__ = [
    "COLOUR_BLOCK",
    "DETAIL_BLOCK",
    "METRICS",
    "MS_SSIM_WEIGHTS",
    "VIF_MIN_SIZE",
    "MetricSpec",
    "PairDistance",
    "colour_shift",
    "detail_added",
    "detail_lost",
    "fine_detail",
    "fsim",
    "lab_chroma",
    "lpips",
    "ms_ssim",
    "ms_ssim_min_size",
    "phase_congruency",
    "psnr",
    "ssim",
    "vif",
]
