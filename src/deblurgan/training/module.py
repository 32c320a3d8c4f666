"""GAN training of a deblurring generator (DeblurGAN, Kupyn et al., 2018; DeblurGAN-v2, 2019).

One training step (a "GAN step") is ``n_critic`` critic updates followed by one generator update
(manual optimisation); the batch a step receives is split into ``n_critic x accumulate``
micro-batches. The module takes only registry names and numbers, so
``GANModule.load_from_checkpoint(path)`` rebuilds the networks, losses and schedule.

Tricks, each a switch: a conditional critic (it also sees the blurry image), DiffAugment on
everything the critic sees (Zhao et al., 2020), an exponential moving average of the generator
used for validation and export, gradient clipping, gradient accumulation, Adam/AdamW/RMSProp
with separate learning rates, warm-up and DeblurGAN-v2's linear decay, and the multi-scale
outputs of generators that have ``forward_multiscale`` (MIMO-UNet, DeepDeblur).
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn
from torch.optim.lr_scheduler import LambdaLR

from deblurgan.losses import ADVERSARIAL_LOSSES, DiffAugment, WeightedLoss
from deblurgan.metrics import psnr, ssim
from deblurgan.models import DISCRIMINATORS, build_generator
from deblurgan.models.generator import multiscale_forward, size_multiple
from deblurgan.nn.padding import pad_to_multiple
from deblurgan.registry import UnknownNameError
from deblurgan.training._containers import plain

__all__ = ["DECAYS", "OPTIMIZERS", "DivergenceError", "GANModule", "lr_factor", "pad_to_multiple"]

logger = logging.getLogger(__name__)

_SSIM_WINDOW = 11

#: Optimisers by config name (``optim.optimizer``). RMSProp is the WGAN paper's choice.
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
}


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite; training stopped before the bad update was applied."""


DECAYS = ("linear", "cosine")
"""Shapes of the learning-rate decay of :func:`lr_factor`."""


def lr_factor(
    step: int,
    *,
    max_steps: int | None,
    warmup_steps: int = 0,
    decay_start: float = 0.5,
    min_lr_ratio: float = 1e-3,
    decay: str = "linear",
) -> float:
    """Learning-rate multiplier at GAN step ``step`` (0-based): warm-up, plateau, decay.

    The factor rises linearly over ``warmup_steps`` (``(step + 1) / warmup_steps``), stays at 1,
    then from ``decay_start * max_steps`` falls to ``min_lr_ratio`` at ``max_steps``: linearly
    (DeblurGAN-v2: constant for half the run, then linear decay to 1e-7 from 1e-4) or along a
    half cosine (``decay="cosine"``, as NAFNet and HINet train: SGDR of Loshchilov and Hutter,
    2017, without restarts).

    Args:
        step: GAN steps completed before this one.
        max_steps: length of the run in GAN steps; ``None`` means no decay.
        warmup_steps: steps of linear warm-up (0 for none).
        decay_start: fraction of ``max_steps`` at which the decay starts, in [0, 1].
        min_lr_ratio: the factor reached at ``max_steps``, in [0, 1].
        decay: ``"linear"`` or ``"cosine"`` (see :data:`DECAYS`).

    Example:
        >>> [lr_factor(s, max_steps=10, warmup_steps=2, decay_start=0.5, min_lr_ratio=0.0)
        ...  for s in (0, 1, 4, 5, 8, 10)]
        [0.5, 1.0, 1.0, 1.0, 0.4, 0.0]
        >>> [round(lr_factor(s, max_steps=4, decay_start=0.0, min_lr_ratio=0.0, decay="cosine"), 3)
        ...  for s in range(5)]
        [1.0, 0.854, 0.5, 0.146, 0.0]
    """
    if decay not in DECAYS:
        raise UnknownNameError(f"unknown learning-rate decay {decay!r}; valid: {', '.join(DECAYS)}")
    factor = 1.0
    if warmup_steps > 0 and step < warmup_steps:
        factor = (step + 1) / warmup_steps
    if max_steps is not None and max_steps > 0:
        start = round(decay_start * max_steps)
        if step >= start:
            progress = min(1.0, (step - start) / max(1, max_steps - start))
            if decay == "cosine":
                fall = 0.5 * (1.0 - math.cos(math.pi * progress))
            else:
                fall = progress
            factor = min(factor, 1.0 - (1.0 - min_lr_ratio) * fall)
    return factor


