"""The blur model ``blurry = kernel * sharp + noise``: kernels, applying them, GoPro-style blur.

:class:`RealisticDegradation` is the one realistic degradation pipeline (camera motion, camera
response, saturation, sensor noise, JPEG) that training (``data=synthetic``), ``deblur blur``
and ``deblur eval --format synthetic`` use. Importing this package registers the kernel samplers
in :data:`BLUR_SAMPLERS`: ``"trajectory"`` (camera shake), ``"linear"`` (straight motion),
``"defocus"`` (disk) and ``"gaussian"``.
"""

from deblurgan.blur import kernels as kernels  # registers "linear", "defocus", "gaussian"
from deblurgan.blur import trajectory as trajectory  # registers "trajectory"
from deblurgan.blur.apply import (
    add_gaussian_noise,
    blur_image,
    convolve_valid,
    linear_to_srgb,
    srgb_to_linear,
)
from deblurgan.blur.deconv import (
    DECONV_METHODS,
    hyper_laplacian_deconvolve,
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
    adaptive_frame_times,
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
from deblurgan.blur.realistic import (
    DegradedPair,
    RealisticDegradation,
    add_signal_dependent_noise,
    build_degradation,
    decode_srgb,
    encode_srgb,
    reflect_pad,
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
    "DegradedPair",
    "FramePair",
    "GaussianKernelSampler",
    "GoProBlurSynthesizer",
    "GoProSample",
    "KernelSampler",
    "LinearMotionKernelSampler",
    "RealisticDegradation",
    "TrajectoryKernelSampler",
    "adaptive_frame_times",
    "add_gaussian_noise",
    "add_poisson_gaussian_noise",
    "add_signal_dependent_noise",
    "average_frames",
    "blur_image",
    "build_degradation",
    "convolve_valid",
    "decode_gamma",
    "decode_srgb",
    "defocus_kernels",
    "degrade",
    "encode_gamma",
    "encode_srgb",
    "frame_pairs",
    "gaussian_kernels",
    "hyper_laplacian_deconvolve",
    "jpeg_compress",
    "linear_motion_kernels",
    "linear_to_srgb",
    "parse_gamma",
    "random_camera_path",
    "random_trajectories",
    "rasterize_trajectories",
    "read_video_frames",
    "reflect_pad",
    "render_camera_path",
    "richardson_lucy",
    "srgb_to_linear",
    "synthesize_gopro_blur",
    "tikhonov_deconvolve",
    "video_pairs",
    "wiener_deconvolve",
]
