"""The blur model ``blurry = kernel * sharp + noise``: camera-shake kernels and applying them.

Importing this package registers the kernel samplers in :data:`BLUR_SAMPLERS`.
"""

from deblurgan.blur import trajectory as trajectory  # registers "trajectory"
from deblurgan.blur.apply import add_gaussian_noise, blur_image, linear_to_srgb, srgb_to_linear
from deblurgan.blur.registries import BLUR_SAMPLERS
from deblurgan.blur.trajectory import (
    TrajectoryKernelSampler,
    random_trajectories,
    rasterize_trajectories,
)
from deblurgan.blur.types import BlurSample, KernelSampler

__all__ = [
    "BLUR_SAMPLERS",
    "BlurSample",
    "KernelSampler",
    "TrajectoryKernelSampler",
    "add_gaussian_noise",
    "blur_image",
    "linear_to_srgb",
    "random_trajectories",
    "rasterize_trajectories",
    "srgb_to_linear",
]
