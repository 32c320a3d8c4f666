"""The loss registries (adversarial objectives and content losses by public name), and the
adversarial contract their entries follow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from torch import Tensor, nn

from deblurgan.registry import Registry

__all__ = ["ADVERSARIAL_LOSSES", "CONTENT_LOSSES", "AdversarialLoss", "Discriminator"]

Discriminator = Callable[[Tensor], "list[Tensor] | Tensor"]
"""A critic: image ``(B, 3, H, W)`` -> one logit map per scale (a bare tensor counts as one)."""


@runtime_checkable
class AdversarialLoss(Protocol):
    """The adversarial contract: a discriminator loss and a generator loss on the same critic.

    Objectives may also have ``n_critic``, ``after_critic_step(disc)``, ``state_dict()`` and
    ``load_state_dict(state)`` (all of ours do); a training loop looks them up with defaults
    (1, nothing, no state), so an objective with only the two losses still works.
    """

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss; ``fake`` is detached inside, so only the critic gets gradients."""
        ...

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss; gradients flow into ``fake``."""
        ...


ADVERSARIAL_LOSSES: Registry[AdversarialLoss] = Registry("adversarial loss")
CONTENT_LOSSES: Registry[nn.Module] = Registry("content loss")
