"""Adversarial (d_loss, g_loss) pairs: LSGAN (Mao et al., 2017) and the other absolute critics.

RaGAN-LS (Kupyn et al., 2019) and its history pools are in :mod:`deblurgan.losses.ragan_ls`.
This module holds the protocol they all follow, their shared helpers, LSGAN, the non-saturating
GAN (Goodfellow et al., 2014) with one-sided label smoothing (Salimans et al., 2016) and label
noise, the hinge loss (Lim and Ye, 2017), the Wasserstein GAN with weight clipping (Arjovsky et
al., 2017) and with a gradient penalty (Gulrajani et al., 2017).

Every objective takes the discriminator itself, so one signature covers absolute critics (which
score one image at a time), relativistic ones (which compare real and fake scores) and the
gradient penalty (which runs the critic on mixed images). A discriminator returns one logit map
per scale (``list[Tensor]``); each objective is computed over every element of a scale's map and
the scales are averaged, as DeblurGAN-v2 averages its patch and whole-image critics.

Besides ``d_loss`` and ``g_loss``, every objective here has the same optional hooks, so the
training loop treats them alike:

- ``n_critic``: critic updates per generator update (5 for the WGANs, else 1);
- ``after_critic_step(disc)``: called after each critic optimiser step (WGAN clips weights);
- ``state_dict()`` / ``load_state_dict(state)``: what an exact resume needs (RaGAN-LS's history
  pools, the state of a private random generator); only tensors, numbers, lists and dicts, so
  ``torch.load(..., weights_only=True)`` reads it back.

Randomness (label noise, image pool, the gradient penalty's mixing) comes from the optional
``generator`` of the objective; ``None`` uses torch's default CPU generator, which the trainer
seeds and checkpoints. Numbers are drawn on the generator's device and then moved to the logits'
device, so CPU and GPU runs see the same draws.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.blur.checks import check_generator
from deblurgan.losses.registries import ADVERSARIAL_LOSSES, AdversarialLoss, Discriminator

__all__ = [
    "AdversarialLoss",
    "Discriminator",
    "HingeLoss",
    "LeastSquaresLoss",
    "NonSaturatingLoss",
    "WassersteinGPLoss",
    "WassersteinLoss",
]

_log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------- helpers
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


def _batch_of(tensor: Tensor, batch: int, what: str) -> None:
    if tensor.ndim == 0 or tensor.shape[0] != batch:
        raise ValueError(
            f"{what}: a logit map must start with the batch dimension {batch}, "
            f"got shape {tuple(tensor.shape)}"
        )


def _number(
    owner: str,
    name: str,
    value: object,
    *,
    low: float,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = True,
) -> float:
    """``value`` as a float in the interval ``low .. high`` (open or closed ends as given)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        interval = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'}"
        interval += ")" if high is None or high_open else "]"
        raise ValueError(f"{owner}: {name} must be in {interval}, got {value!r}")
    return float(value)


