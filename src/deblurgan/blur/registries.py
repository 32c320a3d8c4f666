"""The blur registries: kernel samplers by public name."""

from __future__ import annotations

from typing import Any

from deblurgan.registry import Registry

BLUR_SAMPLERS: Registry[Any] = Registry("blur sampler")
