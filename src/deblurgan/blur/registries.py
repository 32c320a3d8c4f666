"""The blur registries: kernel samplers by public name."""

from __future__ import annotations

from deblurgan.blur.types import KernelSampler
from deblurgan.registry import Registry

BLUR_SAMPLERS: Registry[KernelSampler] = Registry("blur sampler")