def _count(owner: str, name: str, value: object, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: {name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _uniform(shape: tuple[int, ...], generator: torch.Generator | None) -> Tensor:
    """``U[0, 1)`` numbers drawn on the generator's device (CPU for the default generator)."""
    device = generator.device if generator is not None else torch.device("cpu")
    return torch.rand(shape, generator=generator, device=device)


def _randint(high: int, shape: tuple[int, ...], generator: torch.Generator | None) -> Tensor:
    device = generator.device if generator is not None else torch.device("cpu")
    return torch.randint(high, shape, generator=generator, device=device)


class _Objective:
    """The optional hooks every objective shares: ``n_critic``, ``after_critic_step``, state."""

    n_critic: int = 1
    generator: torch.Generator | None = None
    _STATE_KEYS: tuple[str, ...] = ()

    def after_critic_step(self, disc: nn.Module) -> None:
        """Called after each critic optimiser step; nothing to do for this objective."""
        del disc

    def state_dict(self) -> dict[str, Any]:
        """The objective's state for an exact resume (empty when it has none).

        Holds ``"generator"`` (the byte state of the objective's own ``torch.Generator``) when
        one was given, plus the objective's own buffers (see each class).
        """
        state: dict[str, Any] = {}
        if self.generator is not None:
            state["generator"] = self.generator.get_state()
        state.update(self._extra_state())
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; unknown keys raise ``ValueError``."""
        if not isinstance(state, Mapping):
            raise TypeError(f"{self._name()}: state must be a mapping, got {type(state).__name__}")
        allowed = {"generator", *self._STATE_KEYS}
        unknown = sorted(set(state) - allowed)
        if unknown:
            raise ValueError(
                f"{self._name()}: unexpected state keys {unknown}; "
                f"expected some of {sorted(allowed)}"
            )
        if "generator" in state:
            if self.generator is None:
                _log.warning(
                    "%s: the saved state has a generator state but this objective draws from "
                    "torch's default generator; ignoring it",
                    self._name(),
                )
            else:
                self.generator.set_state(torch.as_tensor(state["generator"]).cpu())
        self._load_extra_state(state)

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        del state

    def _options(self) -> dict[str, object]:
        return {}

    def _name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        options = [f"{key}={value!r}" for key, value in self._options().items()]
        if self.generator is not None:
            options.append(f"generator=torch.Generator(device={str(self.generator.device)!r})")
        return f"{self._name()}({', '.join(options)})"


# ---------------------------------------------------------------------------------- LSGAN
@ADVERSARIAL_LOSSES.register("lsgan")
class LeastSquaresLoss(_Objective):
    """LSGAN (Mao et al., 2017) with targets a = 0 (fake), b = 1 (real), c = 1 (generator).

    Per scale: critic ``(E[(D(real) - 1)^2] + E[D(fake)^2]) / 2``, generator
    ``E[(D(fake) - 1)^2] / 2``, the paper's 1/2 factors included.

    Shape:
        - real, fake: :math:`(B, 3, H, W)`; the critic's maps may have any shape.

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


# -------------------------------------------------------------------------------- vanilla
@ADVERSARIAL_LOSSES.register("vanilla")
class NonSaturatingLoss(_Objective):
    """The original GAN (Goodfellow et al., 2014) on logits, non-saturating for the generator.

    Per scale: critic ``BCE(D(real), t_real) + BCE(D(fake), t_fake)``, generator
    ``BCE(D(fake), 1)``, with BCE on logits, ``BCE(x, t) = t softplus(-x) + (1 - t) softplus(x)``
    (numerically stable), averaged over the map's elements.

    Critic targets. Each sample's label is 1 (real) or 0 (fake); with ``label_noise = p`` each
    sample's label is flipped with probability ``p``, independently for real and fake samples
    (per *sample*, not per map element: the label belongs to the image, so all its patches and
    all scales share it; draws are ``U[0, 1) < p``, first for the real batch, then for the fake
    batch, from ``generator``). Then one-sided label smoothing (Salimans et al., NeurIPS 2016,
    "Improved Techniques for Training GANs") turns the target of label 1 into
    ``1 - label_smoothing`` and leaves label 0 at 0. The generator's target stays 1. With both
    options at 0 (the default) nothing is drawn.

    Args:
        label_smoothing: one-sided smoothing of the critic's real target, in [0, 1).
        label_noise: probability of flipping a sample's critic label, in [0, 0.5).
        generator: random source for the label noise; ``None`` uses torch's default generator.

    Shape:
        - real, fake: :math:`(B, 3, H, W)`; the critic's maps may have any shape (starting with
          :math:`B` when ``label_noise > 0``).

    Example:
        >>> disc = lambda image: [image.mean(dim=1)]
        >>> real, fake = torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
        >>> NonSaturatingLoss().d_loss(disc, real, fake)  # 2 log 2
        tensor(1.3863)
        >>> smoothed = NonSaturatingLoss(label_smoothing=0.1)
        >>> real = torch.full((1, 3, 2, 2), 2.0)
        >>> smoothed.d_loss(disc, real, fake)  # 0.9 softplus(-2) + 0.1 softplus(2) + log 2
        tensor(1.0201)
        >>> smoothed
        NonSaturatingLoss(label_smoothing=0.1, label_noise=0.0)
    """

    def __init__(
        self,
        *,
        label_smoothing: float = 0.0,
        label_noise: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        self.label_smoothing = _number("vanilla", "label_smoothing", label_smoothing, low=0, high=1)
        self.label_noise = _number("vanilla", "label_noise", label_noise, low=0, high=0.5)
        self.generator = check_generator(generator, owner="vanilla", optional=True)

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss (``fake`` detached)."""
        pairs = _scores(disc, real, fake.detach())
        real_labels: Tensor | None = None
        fake_labels: Tensor | None = None
        if self.label_noise:  # per sample: flipped where U[0, 1) < p; real first, then fake
            real_labels = (_uniform((real.shape[0],), self.generator) >= self.label_noise).float()
            fake_labels = (_uniform((fake.shape[0],), self.generator) < self.label_noise).float()
        terms = []
        for r, f in pairs:
            terms.append(
                F.binary_cross_entropy_with_logits(r, self._targets(real_labels, 1.0, r))
                + F.binary_cross_entropy_with_logits(f, self._targets(fake_labels, 0.0, f))
            )
        return _mean_over_scales(terms)

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss (target 1: no smoothing, no noise)."""
        maps = _maps(disc, fake)
        return _mean_over_scales(
            [F.binary_cross_entropy_with_logits(f, torch.ones_like(f)) for f in maps]
        )

    def _targets(self, labels: Tensor | None, label: float, logits: Tensor) -> Tensor:
        """Labels in {0, 1} (per sample, or ``label`` for all) -> targets shaped like ``logits``."""
        keep = 1 - self.label_smoothing  # one-sided: label 1 -> 1 - smoothing, label 0 -> 0
        if labels is None:
            return torch.full_like(logits, label * keep)
        _batch_of(logits, len(labels), "vanilla with label_noise")
        targets = labels.to(device=logits.device, dtype=logits.dtype) * keep
        return targets.view(-1, *([1] * (logits.ndim - 1))).expand_as(logits)

    def _options(self) -> dict[str, object]:
        return {"label_smoothing": self.label_smoothing, "label_noise": self.label_noise}


# ---------------------------------------------------------------------------------- hinge
@ADVERSARIAL_LOSSES.register("hinge")
class HingeLoss(_Objective):
    """The hinge loss (Lim and Ye, 2017; used by SAGAN and BigGAN).

    Per scale: critic ``E[relu(1 - D(real))] + E[relu(1 + D(fake))]``, generator ``-E[D(fake)]``.

    Shape:
        - real, fake: :math:`(B, 3, H, W)`; the critic's maps may have any shape.

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


# ----------------------------------------------------------------------------------- WGAN
def _wasserstein_d(pairs: list[tuple[Tensor, Tensor]]) -> Tensor:
    return _mean_over_scales([f.mean() - r.mean() for r, f in pairs])


def _wasserstein_g(disc: Discriminator, fake: Tensor) -> Tensor:
    return _mean_over_scales([-f.mean() for f in _maps(disc, fake)])


@ADVERSARIAL_LOSSES.register("wgan")
class WassersteinLoss(_Objective):
    """WGAN (Arjovsky et al., ICML 2017): a weight-clipped critic estimates the W1 distance.

    Per scale: critic ``E[D(fake)] - E[D(real)]``, generator ``-E[D(fake)]`` (the means over
    batch and map elements, then averaged over scales). The critic is kept (roughly) Lipschitz
    by clamping every parameter to ``[-clip_value, clip_value]`` after each of its optimiser
    steps (:meth:`after_critic_step`, which the training loop calls), and it is trained
    ``n_critic`` times per generator step.

    The paper uses ``clip_value = 0.01``, ``n_critic = 5`` and RMSProp with learning rate 5e-5
    for both networks (momentum-based optimisers made training unstable); the optimiser is
    chosen in the training config (``optim.optimizer: rmsprop``), not here.

    Args:
        clip_value: the clamp bound of every critic parameter; ``None`` disables clipping.
        n_critic: critic updates per generator update.

    Shape:
        - real, fake: :math:`(B, 3, H, W)`; the critic's maps may have any shape.

    Example:
        >>> loss = WassersteinLoss()
        >>> disc = lambda image: [image.mean(dim=1)]
        >>> real, fake = torch.full((1, 3, 2, 2), 2.0), torch.full((1, 3, 2, 2), -0.5)
        >>> loss.d_loss(disc, real, fake), loss.g_loss(disc, real, fake)
        (tensor(-2.5000), tensor(0.5000))
        >>> critic = torch.nn.Linear(2, 1)
        >>> _ = torch.nn.init.constant_(critic.weight, 0.5)
        >>> loss.after_critic_step(critic)
        >>> critic.weight
        Parameter containing:
        tensor([[0.0100, 0.0100]], requires_grad=True)
        >>> loss
        WassersteinLoss(clip_value=0.01, n_critic=5)
    """

    def __init__(self, *, clip_value: float | None = 0.01, n_critic: int = 5) -> None:
        self.clip_value = (
            None
            if clip_value is None
            else _number("wgan", "clip_value", clip_value, low=0, low_open=True)
        )
        self.n_critic = _count("wgan", "n_critic", n_critic, low=1)

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss, minus its Wasserstein estimate (``fake`` detached)."""
        return _wasserstein_d(_scores(disc, real, fake.detach()))

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss; the critic is not run on ``real``."""
        return _wasserstein_g(disc, fake)

    def after_critic_step(self, disc: nn.Module) -> None:
        """Clamp every parameter of the critic to ``[-clip_value, clip_value]``, in place."""
        if self.clip_value is None:
            return
        parameters = getattr(disc, "parameters", None)
        if not callable(parameters):
            raise TypeError(
                f"wgan: after_critic_step needs the critic module (an nn.Module), got {disc!r}"
            )
        with torch.no_grad():
            for parameter in parameters():
                parameter.clamp_(-self.clip_value, self.clip_value)

    def _options(self) -> dict[str, object]:
        return {"clip_value": self.clip_value, "n_critic": self.n_critic}


@ADVERSARIAL_LOSSES.register("wgan_gp")
class WassersteinGPLoss(_Objective):
    """WGAN-GP (Gulrajani et al., NeurIPS 2017): the Wasserstein critic with a gradient penalty.

    Per scale ``s``, with ``f_s(x)`` a sample's score, critic::

        E[f_s(fake)] - E[f_s(real)] + gp_weight * E[(||grad_x f_s(x_hat)||_2 - 1)^2],
        x_hat = eps * real + (1 - eps) * fake,   eps ~ U[0, 1] per sample,

    averaged over scales (both the Wasserstein term and the penalty), and generator
    ``-E[f_s(fake)]``. The norm is over all of a sample's ``C x H x W`` gradient entries. The
    gradient is taken with ``create_graph=True``, so the penalty trains the critic.

    A sample's score ``f_s`` is the **mean** of its logit map at scale ``s``: that is the
    function whose expectation the critic's loss compares (``E[D(fake)] - E[D(real)]`` over
    batch and map elements), so the penalty makes exactly it 1-Lipschitz, and the penalty's
    meaning (and ``gp_weight``) does not change with the crop size. (The sum would constrain
    ``N`` times the mean for an ``N``-patch map, shrinking the critic's estimate by ``N``.) For a
    one-element map (a whole-image critic) mean and sum agree with the paper.

    ``eps`` is drawn as ``B`` float32 numbers ``U[0, 1)`` from ``generator`` (torch's default CPU
    generator when ``None``). The authors' code of DeblurGAN differs: one ``eps`` per batch,
    the gradient of the map's sum, the norm over channels only. Do not use batch norm in the
    critic (it couples the samples; the paper recommends layer norm or none).

    :attr:`last_penalty` holds the penalty of the last ``d_loss`` call, before ``gp_weight``
    (``E[(||grad|| - 1)^2]`` averaged over scales), detached, for logging; ``None`` before the
    first call or with ``gp_weight = 0`` (then nothing is computed).

    Args:
        gp_weight: the penalty's weight lambda (10 in the paper and in DeblurGAN).
        n_critic: critic updates per generator update (5 in the paper and in DeblurGAN).
        generator: random source for ``eps``; ``None`` uses torch's default generator.

    Shape:
        - real, fake: :math:`(B, 3, H, W)`, the same shape; the critic's maps start with
          :math:`B`.

    Example:
        >>> loss = WassersteinGPLoss()
        >>> disc = lambda image: [image.sum(dim=(1, 2, 3))]  # linear: its gradient is all ones
        >>> real, fake = torch.ones(2, 3, 1, 1), torch.zeros(2, 3, 1, 1)
        >>> loss.d_loss(disc, real, fake)  # 0 - 3 + 10 * (sqrt(3) - 1)^2
        tensor(2.3590)
        >>> loss.last_penalty
        tensor(0.5359)
        >>> loss.g_loss(disc, real, fake=real)  # -E[D(fake)]
        tensor(-3.)
        >>> loss
        WassersteinGPLoss(gp_weight=10.0, n_critic=5)
    """

    def __init__(
        self,
        *,
        gp_weight: float = 10.0,
        n_critic: int = 5,
        generator: torch.Generator | None = None,
    ) -> None:
        self.gp_weight = _number("wgan_gp", "gp_weight", gp_weight, low=0, high=None)
        self.n_critic = _count("wgan_gp", "n_critic", n_critic, low=1)
        self.generator = check_generator(generator, owner="wgan_gp", optional=True)
        self.last_penalty: Tensor | None = None

    def d_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The critic's loss with the penalty (``fake`` detached)."""
        fake = fake.detach()
        loss = _wasserstein_d(_scores(disc, real, fake))
        if not self.gp_weight:
            return loss
        penalty = self.gradient_penalty(disc, real, fake)
        self.last_penalty = penalty.detach()
        return loss + self.gp_weight * penalty

    def g_loss(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """The generator's loss; the critic is not run on ``real``."""
        return _wasserstein_g(disc, fake)

    def gradient_penalty(self, disc: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
        """``E[(||grad_x f_s(x_hat)||_2 - 1)^2]`` averaged over scales (before ``gp_weight``).

        Draws a fresh ``eps`` per sample; differentiable with respect to the critic's
        parameters (and ``real``; ``fake`` is detached). Runs with gradients enabled even when
        called under ``torch.no_grad()``.

        Shape:
            - real, fake: :math:`(B, C, H, W)`; output: scalar.
        """
        if real.shape != fake.shape:
            raise ValueError(
                f"wgan_gp: real and fake must have the same shape, got {tuple(real.shape)} "
                f"and {tuple(fake.shape)}"
            )
        batch = real.shape[0]
        eps = _uniform((batch,), self.generator).to(device=real.device, dtype=real.dtype)
        eps = eps.view(batch, *([1] * (real.ndim - 1)))
        with torch.enable_grad():
            mixed = eps * real + (1 - eps) * fake.detach()
            if not mixed.requires_grad:
                mixed.requires_grad_(True)
            terms = []
            for m in _maps(disc, mixed):
                _batch_of(m, batch, "wgan_gp")
                score = m.reshape(batch, -1).mean(dim=1)  # (B,): one score per sample
                (grad,) = torch.autograd.grad(
                    score.sum(), mixed, create_graph=True, retain_graph=True, allow_unused=True
                )
                if grad is None:  # this scale ignores its input: its gradient is zero
                    grad = torch.zeros_like(mixed)
                norm = torch.linalg.vector_norm(grad.reshape(batch, -1), dim=1)
                terms.append((norm - 1).square().mean())
        return _mean_over_scales(terms)

    def _options(self) -> dict[str, object]:
        return {"gp_weight": self.gp_weight, "n_critic": self.n_critic}
