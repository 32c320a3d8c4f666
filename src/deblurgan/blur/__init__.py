"""The blur model ``blurry = kernel * sharp + noise``: kernels, applying them, GoPro-style blur.

Importing this package registers the kernel samplers in :data:`BLUR_SAMPLERS`: ``"trajectory"``
(camera shake), ``"linear"`` (straight motion), ``"defocus"`` (disk) and ``"gaussian"``.
"""

from deblurgan.blur import kernels as kernels  # registers "linear", "defocus", "gaussian"
from deblurgan.blur import trajectory as trajectory  # registers "trajectory"
from deblurgan.blur.apply import add_gaussian_noise, blur_image, linear_to_srgb, srgb_to_linear
from deblurgan.blur.deconv import (
    DECONV_METHODS,
    richardson_lucy,
    tikhonov_deconvolve,
    wiener_deconvolve,
)
from deblurgan.blur.degrade import (
    Degradation,
    add_poisson_gaussian_noise,
    decode_gamma,
    degrade,
    encode_gamma,
    jpeg_compress,
    parse_gamma,
)
from deblurgan.blur.frames import (
    FramePair,
    average_frames,
    frame_pairs,
    read_video_frames,
    video_pairs,
)
from deblurgan.blur.gopro import (
    GoProBlurSynthesizer,
    GoProSample,
    random_camera_path,
    render_camera_path,
    synthesize_gopro_blur,
)
from deblurgan.blur.kernels import (
    DefocusKernelSampler,
    GaussianKernelSampler,
    LinearMotionKernelSampler,
    defocus_kernels,
    gaussian_kernels,
    linear_motion_kernels,
)
from deblurgan.blur.registries import BLUR_SAMPLERS
from deblurgan.blur.trajectory import (
    TrajectoryKernelSampler,
    random_trajectories,
    rasterize_trajectories,
)
from deblurgan.blur.types import BlurSample, KernelSampler

__all__ = [
    "BLUR_SAMPLERS",
    "DECONV_METHODS",
    "BlurSample",
    "DefocusKernelSampler",
    "Degradation",
    "FramePair",
    "GaussianKernelSampler",
    "GoProBlurSynthesizer",
    "GoProSample",
    "KernelSampler",
    "LinearMotionKernelSampler",
    "TrajectoryKernelSampler",
    "add_gaussian_noise",
    "add_poisson_gaussian_noise",
    "average_frames",
    "blur_image",
    "decode_gamma",
    "defocus_kernels",
    "degrade",
    "encode_gamma",
    "frame_pairs",
    "gaussian_kernels",
    "jpeg_compress",
    "linear_motion_kernels",
    "linear_to_srgb",
    "parse_gamma",
    "random_camera_path",
    "random_trajectories",
    "rasterize_trajectories",
    "read_video_frames",
    "render_camera_path",
    "richardson_lucy",
    "srgb_to_linear",
    "synthesize_gopro_blur",
    "tikhonov_deconvolve",
    "video_pairs",
    "wiener_deconvolve",
]
