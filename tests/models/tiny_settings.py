"""Tiny settings of every registered model for fast tests; a new architecture adds its entry."""

from __future__ import annotations

from typing import Any

TINY: dict[str, dict[str, Any]] = {
    "fpn_mobilenet": {"width_mult": 0.25, "num_filters": 8, "num_filters_fpn": 16},
    "fpn_mobilenet_dsc": {"width_mult": 0.25, "num_filters": 8, "num_filters_fpn": 16},
    "fpn_efficientnet_lite": {"width": 0.25, "depth": 0.5, "num_filters": 8, "num_filters_fpn": 16},
    "fpn_inception": {
        "width": 0.0625,
        "blocks": [1, 1, 1],
        "num_filters": 8,
        "num_filters_fpn": 16,
    },
    "resnet": {"width": 4, "n_blocks": 2},
    "lite_unet": {"width": 4, "blocks": 1},
    # TLC on (off by default) and train_size 32 < the contract's 64 px inputs: the local
    # statistics are exercised too.
    "nafnet": {
        "width": 4,
        "enc_blocks": [1, 1],
        "middle_blocks": 1,
        "dec_blocks": [1, 1],
        "train_size": 32,
        "tlc": True,
    },
    # The coarse outputs of MIMO-UNet only feed forward_multiscale (the training losses), so the
    # contract's gradient check through forward() would find them untouched: tested without them
    # here, with them in test_models_mimo_unet.py.
    "mimo_unet": {"width": 4, "num_res": 1},
    "mimo_unet_plus": {"width": 4, "num_res": 1},
    "mimo_unet_pure": {"width": 4, "num_res": 1},
    "deepdeblur": {"width": 4, "n_resblocks": 1},
    "unet": {
        "num_downs": 5,
        "width": 4,
        "self_attention": [3],
        "channel_attention": True,
        "global_residual": True,
        "edge_input": True,
    },
    "rir": {"width": 4, "n_groups": 1, "n_blocks": 1},
    "rir_large": {"width": 4, "n_groups": 2, "n_blocks": 1},
    "feedback": {"width": 4, "iterations": 2, "n_blocks": 1},
    "maxim_3s": {
        "features": 4,
        "num_stages": 2,
        "num_groups": 1,
        "num_bottleneck_blocks": 1,
        "block_size_hr": 2,
        "grid_size_hr": 2,
        "block_size_lr": 2,
    },
    "patchgan": {"width": 4},
    "double_scale": {"width": 4},
    "global": {"width": 4},
    # "srgan" names a generator and a critic: one entry serves both (16 blocks of 4 channels).
    "srgan": {"width": 4},
}
