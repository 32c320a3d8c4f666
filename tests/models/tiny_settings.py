"""Tiny settings of every registered model for fast tests; a new architecture adds its entry."""

from __future__ import annotations

from typing import Any

TINY: dict[str, dict[str, Any]] = {
    "fpn_mobilenet": {"width_mult": 0.25, "num_filters": 8, "num_filters_fpn": 16},
    "resnet": {"width": 4, "n_blocks": 2},
    "lite_unet": {"width": 4, "blocks": 1},
    "patchgan": {"width": 4},
    "double_scale": {"width": 4},
}
