"""Reusable neural-network blocks shared by the models: norms, activations, conv blocks."""

from deblurgan.nn.attention import ConvLSTMCell, SelfAttention2d, SqueezeExcitation
from deblurgan.nn.blocks import (
    ACTIVATIONS,
    NORMS,
    ConvNormAct,
    ResidualBlock,
    get_act,
    get_norm,
)
from deblurgan.nn.padding import pad_to_multiple

__all__ = [
    "ACTIVATIONS",
    "NORMS",
    "ConvLSTMCell",
    "ConvNormAct",
    "ResidualBlock",
    "SelfAttention2d",
    "SqueezeExcitation",
    "get_act",
    "get_norm",
    "pad_to_multiple",
]
