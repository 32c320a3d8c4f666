"""RaGAN-LS, DeblurGAN-v2's relativistic average least-squares objective (Kupyn et al., 2019).

With its optional history pools: the critic's recent scores (for the relativistic means) and a
pool of recent fakes (Shrivastava et al., 2017), both saved for an exact resume. The protocol all
objectives follow and their shared helpers are in :mod:`deblurgan.losses.adversarial`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from deblurgan.blur.checks import check_generator
from deblurgan.losses.adversarial import (
    Discriminator,
    _count,
    _mean_over_scales,
    _Objective,
    _randint,
    _scores,
    _uniform,
)
from deblurgan.losses.registries import ADVERSARIAL_LOSSES

__all__ = ["RelativisticAverageLSLoss"]

_log = logging.getLogger(__name__)


def _relativistic_ls(
    ahead: Tensor, behind: Tensor, mean_ahead: Tensor, mean_behind: Tensor
) -> Tensor:
    """``E[(ahead - mean_behind - 1)^2] + E[(behind - mean_ahead + 1)^2]`` on one scale."""
    return (ahead - mean_behind - 1).square().mean() + (behind - mean_ahead + 1).square().mean()


def _ragan_ls(ahead: Tensor, behind: Tensor) -> Tensor:
    """``E[(ahead - E[behind] - 1)^2] + E[(behind - E[ahead] + 1)^2]`` on one scale."""
    return _relativistic_ls(ahead, behind, ahead.mean(), behind.mean())


# ------------------------------------------------------------------------------- RaGAN-LS
@ADVERSARIAL_LOSSES.register("ragan_ls")
class RelativisticAverageLSLoss(_Objective):
    """RaGAN-LS of DeblurGAN-v2: real scores should beat the mean fake score by 1, and vice versa.

    With ``D`` the critic's logits, per scale:

    - critic: ``E[(D(real) - E D(fake) - 1)^2] + E[(D(fake) - E D(real) + 1)^2]``
    - generator: the same with real and fake swapped,
      ``E[(D(fake) - E D(real) - 1)^2] + E[(D(real) - E D(fake) + 1)^2]``.

    This is the paper's formula (Kupyn et al., ICCV 2019, after Jolicoeur-Martineau, 2018); the
    authors' code halves both terms, so its ``adv_weight`` of 0.001 corresponds to 0.0005 here.

    **Score history** (``pool_size``; the authors' code, VITA-Group/DeblurGANv2
    ``models/losses.py``, ``RelativisticDiscLossLS``, uses 50). The authors' "image pool" holds
    the critic's *scores*, not images: two FIFO buffers per critic (one for real, one for fake;
    the double-scale critic deep-copies the loss, so one pair per scale) of the last
    ``pool_size`` per-sample logit maps, stored detached. ``d_loss`` first appends the batch's
    scores, then uses the means over the buffers in place of ``E D(real)`` and ``E D(fake)``:

    - critic: ``E[(D(real) - mean(fake pool) - 1)^2] + E[(D(fake) - mean(real pool) + 1)^2]``
    - generator: ``E[(D(fake) - mean(real pool) - 1)^2] + E[(D(real) - mean(fake pool) + 1)^2]``
      with the buffers as the last ``d_loss`` left them (before any ``d_loss``, the batch means).

    The pooled means carry no gradient, as in the authors' code; each mean is over every element
    of every stored map. No randomness is involved (their pool returns all it holds).

    **Image pool** (``image_pool_size``; Shrivastava et al., CVPR 2017, as pix2pix/CycleGAN's
    ``ImagePool``): the critic's ``d_loss`` sees a mix of current and past generated images.
    Per sample, while the pool is not full the new image is stored and used; afterwards, with
    probability 1/2 a random stored image is used and replaced by the new one, otherwise the new
    one is used. Images are stored detached, on their device. The draws (one uniform and one
    index per sample and call) come from ``generator``. The generator's loss is unaffected.

    Both pools (and the generator's state, if one was given) are in :meth:`state_dict`:
    ``"real_scores"``/``"fake_scores"`` (per scale, a list of per-sample maps) and
    ``"fake_images"`` (a list of ``(3, H, W)`` images).

    Args:
        pool_size: samples per score history (0: use the batch means, the paper's formula).
        image_pool_size: generated images kept for the critic (0: no image pool).
        generator: random source for the image pool; ``None`` uses torch's default generator.

    Shape:
        - real, fake: :math:`(B, 3, H, W)`; the critic's maps may have any shape starting with
          :math:`B` (per-sample history needs the batch dimension first).

    Example:
        >>> loss = RelativisticAverageLSLoss()
        >>> disc = lambda image: [image.mean(dim=1)]  # a toy critic: the mean colour per pixel
        >>> real, fake = torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
        >>> loss.d_loss(disc, real, fake), loss.g_loss(disc, real, fake)
        (tensor(0.), tensor(8.))
        >>> pooled = RelativisticAverageLSLoss(pool_size=50)
        >>> _ = pooled.d_loss(disc, real, fake); _ = pooled.d_loss(disc, real, fake)
        >>> len(pooled.state_dict()["fake_scores"][0])  # one scale, two samples remembered
        2
        >>> pooled
        RelativisticAverageLSLoss(pool_size=50, image_pool_size=0)
    """

    _STATE_KEYS = ("real_scores", "fake_scores", "fake_images")

    def __init__(
        self,
        *,
        pool_size: int = 0,
        image_pool_size: int = 0,
        generator: torch.Generator | None = None,
    ) -> None:
        self.pool_size = _count("ragan_ls", "pool_size", pool_size, low=0)
        self.image_pool_size = _count("ragan_ls", "image_pool_size", image_pool_size, low=0)
        self.generator = check_generator(generator, owner="ragan_ls", optional=True)
        self._real_scores: list[list[Tensor]] = []  # per scale, per sample: (*map) detached
        self._fake_scores: list[list[Tensor]] = []
        self._fake_images: list[Tensor] = []  # (3, H, W) detached

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss (``fake`` detached; mixed with past fakes with an image pool)."""
        fake = fake.detach()
        if self.image_pool_size:
            fake = self._query_images(fake)
        pairs = _scores(disc, real, fake)
        if not self.pool_size:
            return _mean_over_scales([_ragan_ls(r, f) for r, f in pairs])
        self._remember(pairs)
        terms = []
        for scale, (r, f) in enumerate(pairs):
            mean_real = _pool_mean(self._real_scores[scale], r)
            mean_fake = _pool_mean(self._fake_scores[scale], f)
            terms.append(_relativistic_ls(r, f, mean_real, mean_fake))
        return _mean_over_scales(terms)

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss (with a score history, against its pooled means)."""
        pairs = _scores(disc, real, fake)
        if not self.pool_size or not self._fake_scores:
            return _mean_over_scales([_ragan_ls(f, r) for r, f in pairs])
        self._check_scales(len(pairs))
        terms = []
        for scale, (r, f) in enumerate(pairs):
            mean_real = _pool_mean(self._real_scores[scale], r)
            mean_fake = _pool_mean(self._fake_scores[scale], f)
            terms.append(_relativistic_ls(f, r, mean_fake, mean_real))
        return _mean_over_scales(terms)

    # -- score history (DeblurGAN-v2)
    def _check_scales(self, scales: int) -> None:
        if len(self._fake_scores) != scales:
            raise ValueError(
                f"ragan_ls: the score history holds {len(self._fake_scores)} scales but the "
                f"discriminator gave {scales} maps"
            )

    def _remember(self, pairs: list[tuple[Tensor, Tensor]]) -> None:
        if not self._fake_scores:
            self._real_scores = [[] for _ in pairs]
            self._fake_scores = [[] for _ in pairs]
        self._check_scales(len(pairs))
        for scale, (r, f) in enumerate(pairs):
            for pool, maps in ((self._real_scores[scale], r), (self._fake_scores[scale], f)):
                if maps.ndim == 0:
                    raise ValueError(
                        "ragan_ls: a score history needs logit maps with a batch dimension, "
                        "got a 0-d tensor"
                    )
                pool.extend(m.clone() for m in maps.detach().unbind(0))
                del pool[: max(0, len(pool) - self.pool_size)]  # FIFO: drop the oldest
                # Entries restored from a checkpoint may sit elsewhere: move them once.
                pool[:] = [m.to(maps.device) for m in pool]

    # -- image pool (pix2pix)
    def _query_images(self, fake: Tensor) -> Tensor:
        batch = fake.shape[0]
        use_stored = (_uniform((batch,), self.generator) > 0.5).tolist()
        slots = _randint(self.image_pool_size, (batch,), self.generator).tolist()
        out: list[Tensor] = []
        for index, image in enumerate(fake.unbind(0)):
            image = image.clone()
            if len(self._fake_images) < self.image_pool_size:
                self._fake_images.append(image)
                out.append(image)
                continue
            slot = slots[index]
            stored = self._fake_images[slot]
            if stored.shape != image.shape:
                raise ValueError(
                    f"ragan_ls: the image pool holds images of shape {tuple(stored.shape)}, "
                    f"got {tuple(image.shape)}"
                )
            if use_stored[index]:
                out.append(stored.to(device=fake.device, dtype=fake.dtype))
                self._fake_images[slot] = image
            else:
                out.append(image)
        return torch.stack(out)

    # -- state
    def _extra_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        if self.pool_size:
            state["real_scores"] = [list(pool) for pool in self._real_scores]
            state["fake_scores"] = [list(pool) for pool in self._fake_scores]
        if self.image_pool_size:
            state["fake_images"] = list(self._fake_images)
        return state

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        if ("real_scores" in state) != ("fake_scores" in state):
            raise ValueError(
                "ragan_ls: the state needs both real_scores and fake_scores, or neither"
            )
        if "real_scores" in state:
            real = [_newest(pool, self.pool_size) for pool in state["real_scores"]]
            fake = [_newest(pool, self.pool_size) for pool in state["fake_scores"]]
            if len(real) != len(fake):
                raise ValueError(
                    f"ragan_ls: real_scores has {len(real)} scales, fake_scores {len(fake)}"
                )
            self._real_scores, self._fake_scores = (real, fake) if self.pool_size else ([], [])
        if "fake_images" in state:
            images = _newest(state["fake_images"], len(state["fake_images"]))
            self._fake_images = images[: self.image_pool_size]

    def _options(self) -> dict[str, object]:
        return {"pool_size": self.pool_size, "image_pool_size": self.image_pool_size}


def _newest(items: object, size: int) -> list[Tensor]:
    """The last ``size`` entries of a saved pool (a list of tensors), checked."""
    if not isinstance(items, Sequence) or not all(isinstance(t, Tensor) for t in items):
        raise TypeError(f"ragan_ls: a saved pool must be a list of tensors, got {items!r:.80}")
    return list(items)[len(items) - size :] if size else []


def _pool_mean(pool: list[Tensor], like: Tensor) -> Tensor:
    """The mean over every element of every stored map, on ``like``'s device and dtype."""
    flat = torch.cat([m.reshape(-1) for m in pool]) if pool else like.detach().reshape(-1)
    return flat.to(device=like.device, dtype=like.dtype).mean()
