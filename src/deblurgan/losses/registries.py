"""The loss registries: adversarial objectives and content losses by public name."""

from __future__ import annotations

from typing import Any

from deblurgan.registry import Registry

ADVERSARIAL_LOSSES: Registry[Any] = Registry("adversarial loss")
CONTENT_LOSSES: Registry[Any] = Registry("content loss")
