"""Adversarial (d_loss, g_loss) pairs: RaGAN-LS (Kupyn et al., 2019), LSGAN (Mao et al., 2017).

Also the non-saturating GAN (Goodfellow et al., 2014) and the hinge loss (Lim and Ye, 2017).

Every objective takes the discriminator itself, so one signature covers absolute critics (which
score one image at a time) and relativistic ones (which compare real and fake scores). A
discriminator returns one logit map per scale (``list[Tensor]``); each objective is computed over
every element of a scale's map and the scales are averaged, as DeblurGAN-v2 averages its patch
and whole-image critics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.losses.registries import ADVERSARIAL_LOSSES

__all__ = [
    "AdversarialLoss",
    "Discriminator",
    "HingeLoss",
    "LeastSquaresLoss",
    "NonSaturatingLoss",
    "RelativisticAverageLSLoss",
]

Discriminator = Callable[[Tensor], "list[Tensor] | Tensor"]
"""A critic: image ``(B, 3, H, W)`` -> one logit map per scale (a bare tensor counts as one)."""


@runtime_checkable
class AdversarialLoss(Protocol):
    """The adversarial contract: a discriminator loss and a generator loss on the same critic."""

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss; ``fake`` is detached inside, so only the critic gets gradients."""
        ...

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss; gradients flow into ``fake``."""
        ...


def _maps(disc: Discriminator, image: Tensor) -> list[Tensor]:
    out = disc(image)
    maps = [out] if isinstance(out, Tensor) else list(out) if isinstance(out, Sequence) else []
    if not maps or not all(isinstance(m, Tensor) for m in maps):
        raise TypeError(
            "a discriminator must return a tensor or a non-empty list of tensors, "
            f"got {type(out).__name__}"
        )
    return maps


def _scores(disc: Discriminator, real: Tensor, fake: Tensor) -> list[tuple[Tensor, Tensor]]:
    """(real map, fake map) per scale; the two images must give the same number of scales."""
    real_maps = _maps(disc, real)
    fake_maps = _maps(disc, fake)
    if len(real_maps) != len(fake_maps):
        raise ValueError(
            f"the discriminator gave {len(real_maps)} maps for real and {len(fake_maps)} for fake"
        )
    return list(zip(real_maps, fake_maps, strict=True))


def _mean_over_scales(values: Sequence[Tensor]) -> Tensor:
    return torch.stack(list(values)).mean()


def _ragan_ls(ahead: Tensor, behind: Tensor) -> Tensor:
    """``E[(ahead - E[behind] - 1)^2] + E[(behind - E[ahead] + 1)^2]`` on one scale."""
    return (ahead - behind.mean() - 1).square().mean() + (behind - ahead.mean() + 1).square().mean()


@ADVERSARIAL_LOSSES.register("ragan_ls")
class RelativisticAverageLSLoss:
    """RaGAN-LS of DeblurGAN-v2: real scores should beat the mean fake score by 1, and vice versa.

    With ``D`` the critic's logits, per scale:

    - critic: ``E[(D(real) - E D(fake) - 1)^2] + E[(D(fake) - E D(real) + 1)^2]``
    - generator: the same with real and fake swapped,
      ``E[(D(fake) - E D(real) - 1)^2] + E[(D(real) - E D(fake) + 1)^2]``.

    This is the paper's formula; the authors' code halves both terms, so its ``adv_weight``
    of 0.001 corresponds to 0.0005 here.

    Shape:
        - real, fake: :math:`(B, 3, H, W)`; the critic's maps may have any shape.

    Example:
        >>> loss = RelativisticAverageLSLoss()
        >>> disc = lambda image: [image.mean(dim=1)]  # a toy critic: the mean colour per pixel
        >>> real, fake = torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
        >>> loss.d_loss(disc, real, fake), loss.g_loss(disc, real, fake)
        (tensor(0.), tensor(8.))
    """

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss (``fake`` detached)."""
        pairs = _scores(disc, real, fake.detach())
        return _mean_over_scales([_ragan_ls(r, f) for r, f in pairs])

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss."""
        pairs = _scores(disc, real, fake)
        return _mean_over_scales([_ragan_ls(f, r) for r, f in pairs])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@ADVERSARIAL_LOSSES.register("lsgan")
class LeastSquaresLoss:
    """LSGAN (Mao et al., 2017) with targets a = 0 (fake), b = 1 (real), c = 1 (generator).

    Per scale: critic ``(E[(D(real) - 1)^2] + E[D(fake)^2]) / 2``, generator
    ``E[(D(fake) - 1)^2] / 2``, the paper's 1/2 factors included.

    Example:
        >>> disc = lambda image: [image.mean(dim=1)]
        >>> real, fake = torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
        >>> LeastSquaresLoss().d_loss(disc, real, fake), LeastSquaresLoss().g_loss(disc, real, fake)
        (tensor(0.), tensor(0.5000))
    """

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss (``fake`` detached)."""
        pairs = _scores(disc, real, fake.detach())
        return _mean_over_scales(
            [((r - 1).square().mean() + f.square().mean()) / 2 for r, f in pairs]
        )

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss; the critic is not run on ``real``, which it does not need."""
        maps = _maps(disc, fake)
        return _mean_over_scales([(f - 1).square().mean() / 2 for f in maps])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@ADVERSARIAL_LOSSES.register("vanilla")
class NonSaturatingLoss:
    """The original GAN (Goodfellow et al., 2014) on logits, non-saturating for the generator.

    Per scale: critic ``BCE(D(real), 1) + BCE(D(fake), 0)``, generator ``BCE(D(fake), 1)``,
    with BCE on logits (``softplus``), numerically stable.

    Example:
        >>> disc = lambda image: [image.mean(dim=1)]
        >>> real, fake = torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
        >>> NonSaturatingLoss().d_loss(disc, real, fake)  # 2 log 2
        tensor(1.3863)
    """

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss (``fake`` detached)."""
        pairs = _scores(disc, real, fake.detach())
        return _mean_over_scales(
            [
                F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
                for r, f in pairs
            ]
        )

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss."""
        maps = _maps(disc, fake)
        return _mean_over_scales(
            [F.binary_cross_entropy_with_logits(f, torch.ones_like(f)) for f in maps]
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@ADVERSARIAL_LOSSES.register("hinge")
class HingeLoss:
    """The hinge loss (Lim and Ye, 2017; used by SAGAN and BigGAN).

    Per scale: critic ``E[relu(1 - D(real))] + E[relu(1 + D(fake))]``, generator ``-E[D(fake)]``.

    Example:
        >>> disc = lambda image: [image.mean(dim=1)]
        >>> real, fake = torch.full((1, 3, 2, 2), 2.0), torch.full((1, 3, 2, 2), -0.5)
        >>> HingeLoss().d_loss(disc, real, fake), HingeLoss().g_loss(disc, real, fake)
        (tensor(0.5000), tensor(0.5000))
    """

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss (``fake`` detached)."""
        pairs = _scores(disc, real, fake.detach())
        return _mean_over_scales([F.relu(1 - r).mean() + F.relu(1 + f).mean() for r, f in pairs])

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss."""
        return _mean_over_scales([-f.mean() for f in _maps(disc, fake)])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
