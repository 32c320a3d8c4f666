"""Full-reference image quality metrics on (B, C, H, W) images in [0, 1], one score per image."""

from deblurgan.metrics.psnr import psnr
from deblurgan.metrics.ssim import ssim

__all__ = ["psnr", "ssim"]