def ema_decay_at(decay: float, step: int, warmup: bool) -> float:
    """The weight average's decay at GAN step ``step`` (0-based), with or without warm-up.

    With ``warmup`` it is ``min(decay, (1 + step) / (10 + step))``, as TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``: 0.1 at the first step, 0.5 at step 8,
    0.99 at step 890, 0.999 from step 8,990; so the average follows a network trained from
    scratch instead of keeping its random start (a fixed 0.999 holds ``0.999**1000`` = 37 % of
    it after 1,000 steps).

    Example:
        >>> [round(ema_decay_at(0.999, s, True), 4) for s in (0, 8, 890, 9000)]
        [0.1, 0.5, 0.99, 0.999]
        >>> ema_decay_at(0.999, 0, False)
        0.999
    """
    return min(decay, (1 + step) / (10 + step)) if warmup else decay


def _spec(value: Any, kind: str) -> dict[str, Any]:
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, Mapping):
        spec = plain(value)
        if not isinstance(spec.get("name"), str):
            raise ValueError(f"{kind} spec needs a 'name' string, got {spec!r}")
        return spec
    raise TypeError(
        f"{kind} must be a registry name or a {{'name': ..., **kwargs}} mapping, got {value!r}"
    )


def _number(name: str, value: Any, *, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return float(value)


def _count(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


class GANModule(L.LightningModule):
    """Adversarial (or pure content) training of a registered generator.

    A training step (one GAN step) splits its batch into ``n_critic`` groups of ``accumulate``
    micro-batches. For each group the critic is updated once with the adversarial ``d_loss``
    (gradients accumulated over the group's micro-batches, the restored images detached); then
    the generator is updated once, on the last group, with
    ``content(restored, sharp) + adv_weight * g_loss``. ``n_critic`` is the objective's (5 for
    ``wgan`` and ``wgan_gp``, else 1), so the loader's batch should be
    ``n_critic * accumulate * data.batch_size`` items (``fit`` arranges it). Without a
    discriminator only the content loss trains the generator.

    The critic sees the blurry image too when it is conditional (``conditional: true`` in its
    spec), and every image it sees goes through DiffAugment when ``diffaugment`` names a policy
    (a conditional pair gets the same transform). With ``ema_decay`` an exponential moving
    average of the generator's weights is kept (``generator_ema``) and used for validation, the
    exported generator and :meth:`forward`. A generator with ``forward_multiscale`` is trained
    on all its outputs (coarse to fine) when ``multiscale`` is on; the critic sees the finest.

    Lightning counts every optimiser step in ``global_step``: a GAN step makes
    :attr:`optimizer_steps_per_batch` of them (``n_critic + 1`` with a critic, 1 without), and
    :attr:`completed_steps` converts back. Logged keys: ``train/g_loss``, ``train/content``,
    ``train/content_<term>``, ``train/lr_g`` and, with a critic, ``train/d_loss``,
    ``train/adv``, ``train/lr_d`` (and ``train/gp`` for ``wgan_gp``); validation logs
    ``val/psnr``, ``val/ssim`` and ``val/psnr_input`` (the blurry input's PSNR).

    Args:
        generator: ``GENERATORS`` name or spec ``{"name": ..., **kwargs}``.
        discriminator: ``DISCRIMINATORS`` spec, or ``None`` for content-only training.
        adversarial: ``ADVERSARIAL_LOSSES`` name or spec (``"ragan_ls"``, ``"wgan_gp"``, ...).
        content: content terms for :class:`~deblurgan.losses.WeightedLoss` (default L1).
        adv_weight: weight of the generator's adversarial term.
        lr_g: generator learning rate.
        lr_d: critic learning rate.
        betas: Adam/AdamW betas of both optimisers (RMSProp ignores them).
        weight_decay: weight decay of both optimisers.
        optimizer: ``"adam"``, ``"adamw"`` or ``"rmsprop"`` (see :data:`OPTIMIZERS`).
        max_steps: run length in GAN steps, for the linear decay (``None``: no decay).
        warmup_steps: GAN steps of linear learning-rate warm-up.
        decay_start: fraction of ``max_steps`` after which the learning rates decay.
        min_lr_ratio: learning-rate factor reached at ``max_steps``.
        decay: ``"linear"`` or ``"cosine"`` decay of the learning rates (:func:`lr_factor`).
        grad_clip: clip each network's gradient norm to this (``None``: no clipping).
        accumulate: micro-batches whose gradients are summed into each update.
        ema_decay: decay of the generator's weight average, e.g. 0.999 (``None``: no average).
        ema_warmup: raise the average's decay with the steps, ``min(ema_decay, (1 + n) / (10 +
            n))`` at GAN step ``n`` (TensorFlow's ``ExponentialMovingAverage(num_updates=)``):
            from a random start, a fixed 0.999 still holds 37 % of the initial weights after
            1,000 steps and hides that much progress from validation and the export.
        diffaugment: DiffAugment policy for the critic's inputs, e.g.
            ``"color,translation,cutout"`` (``None``: no augmentation).
        multiscale: train multi-output generators on every output.
        log_images: validation images written to TensorBoard as blurry | restored | sharp.

    Shape:
        - batch: ``{"blurry": (B, 3, H, W), "sharp": (B, 3, H, W), ...}`` in [0, 1].

    Example:
        >>> module = GANModule({"name": "resnet", "width": 4, "n_blocks": 1},
        ...                    discriminator={"name": "patchgan", "width": 4, "depth": 2})
        >>> module.optimizer_steps_per_batch, type(module.adversarial).__name__
        (2, 'RelativisticAverageLSLoss')
        >>> module(torch.rand(1, 3, 16, 16)).shape
        torch.Size([1, 3, 16, 16])
    """

    def __init__(
        self,
        generator: str | Mapping[str, Any],
        *,
        discriminator: str | Mapping[str, Any] | None = None,
        adversarial: str | Mapping[str, Any] = "ragan_ls",
        content: Mapping[str, Any] | None = None,
        adv_weight: float = 1e-3,
        lr_g: float = 1e-4,
        lr_d: float = 1e-4,
        betas: Sequence[float] = (0.5, 0.999),
        weight_decay: float = 0.0,
        optimizer: str = "adam",
        max_steps: int | None = None,
        warmup_steps: int = 0,
        decay_start: float = 0.5,
        min_lr_ratio: float = 1e-3,
        decay: str = "linear",
        grad_clip: float | None = None,
        accumulate: int = 1,
        ema_decay: float | None = None,
        ema_warmup: bool = False,
        diffaugment: str | None = None,
        multiscale: bool = True,
        log_images: int = 4,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False

        generator_spec = _spec(generator, "generator")
        discriminator_spec = (
            None if discriminator is None else _spec(discriminator, "discriminator")
        )
        adversarial_spec = _spec(adversarial, "adversarial")
        content_terms = plain(content) if content is not None else {"l1": 1.0}
        if not isinstance(content_terms, dict):
            raise TypeError(f"content must be a mapping of loss names to weights, got {content!r}")
        betas_list = plain(betas)
        if not (isinstance(betas_list, list) and len(betas_list) == 2):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
        for beta in betas_list:
            _number("betas", beta, low=0.0, high=1.0 - 1e-12)
        if decay not in DECAYS:
            raise UnknownNameError(
                f"unknown learning-rate decay {decay!r}; valid: {', '.join(DECAYS)}"
            )
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {optimizer!r}; valid: {', '.join(sorted(OPTIMIZERS))}"
            )
        accumulate_count = _count("accumulate", accumulate)
        if not accumulate_count:
            raise ValueError(f"accumulate must be a positive integer, got {accumulate!r}")
        if diffaugment is not None and not isinstance(diffaugment, str):
            raise TypeError(f"diffaugment must be a policy string or None, got {diffaugment!r}")
        for flag, value in (("multiscale", multiscale), ("ema_warmup", ema_warmup)):
            if not isinstance(value, bool):
                raise TypeError(f"{flag} must be true or false, got {value!r}")
        hparams: dict[str, Any] = {
            "generator": generator_spec,
            "discriminator": discriminator_spec,
            "adversarial": adversarial_spec,
            "content": content_terms,
            "adv_weight": _number("adv_weight", adv_weight, low=0.0),
            "lr_g": _number("lr_g", lr_g, low=0.0),
            "lr_d": _number("lr_d", lr_d, low=0.0),
            "betas": [float(b) for b in betas_list],
            "weight_decay": _number("weight_decay", weight_decay, low=0.0),
            "optimizer": optimizer,
            "max_steps": _count("max_steps", max_steps, allow_none=True),
            "warmup_steps": _count("warmup_steps", warmup_steps),
            "decay_start": _number("decay_start", decay_start, low=0.0, high=1.0),
            "min_lr_ratio": _number("min_lr_ratio", min_lr_ratio, low=0.0, high=1.0),
            "decay": decay,
            "grad_clip": None if grad_clip is None else _number("grad_clip", grad_clip, low=0.0),
            "accumulate": accumulate_count,
            "ema_decay": (
                None
                if ema_decay is None
                else _number("ema_decay", ema_decay, low=0.0, high=1.0 - 1e-12)
            ),
            "ema_warmup": ema_warmup,
            "diffaugment": diffaugment or None,
            "multiscale": multiscale,
            "log_images": _count("log_images", log_images),
        }
        self.save_hyperparameters(hparams)

        self.generator = build_generator(generator_spec)
        self.discriminator: nn.Module | None = (
            None if discriminator_spec is None else DISCRIMINATORS.from_spec(discriminator_spec)
        )
        self.adversarial = ADVERSARIAL_LOSSES.from_spec(adversarial_spec)
        self.content_loss = WeightedLoss(content_terms)
        self.size_multiple = size_multiple(self.generator)
        self.conditional = bool(getattr(self.discriminator, "conditional", False))
        self.diffaugment = DiffAugment(diffaugment) if diffaugment else None
        self.generator_ema: nn.Module | None = None
        if hparams["ema_decay"] is not None:
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False).eval()

    # ----------------------------------------------------------------------------------- steps
    @property
    def n_critic(self) -> int:
        """Critic updates per GAN step: the objective's ``n_critic`` (1 without a critic)."""
        if self.discriminator is None:
            return 1
        return max(1, int(getattr(self.adversarial, "n_critic", 1)))

    @property
    def micro_batches(self) -> int:
        """Micro-batches a training batch is split into: ``n_critic * accumulate``."""
        return self.n_critic * int(self.hparams["accumulate"])

    @property
    def optimizer_steps_per_batch(self) -> int:
        """Optimiser steps Lightning counts per GAN step: ``n_critic + 1`` with a critic, else 1."""
        return 1 if self.discriminator is None else self.n_critic + 1

    @property
    def completed_steps(self) -> int:
        """GAN steps (training batches) completed so far; 0 outside a Trainer."""
        if self._trainer is None:
            return 0
        return int(self.trainer.global_step) // self.optimizer_steps_per_batch

    @property
    def inference_generator(self) -> nn.Module:
        """The generator used for validation and export: the weight average if kept."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def forward(self, blurry: Tensor) -> Tensor:
        return self.inference_generator(blurry)

    # ----------------------------------------------------------------------------- optimisers
    def _optimizer(self, parameters: Any, lr: float) -> torch.optim.Optimizer:
        hp = self.hparams
        decay = hp["weight_decay"]
        if hp["optimizer"] == "rmsprop":
            return torch.optim.RMSprop(parameters, lr=lr, weight_decay=decay)
        betas = (float(hp["betas"][0]), float(hp["betas"][1]))
        if hp["optimizer"] == "adamw":
            return torch.optim.AdamW(parameters, lr=lr, betas=betas, weight_decay=decay)
        return torch.optim.Adam(parameters, lr=lr, betas=betas, weight_decay=decay)

    def configure_optimizers(self) -> Any:
        hp = self.hparams

        def schedule(step: int) -> float:
            return lr_factor(
                step,
                max_steps=hp["max_steps"],
                warmup_steps=hp["warmup_steps"],
                decay_start=hp["decay_start"],
                min_lr_ratio=hp["min_lr_ratio"],
                decay=hp.get("decay", "linear"),  # checkpoints before the option: linear
            )

        optimizers = [self._optimizer(self.generator.parameters(), hp["lr_g"])]
        if self.discriminator is not None:
            optimizers.append(self._optimizer(self.discriminator.parameters(), hp["lr_d"]))
        # A plain function (not a callable object) keeps the schedule out of the checkpoint, so a
        # resumed run follows its own max_steps; the step count itself is restored. The schedule
        # moves once per GAN step for both networks, whatever n_critic is.
        schedulers = [LambdaLR(opt, schedule) for opt in optimizers]
        return optimizers, schedulers

    def _optimizers(self) -> list[Any]:
        opts = self.optimizers()
        return list(opts) if isinstance(opts, list | tuple) else [opts]

    def _schedulers(self) -> list[Any]:
        schedulers = self.lr_schedulers()
        if schedulers is None:
            return []
        return list(schedulers) if isinstance(schedulers, list | tuple) else [schedulers]

    # --------------------------------------------------------------------------------- helpers
    @staticmethod
    def _unpack(batch: Any) -> tuple[Tensor, Tensor]:
        if not isinstance(batch, Mapping) or "blurry" not in batch or "sharp" not in batch:
            raise TypeError(
                "a batch must be a mapping with 'blurry' and 'sharp' tensors, got "
                f"{type(batch).__name__}"
            )
        return batch["blurry"], batch["sharp"]

    def _checkpoint_dir(self) -> str:
        if self._trainer is None:
            return "the run's checkpoints folder"
        return str(Path(self.trainer.default_root_dir) / "checkpoints")

    def _guard(self, loss: Tensor, name: str, step: int) -> None:
        if not bool(torch.isfinite(loss)):
            raise DivergenceError(
                f"training diverged at GAN step {step}: {name} is {loss.item()}. The update was "
                f"not applied and nothing was saved from this step; the last good checkpoint is "
                f"kept in {self._checkpoint_dir()} (resume from last.ckpt with a lower learning "
                f"rate, a smaller adv_weight or grad_clip)"
            )

    def _clip(self, optimizer: Any) -> None:
        if self.hparams["grad_clip"] is not None:
            self.clip_gradients(
                optimizer,
                gradient_clip_val=self.hparams["grad_clip"],
                gradient_clip_algorithm="norm",
            )

    def _critic(self, blurry: Tensor) -> Any:
        """The critic as the objectives call it: ``image -> maps``, conditioned and augmented."""
        disc = self.discriminator
        assert disc is not None  # only called with a critic
        augment = self.diffaugment

        def critic(image: Tensor) -> Any:
            if self.conditional:
                condition = blurry
                if augment is not None:
                    image, condition = augment(image, condition)
                return disc(image, condition)
            return disc(augment(image) if augment is not None else image)

        return critic

    def _restore_all(self, blurry: Tensor) -> tuple[Tensor, Tensor | list[Tensor]]:
        """(finest output, what the content loss gets: the output or all scales)."""
        multiscale = multiscale_forward(self.generator)
        if self.hparams["multiscale"] and multiscale is not None:
            outputs = list(multiscale(blurry))
            return outputs[-1], outputs
        restored = self.generator(blurry)
        return restored, restored

    def _split(self, blurry: Tensor, sharp: Tensor) -> list[tuple[Tensor, Tensor]]:
        parts = self.micro_batches
        size = blurry.shape[0]
        if size % parts:
            raise ValueError(
                f"a training batch of {size} images cannot be split into {parts} equal "
                f"micro-batches (n_critic {self.n_critic} x accumulate "
                f"{self.hparams['accumulate']}); use a multiple of {parts}"
            )
        step = size // parts
        return list(zip(blurry.split(step), sharp.split(step), strict=True))

    @torch.no_grad()
    def _update_ema(self, step: int) -> None:
        """Move the average toward the weights after GAN step ``step`` (0 for the first)."""
        ema = self.generator_ema
        if ema is None:
            return
        decay = ema_decay_at(float(self.hparams["ema_decay"]), step, self.hparams["ema_warmup"])
        ema_params: list[Tensor] = list(ema.parameters())
        params: list[Tensor] = [p.detach() for p in self.generator.parameters()]
        torch._foreach_lerp_(ema_params, params, 1.0 - decay)
        for ema_buffer, buffer in zip(ema.buffers(), self.generator.buffers(), strict=True):
            ema_buffer.copy_(buffer)

    # -------------------------------------------------------------------------------- training
    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        blurry, sharp = self._unpack(batch)
        step = self.completed_steps
        optimizers = self._optimizers()
        g_opt = optimizers[0]
        micro = self._split(blurry, sharp)
        accumulate = int(self.hparams["accumulate"])
        generator_group = micro[-accumulate:]
        logs: dict[str, Tensor | float] = {}
        # With one micro-batch per update, the critic's last update and the generator's update
        # share one generator forward (as DeblurGAN-v2 does); otherwise fakes for the critic are
        # made without a graph and the generator's group is run again with one.
        shared: tuple[Tensor, Tensor | list[Tensor]] | None = None

        if self.discriminator is not None:
            d_opt = optimizers[1]
            if accumulate == 1:
                # Before toggling the critic's optimiser, which switches the generator's grads off.
                shared = self._restore_all(micro[-1][0])
            self.toggle_optimizer(d_opt)
            for group in range(self.n_critic):
                d_opt.zero_grad(set_to_none=True)
                d_total = torch.zeros((), device=blurry.device)
                for part in micro[group * accumulate : (group + 1) * accumulate]:
                    if shared is not None and group == self.n_critic - 1:
                        fake = shared[0].detach()
                    else:
                        with torch.no_grad():
                            fake = self._restore_all(part[0])[0]
                    d_loss = self.adversarial.d_loss(self._critic(part[0]), part[1], fake)
                    self._guard(d_loss, "the critic loss", step)
                    self.manual_backward(d_loss / accumulate)
                    d_total = d_total + d_loss.detach() / accumulate
                self._clip(d_opt)
                d_opt.step()
                hook = getattr(self.adversarial, "after_critic_step", None)
                if callable(hook):
                    hook(self.discriminator)
            self.untoggle_optimizer(d_opt)
            logs["train/d_loss"] = d_total
            penalty = getattr(self.adversarial, "last_penalty", None)
            if isinstance(penalty, Tensor):
                logs["train/gp"] = penalty.detach()

        self.toggle_optimizer(g_opt)
        g_opt.zero_grad(set_to_none=True)
        g_total = torch.zeros((), device=blurry.device)
        content_total = torch.zeros((), device=blurry.device)
        adv_total = torch.zeros((), device=blurry.device)
        parts_total: dict[str, Tensor] = {}
        for part_blurry, part_sharp in generator_group:
            restored, outputs = shared if shared is not None else self._restore_all(part_blurry)
            content, parts = self.content_loss(outputs, part_sharp)
            g_loss = content
            if self.discriminator is not None:
                adv = self.adversarial.g_loss(self._critic(part_blurry), part_sharp, restored)
                g_loss = content + self.hparams["adv_weight"] * adv
                adv_total = adv_total + adv.detach() / accumulate
            self._guard(g_loss, "the generator loss", step)
            self.manual_backward(g_loss / accumulate)
            g_total = g_total + g_loss.detach() / accumulate
            content_total = content_total + content.detach() / accumulate
            for label, value in parts.items():
                parts_total[label] = parts_total.get(label, 0) + value / accumulate
        self._clip(g_opt)
        g_opt.step()
        self.untoggle_optimizer(g_opt)
        self._update_ema(step)
        if self.discriminator is not None:
            logs["train/adv"] = adv_total

        # The learning rates this step used, before the schedule moves on.
        logs["train/lr_g"] = float(g_opt.param_groups[0]["lr"])
        if self.discriminator is not None:
            logs["train/lr_d"] = float(optimizers[1].param_groups[0]["lr"])
        for scheduler in self._schedulers():
            scheduler.step()

        logs["train/g_loss"] = g_total
        logs["train/content"] = content_total
        logs.update({f"train/content_{label}": value for label, value in parts_total.items()})
        size = blurry.shape[0]
        bar: dict[str, Tensor | float] = {
            key: logs.pop(key) for key in ("train/g_loss", "train/d_loss") if key in logs
        }
        self.log_dict(bar, on_step=True, on_epoch=False, batch_size=size, prog_bar=True)
        self.log_dict(logs, on_step=True, on_epoch=False, batch_size=size)
        return g_total

    # ------------------------------------------------------------------------------ validation
    def _restore(self, blurry: Tensor) -> Tensor:
        height, width = blurry.shape[-2:]
        padded = pad_to_multiple(blurry, self.size_multiple)
        return self.inference_generator(padded)[..., :height, :width].clamp(0, 1)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        blurry, sharp = self._unpack(batch)
        restored = self._restore(blurry)
        size = blurry.shape[0]
        self.log(
            "val/psnr", psnr(restored, sharp).mean(), batch_size=size, sync_dist=True, prog_bar=True
        )
        metrics = {"val/psnr_input": psnr(blurry, sharp).mean()}
        if min(blurry.shape[-2:]) >= _SSIM_WINDOW:
            metrics["val/ssim"] = ssim(restored, sharp).mean()
        self.log_dict(metrics, on_step=False, on_epoch=True, batch_size=size, sync_dist=True)
        if batch_idx == 0 and self.hparams["log_images"] > 0:
            self._log_images(blurry, restored, sharp)

    def _log_images(self, blurry: Tensor, restored: Tensor, sharp: Tensor) -> None:
        from lightning.pytorch.loggers import TensorBoardLogger

        if self._trainer is None or not self.trainer.is_global_zero:
            return
        count = self.hparams["log_images"]
        rows = torch.cat([blurry[:count], restored[:count], sharp[:count]], dim=-1)
        for run_logger in self.loggers:
            if isinstance(run_logger, TensorBoardLogger):
                run_logger.experiment.add_images(
                    "val/blurry_restored_sharp",
                    rows.detach().float().clamp(0, 1).cpu(),
                    self.completed_steps,
                )

    # ----------------------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Global RNG states, so that dropout continues the same stream after a resume.
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        state: dict[str, Any] = {"gan_step": self.completed_steps, "rng": rng}
        # The objective's own state (RaGAN-LS's history pool), for an exact resume.
        adversarial_state = getattr(self.adversarial, "state_dict", None)
        if callable(adversarial_state):
            state["adversarial"] = adversarial_state()
        checkpoint["deblurgan"] = state

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("deblurgan")
        # Only a Trainer resuming a fit takes over the RNG; load_from_checkpoint leaves it alone.
        if not isinstance(state, Mapping) or self._trainer is None:
            return
        rng = state.get("rng", {})
        if isinstance(rng.get("torch"), Tensor):
            torch.set_rng_state(rng["torch"])
        if torch.cuda.is_available() and rng.get("cuda"):
            torch.cuda.set_rng_state_all(rng["cuda"])
        load_adversarial = getattr(self.adversarial, "load_state_dict", None)
        if isinstance(state.get("adversarial"), Mapping) and callable(load_adversarial):
            load_adversarial(dict(state["adversarial"]))
