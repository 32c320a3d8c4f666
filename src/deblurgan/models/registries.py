"""The model registries: generators and discriminators by public name."""

from __future__ import annotations

from torch import nn

from deblurgan.registry import Registry

GENERATORS: Registry[nn.Module] = Registry("generator")
DISCRIMINATORS: Registry[nn.Module] = Registry("discriminator")
