"""Adversarial objectives: values against hand computations, gradients, and the registry."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import Tensor

import deblurgan
from deblurgan.losses import (
    ADVERSARIAL_LOSSES,
    AdversarialLoss,
    HingeLoss,
    LeastSquaresLoss,
    NonSaturatingLoss,
    RelativisticAverageLSLoss,
    WassersteinGPLoss,
    WassersteinLoss,
)


def _map_reader(image: Tensor) -> list[Tensor]:
    """A fake two-scale critic whose logit maps are written into the image itself.

    Scale 1 is channel 0, row 0, columns 0-1; scale 2 is channel 1 at pixel (0, 0).
    """
    return [image[:, 0, :1, :2], image[:, 1, :1, :1]]


def _image(scale1: list[float], scale2: float) -> Tensor:
    image = torch.zeros(1, 3, 2, 2)
    image[0, 0, 0, :2] = torch.tensor(scale1)
    image[0, 1, 0, 0] = scale2
    return image


# real maps: scale 1 = [1, 3], scale 2 = [2]; fake maps: scale 1 = [0, 2], scale 2 = [-1].
REAL = _image([1.0, 3.0], 2.0)
FAKE = _image([0.0, 2.0], -1.0)

# Worked by hand, scale by scale, then averaged over the two scales.
# ragan_ls, scale 1: mean r = 2, mean f = 1.
#   D: (r - 1 - 1) = [-1, 1] -> 1;  (f - 2 + 1) = [-1, 1] -> 1;  sum 2
#   G: (f - 2 - 1) = [-3, -1] -> 5; (r - 1 + 1) = [1, 3] -> 5;   sum 10
# ragan_ls, scale 2: r = 2, f = -1.
#   D: (2 + 1 - 1)^2 = 4; (-1 - 2 + 1)^2 = 4; sum 8
#   G: (-1 - 2 - 1)^2 = 16; (2 + 1 + 1)^2 = 16; sum 32
# lsgan, scale 1: D ((0 + 4) / 2 + (0 + 4) / 2) / 2 = 2; G ((1 + 1) / 2) / 2 = 0.5
# lsgan, scale 2: D ((2 - 1)^2 + (-1)^2) / 2 = 1;     G (-1 - 1)^2 / 2 = 2
# hinge, scale 1: D relu(1 - [1, 3]) -> 0, relu(1 + [0, 2]) -> 2; sum 2;  G -mean f = -1
# hinge, scale 2: D relu(1 - 2) = 0, relu(1 - 1) = 0; sum 0;            G 1
HAND = {
    "ragan_ls": ((2 + 8) / 2, (10 + 32) / 2),
    "lsgan": ((2 + 1) / 2, (0.5 + 2) / 2),
    "hinge": ((2 + 0) / 2, (-1 + 1) / 2),
}


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(x))


# vanilla: BCE(x, 1) = softplus(-x), BCE(x, 0) = softplus(x).
HAND["vanilla"] = (
    (
        (_softplus(-np.array([1.0, 3.0])).mean() + _softplus(np.array([0.0, 2.0])).mean())
        + (_softplus(np.array(-2.0)) + _softplus(np.array(-1.0)))
    )
    / 2,
    (_softplus(-np.array([0.0, 2.0])).mean() + _softplus(np.array(1.0))) / 2,
)


@pytest.mark.parametrize("name", sorted(HAND))
def test_adversarial_values_match_hand_computation(name: str) -> None:
    loss = ADVERSARIAL_LOSSES.build(name)
    d_expected, g_expected = HAND[name]
    assert loss.d_loss(_map_reader, REAL, FAKE).item() == pytest.approx(d_expected, abs=1e-6)
    assert loss.g_loss(_map_reader, REAL, FAKE).item() == pytest.approx(g_expected, abs=1e-6)


def test_ragan_ls_matches_formula_on_random_maps() -> None:
    rng = np.random.default_rng(0)
    real_maps = [rng.normal(size=(2, 1, 5, 5)), rng.normal(size=(2, 1, 2, 2))]
    fake_maps = [rng.normal(size=(2, 1, 5, 5)), rng.normal(size=(2, 1, 2, 2))]
    table = {"real": real_maps, "fake": fake_maps}

    def critic(image: Tensor) -> list[Tensor]:
        key = "real" if image[0, 0, 0, 0] > 0 else "fake"
        return [torch.from_numpy(m) for m in table[key]]

    real, fake = torch.ones(2, 3, 4, 4), -torch.ones(2, 3, 4, 4)
    d_terms, g_terms = [], []
    for r, f in zip(real_maps, fake_maps, strict=True):
        d_terms.append(np.mean((r - f.mean() - 1) ** 2) + np.mean((f - r.mean() + 1) ** 2))
        g_terms.append(np.mean((f - r.mean() - 1) ** 2) + np.mean((r - f.mean() + 1) ** 2))
    loss = ADVERSARIAL_LOSSES.build("ragan_ls")
    assert loss.d_loss(critic, real, fake).item() == pytest.approx(np.mean(d_terms), rel=1e-12)
    assert loss.g_loss(critic, real, fake).item() == pytest.approx(np.mean(g_terms), rel=1e-12)


@pytest.mark.parametrize("name", sorted(ADVERSARIAL_LOSSES))
def test_d_loss_detaches_fake_and_g_loss_reaches_it(name: str) -> None:
    loss = ADVERSARIAL_LOSSES.build(name)
    assert isinstance(loss, AdversarialLoss)
    weight = torch.randn(1, 3, 1, 1, requires_grad=True)

    def critic(image: Tensor) -> list[Tensor]:
        return [F.conv2d(image, weight), F.conv2d(image, weight).mean((2, 3), keepdim=True)]

    real = torch.rand(2, 3, 8, 8)
    fake = torch.rand(2, 3, 8, 8, requires_grad=True)
    loss.d_loss(critic, real, fake).backward()
    assert fake.grad is None
    assert weight.grad is not None and weight.grad.abs().sum() > 0
    loss.g_loss(critic, real, fake).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0


@pytest.mark.parametrize("name", sorted(ADVERSARIAL_LOSSES))
def test_adversarial_gradcheck_with_linear_critic(name: str) -> None:
    loss = ADVERSARIAL_LOSSES.build(name)
    g = torch.Generator().manual_seed(1)
    real = torch.rand(2, 3, 4, 4, generator=g, dtype=torch.float64, requires_grad=True)
    fake = torch.rand(2, 3, 4, 4, generator=g, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(1, 3, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(1, generator=g, dtype=torch.float64, requires_grad=True)

    def critic_of(w: Tensor, b: Tensor):
        def critic(image: Tensor) -> list[Tensor]:
            local = F.conv2d(image, w, b)  # (B, 1, 3, 3)
            return [local, local.mean((2, 3), keepdim=True)]

        return critic

    def d(real_: Tensor, fake_: Tensor, w: Tensor, b: Tensor) -> Tensor:
        return loss.d_loss(critic_of(w, b), real_, fake_)

    def gen(real_: Tensor, fake_: Tensor, w: Tensor, b: Tensor) -> Tensor:
        return loss.g_loss(critic_of(w, b), real_, fake_)

    # d_loss: gradients w.r.t. the critic and the real image (fake is detached inside).
    assert torch.autograd.gradcheck(lambda r, w, b: d(r, fake, w, b), (real, weight, bias))
    # g_loss: gradients w.r.t. the fake image and the critic.
    assert torch.autograd.gradcheck(lambda f, w, b: gen(real, f, w, b), (fake, weight, bias))


def test_bare_tensor_critic_counts_as_one_scale() -> None:
    loss = ADVERSARIAL_LOSSES.build("ragan_ls")
    listed = loss.d_loss(lambda x: [x.mean(1)], REAL, FAKE)
    bare = loss.d_loss(lambda x: x.mean(1), REAL, FAKE)
    torch.testing.assert_close(listed, bare)


def test_critic_contract_errors() -> None:
    loss = ADVERSARIAL_LOSSES.build("ragan_ls")
    with pytest.raises(TypeError, match="non-empty list of tensors"):
        loss.d_loss(lambda x: [], REAL, FAKE)
    with pytest.raises(TypeError, match="non-empty list of tensors"):
        loss.g_loss(lambda x: 3.0, REAL, FAKE)

    def moody(image: Tensor) -> list[Tensor]:
        return [image] if image[0, 0, 0, 0] == 1 else [image, image]

    with pytest.raises(ValueError, match="1 maps for real and 2 for fake"):
        loss.d_loss(moody, REAL, FAKE)


def test_registry_names_are_public() -> None:
    assert {"ragan_ls", "lsgan", "vanilla", "hinge"} <= set(ADVERSARIAL_LOSSES)
    assert math.isfinite(
        ADVERSARIAL_LOSSES.from_spec({"name": "lsgan"}).d_loss(_map_reader, REAL, FAKE).item()
    )


# ---------------------------------------------------------------------------------- WGAN
# wgan on _map_reader: scale 1 mean f - mean r = 1 - 2 = -1, scale 2: -1 - 2 = -3 -> d = -2;
# g: scale 1 -mean f = -1, scale 2 -(-1) = 1 -> 0.
HAND["wgan"] = ((-1 - 3) / 2, (-1 + 1) / 2)


def test_wgan_gp_on_map_reader_uses_the_mean_of_each_map() -> None:
    # The critic reads pixels, so its gradient is known: scale 1's score is the mean of two
    # pixels (gradient 1/2 at each, norm sqrt(1/2)); scale 2's is one pixel (norm 1).
    loss = ADVERSARIAL_LOSSES.build("wgan_gp", gp_weight=10.0)
    penalty = ((math.sqrt(0.5) - 1) ** 2 + (1 - 1) ** 2) / 2
    d = loss.d_loss(_map_reader, REAL, FAKE)
    assert d.item() == pytest.approx(HAND["wgan"][0] + 10 * penalty, abs=1e-6)
    assert loss.last_penalty is not None and not loss.last_penalty.requires_grad
    assert loss.last_penalty.item() == pytest.approx(penalty, abs=1e-6)
    assert loss.g_loss(_map_reader, REAL, FAKE).item() == pytest.approx(HAND["wgan"][1], abs=1e-6)


def _linear_critic(weights: list[Tensor]):
    """One map per sample of K elements, element k = <w_k, x>: score mean_k <w_k, x>."""

    def critic(image: Tensor) -> list[Tensor]:
        return [torch.stack([(image * w).sum((1, 2, 3)) for w in weights], dim=1)]

    return critic


def test_gradient_penalty_of_a_linear_critic_is_closed_form() -> None:
    g = torch.Generator().manual_seed(3)
    w = torch.randn(3, 4, 4, generator=g, dtype=torch.float64)
    real = torch.rand(5, 3, 4, 4, generator=g, dtype=torch.float64)
    fake = torch.rand(5, 3, 4, 4, generator=g, dtype=torch.float64)
    loss = ADVERSARIAL_LOSSES.build("wgan_gp", gp_weight=7.0)
    # D(x) = <w, x>: gradient w everywhere, whatever eps is.
    wn, rn, fn = w.numpy(), real.numpy(), fake.numpy()
    d_real = (rn * wn).sum((1, 2, 3)).mean()
    d_fake = (fn * wn).sum((1, 2, 3)).mean()
    expected = d_fake - d_real + 7.0 * (np.linalg.norm(wn) - 1) ** 2
    assert loss.d_loss(_linear_critic([w]), real, fake).item() == pytest.approx(expected)
    # Two elements per map: the score is their mean, its gradient (w1 + w2) / 2.
    w2 = torch.randn(3, 4, 4, generator=g, dtype=torch.float64)
    mean_w = (wn + w2.numpy()) / 2
    expected2 = (
        (fn * mean_w).sum((1, 2, 3)).mean()
        - (rn * mean_w).sum((1, 2, 3)).mean()
        + 7.0 * (np.linalg.norm(mean_w) - 1) ** 2
    )
    assert loss.d_loss(_linear_critic([w, w2]), real, fake).item() == pytest.approx(expected2)
    # Two scales: penalties (and Wasserstein terms) are averaged.
    both = lambda x: _linear_critic([w])(x) + _linear_critic([w, w2])(x)  # noqa: E731
    assert loss.d_loss(both, real, fake).item() == pytest.approx((expected + expected2) / 2)


def test_gradient_penalty_of_a_quadratic_critic_by_hand() -> None:
    # D(x) = c ||x||^2 has gradient 2 c x, so the penalty is E[(2 c ||x_hat|| - 1)^2].
    g = torch.Generator().manual_seed(4)
    real = torch.rand(4, 3, 2, 2, generator=g, dtype=torch.float64)
    fake = torch.rand(4, 3, 2, 2, generator=g, dtype=torch.float64)
    c = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)

    def critic(image: Tensor) -> list[Tensor]:
        return [c * image.square().sum((1, 2, 3))]

    # real == fake: x_hat = real for any eps.
    loss = ADVERSARIAL_LOSSES.build("wgan_gp", gp_weight=10.0)
    norms = np.linalg.norm(real.numpy().reshape(4, -1), axis=1)
    penalty = np.mean((2 * 0.3 * norms - 1) ** 2)
    d = loss.d_loss(critic, real, real.clone())
    assert d.item() == pytest.approx(10.0 * penalty)
    # The penalty trains the critic: d/dc = 10 E[2 (2 c n - 1) 2 n], by hand.
    (grad_c,) = torch.autograd.grad(d, c)
    assert grad_c.item() == pytest.approx(10.0 * np.mean(2 * (2 * 0.3 * norms - 1) * 2 * norms))
    assert grad_c.item() != 0

    # real = 0: x_hat = (1 - eps) fake, eps the documented draw of B numbers U[0, 1).
    eps = torch.rand(4, generator=torch.Generator().manual_seed(11)).double().numpy()  # float32
    seeded = ADVERSARIAL_LOSSES.build("wgan_gp", generator=torch.Generator().manual_seed(11))
    zero = torch.zeros_like(fake)
    fake_norms = np.linalg.norm(fake.numpy().reshape(4, -1), axis=1)
    wasserstein = 0.3 * (fake.numpy() ** 2).sum((1, 2, 3)).mean()
    expected = wasserstein + 10.0 * np.mean((2 * 0.3 * (1 - eps) * fake_norms - 1) ** 2)
    assert seeded.d_loss(critic, zero, fake).item() == pytest.approx(expected)


def _tanh_critic(w: Tensor, b: Tensor):
    def critic(image: Tensor) -> list[Tensor]:
        local = torch.tanh(F.conv2d(image, w, b))  # (B, 1, 3, 3)
        return [local, local.mean((2, 3), keepdim=True)]

    return critic


def test_gradient_penalty_gradcheck_with_a_nonlinear_critic() -> None:
    g = torch.Generator().manual_seed(5)
    real = torch.rand(2, 3, 4, 4, generator=g, dtype=torch.float64, requires_grad=True)
    fake = torch.rand(2, 3, 4, 4, generator=g, dtype=torch.float64)
    w = torch.randn(1, 3, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, generator=g, dtype=torch.float64, requires_grad=True)

    def penalty(real_: Tensor, w_: Tensor, b_: Tensor) -> Tensor:
        # A freshly seeded generator per call: the same eps every evaluation.
        loss = WassersteinGPLoss(generator=torch.Generator().manual_seed(0))
        return loss.gradient_penalty(_tanh_critic(w_, b_), real_, fake)

    def d(real_: Tensor, w_: Tensor, b_: Tensor) -> Tensor:
        loss = WassersteinGPLoss(generator=torch.Generator().manual_seed(0))
        return loss.d_loss(_tanh_critic(w_, b_), real_, fake)

    assert torch.autograd.gradcheck(penalty, (real, w, b))
    assert torch.autograd.gradcheck(d, (real, w, b))
    # The penalty contributes to the critic's gradient: with and without it they differ.
    with_gp = torch.autograd.grad(d(real, w, b), w)[0]
    without = torch.autograd.grad(
        WassersteinGPLoss(gp_weight=0.0).d_loss(_tanh_critic(w, b), real, fake), w
    )[0]
    assert torch.autograd.grad(penalty(real, w, b), w)[0].abs().sum() > 0
    assert not torch.allclose(with_gp, without)


def test_wgan_gp_penalty_bookkeeping() -> None:
    critic = _linear_critic([torch.ones(3, 2, 2)])
    real, fake = torch.rand(2, 3, 2, 2), torch.rand(2, 3, 2, 2)
    loss = WassersteinGPLoss()
    assert loss.last_penalty is None
    with torch.no_grad():  # the penalty needs gradients; it turns them on by itself
        loss.d_loss(critic, real, fake)
    assert loss.last_penalty is not None
    assert loss.last_penalty.item() == pytest.approx((math.sqrt(12) - 1) ** 2, rel=1e-5)
    plain = WassersteinGPLoss(gp_weight=0)
    torch.testing.assert_close(
        plain.d_loss(critic, real, fake), WassersteinLoss().d_loss(critic, real, fake)
    )
    assert plain.last_penalty is None
    with pytest.raises(ValueError, match="same shape"):
        loss.gradient_penalty(critic, real, fake[:1])
    with pytest.raises(ValueError, match="batch dimension 2"):
        loss.d_loss(lambda x: [x.sum()], real, fake)


def test_wgan_clipping_clips_and_leaves_in_range_parameters_alone() -> None:
    critic = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.Linear(2, 2))
    with torch.no_grad():
        for p in critic.parameters():
            p.copy_(torch.linspace(-0.05, 0.05, p.numel()).reshape(p.shape))
    before = [p.detach().clone() for p in critic.parameters()]
    loss = ADVERSARIAL_LOSSES.build("wgan", clip_value=0.02)
    loss.after_critic_step(critic)
    for old, new in zip(before, critic.parameters(), strict=True):
        assert new.abs().max() <= 0.02
        inside = old.abs() <= 0.02
        assert torch.equal(new[inside], old[inside])  # in range: untouched
        assert torch.equal(new[~inside], old[~inside].sign() * 0.02)  # out of range: the bound
    assert any((~(old.abs() <= 0.02)).any() for old in before)  # the test did clip something

    unclipped = WassersteinLoss(clip_value=None)
    critic2 = torch.nn.Linear(2, 2)
    with torch.no_grad():
        critic2.weight.fill_(3.0)
    unclipped.after_critic_step(critic2)
    assert torch.all(critic2.weight == 3.0)
    with pytest.raises(TypeError, match=r"nn\.Module"):
        loss.after_critic_step(lambda x: [x])  # type: ignore[arg-type]


# ---------------------------------------------------------------------- vanilla: labels
def test_label_smoothing_changes_the_real_target_only() -> None:
    loss = NonSaturatingLoss(label_smoothing=0.2)
    real_logits, fake_logits = [1.0, 3.0], [0.0, 2.0]
    real, fake = _image(real_logits, 2.0), _image(fake_logits, -1.0)
    t = 0.8  # BCE(x, t) = t softplus(-x) + (1 - t) softplus(x); fake targets stay 0

    def bce(x: np.ndarray, target: float) -> float:
        return float(np.mean(target * _softplus(-x) + (1 - target) * _softplus(x)))

    scale1 = bce(np.array(real_logits), t) + bce(np.array(fake_logits), 0.0)
    scale2 = bce(np.array([2.0]), t) + bce(np.array([-1.0]), 0.0)
    assert loss.d_loss(_map_reader, real, fake).item() == pytest.approx((scale1 + scale2) / 2)
    # The generator's target is still 1.
    torch.testing.assert_close(
        loss.g_loss(_map_reader, real, fake), NonSaturatingLoss().g_loss(_map_reader, real, fake)
    )


def _pixel_critic(image: Tensor) -> list[Tensor]:
    return [image[:, 0, :1, :1]]  # (B, 1, 1): pixel (0, 0) of channel 0 is the logit


def _flipped_fraction(loss: NonSaturatingLoss, batch: int, side: str) -> float:
    """Fraction of flipped labels on one side, read off the loss with logits 10 and 0."""
    big, zero = torch.full((batch, 3, 1, 1), 10.0), torch.zeros(batch, 3, 1, 1)
    real, fake = (big, zero) if side == "real" else (zero, big)
    value = loss.d_loss(_pixel_critic, real, fake).item() - math.log(2)  # BCE(0, t) = log 2
    right, wrong = math.log1p(math.exp(-10)), math.log1p(math.exp(10))  # BCE(10, 1), BCE(10, 0)
    if side == "fake":  # the fake label is 0: BCE(10, 0) is right
        right, wrong = wrong, right
    return (value - right) / (wrong - right)


@pytest.mark.parametrize("side", ["real", "fake"])
def test_label_noise_flips_the_expected_fraction_reproducibly(side: str) -> None:
    fraction = _flipped_fraction(
        NonSaturatingLoss(label_noise=0.2, generator=torch.Generator().manual_seed(0)), 4000, side
    )
    assert fraction == pytest.approx(0.2, abs=0.03)  # 5 standard deviations of Binomial/4000
    again = _flipped_fraction(
        NonSaturatingLoss(label_noise=0.2, generator=torch.Generator().manual_seed(0)), 4000, side
    )
    other = _flipped_fraction(
        NonSaturatingLoss(label_noise=0.2, generator=torch.Generator().manual_seed(1)), 4000, side
    )
    assert again == fraction and other != fraction


def test_label_noise_flips_whole_samples_and_uses_the_default_generator() -> None:
    # A sample whose map is [10, 20]: its real-part BCE is ~0 (label kept) or ~15 (flipped);
    # per-element flips would also give ~5 or ~10.
    loss = NonSaturatingLoss(label_noise=0.4)
    real = torch.zeros(1, 3, 1, 2)
    real[0, 0, 0] = torch.tensor([10.0, 20.0])
    fake = torch.zeros(1, 3, 1, 2)
    values = set()
    for seed in range(40):
        torch.manual_seed(seed)
        value = loss.d_loss(lambda x: [x[:, 0]], real, fake).item() - math.log(2)
        values.add(round(value))
        torch.manual_seed(seed)  # the default generator: reseeding reproduces the draw
        assert loss.d_loss(lambda x: [x[:, 0]], real, fake).item() - math.log(2) == value
    assert values == {0, 15}
    # Without noise nothing is drawn from the default generator.
    state = torch.get_rng_state()
    NonSaturatingLoss(label_smoothing=0.1).d_loss(_map_reader, REAL, FAKE)
    assert torch.equal(torch.get_rng_state(), state)


# -------------------------------------------------------------------- ragan_ls: pools
def _scores_image(values: list[float]) -> Tensor:
    """A batch whose per-sample score (for _pixel_critic) is the given value."""
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 3, 1, 1).clone()


def test_ragan_ls_score_history_by_hand() -> None:
    loss = RelativisticAverageLSLoss(pool_size=3)
    # Step 1: pools real [1, 3], fake [0, 2]; means 2 and 1 as without a pool.
    d1 = loss.d_loss(_pixel_critic, _scores_image([1, 3]), _scores_image([0, 2]))
    assert d1.item() == pytest.approx(np.mean([(-1) ** 2, 1**2]) + np.mean([(-1) ** 2, 1**2]))
    # Step 2: FIFO of 3 -> real [3, 5, 7] (mean 5), fake [2, 4, -2] (mean 4/3).
    r, f = np.array([5.0, 7.0]), np.array([4.0, -2.0])
    d2 = loss.d_loss(_pixel_critic, _scores_image([5, 7]), _scores_image([4, -2]))
    expected = np.mean((r - 4 / 3 - 1) ** 2) + np.mean((f - 5 + 1) ** 2)
    assert d2.item() == pytest.approx(expected)
    state = loss.state_dict()
    assert [t.item() for t in state["real_scores"][0]] == [3, 5, 7]
    assert [t.item() for t in state["fake_scores"][0]] == [2, 4, -2]
    assert not any(t.requires_grad for t in state["fake_scores"][0])
    # The generator: against the pooled means (no gradient through them).
    fake = _scores_image([1.0, 2.0]).requires_grad_(True)
    g = loss.g_loss(_pixel_critic, _scores_image([0, 0]), fake)
    fr, rr = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    assert g.item() == pytest.approx(np.mean((fr - 5 - 1) ** 2) + np.mean((rr - 4 / 3 + 1) ** 2))
    g.backward()
    assert fake.grad is not None
    # d/df_i of mean((f - 6)^2) = 2 (f_i - 6) / 2, on channel 0 only.
    torch.testing.assert_close(fake.grad[:, 0, 0, 0], torch.tensor([-5.0, -4.0]))
    # g_loss does not change the pools.
    assert [t.item() for t in loss.state_dict()["fake_scores"][0]] == [2, 4, -2]


def test_ragan_ls_score_history_before_any_critic_step_uses_batch_means() -> None:
    pooled = RelativisticAverageLSLoss(pool_size=5)
    plain = RelativisticAverageLSLoss()
    torch.testing.assert_close(
        pooled.g_loss(_map_reader, REAL, FAKE), plain.g_loss(_map_reader, REAL, FAKE)
    )
    pooled.d_loss(_map_reader, REAL, FAKE)
    with pytest.raises(ValueError, match="holds 2 scales"):
        pooled.d_loss(_pixel_critic, REAL, FAKE)


def _spy() -> tuple[list[list[float]], object]:
    seen: list[list[float]] = []

    def critic(image: Tensor) -> list[Tensor]:
        seen.append(image[:, 0, 0, 0].tolist())
        return [image[:, 0, :1, :1]]

    return seen, critic


def _run_image_pool(loss: RelativisticAverageLSLoss, start: int, steps: int) -> list[list[float]]:
    """Feed fakes numbered start, start + 1, ... two per step; return what the critic saw."""
    seen, critic = _spy()
    for step in range(steps):
        ids = [start + 2 * step, start + 2 * step + 1]
        loss.d_loss(critic, -_scores_image([1.0, 1.0]), _scores_image(ids))
    return seen[1::2]  # d_loss runs the critic on real, then on fake


def test_ragan_ls_image_pool_fills_then_mixes() -> None:
    loss = RelativisticAverageLSLoss(image_pool_size=4, generator=torch.Generator().manual_seed(0))
    seen = _run_image_pool(loss, 1, 2)
    assert seen == [[1, 2], [3, 4]]  # filling: the new images, stored
    stored = sorted(t[0, 0, 0].item() for t in loss.state_dict()["fake_images"])
    assert stored == [1, 2, 3, 4]
    used_stored = 0
    pool = set(stored)
    for step in range(200):
        ids = [5 + 2 * step, 6 + 2 * step]
        (out,) = _run_image_pool(loss, ids[0], 1)
        for new, got in zip(ids, out, strict=True):
            if got != new:  # an old image came back and the new one took its place
                assert got in pool
                pool = (pool - {got}) | {new}
                used_stored += 1
        assert pool == {t[0, 0, 0].item() for t in loss.state_dict()["fake_images"]}
    assert used_stored / 400 == pytest.approx(0.5, abs=0.1)
    # Stored detached; g_loss ignores the pool.
    assert not any(t.requires_grad for t in loss.state_dict()["fake_images"])
    torch.testing.assert_close(
        loss.g_loss(_map_reader, REAL, FAKE),
        RelativisticAverageLSLoss().g_loss(_map_reader, REAL, FAKE),
    )


def test_ragan_ls_pools_round_trip_through_a_weights_only_checkpoint() -> None:
    def make(seed: int) -> RelativisticAverageLSLoss:
        return RelativisticAverageLSLoss(
            pool_size=3, image_pool_size=3, generator=torch.Generator().manual_seed(seed)
        )

    a = make(0)
    _run_image_pool(a, 1, 4)
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert set(state) == {"generator", "real_scores", "fake_scores", "fake_images"}

    def continue_(loss: RelativisticAverageLSLoss) -> tuple[list[list[float]], list[float]]:
        seen, critic = _spy()
        values = []
        for step in range(6):
            real = _scores_image([float(step), -1.0])
            fake = _scores_image([100.0 + 2 * step, 101.0 + 2 * step])
            values.append(loss.d_loss(critic, real, fake).item())
            values.append(loss.g_loss(critic, real, fake).item())
        return seen, values

    expected = continue_(a)
    b = make(123)
    b.load_state_dict(state)
    assert continue_(b) == expected
    # Not vacuous: without the generator's state, or without the pools, the run differs.
    c = make(123)
    c.load_state_dict({k: v for k, v in state.items() if k != "generator"})
    assert continue_(c) != expected
    assert continue_(make(0)) != expected


# ------------------------------------------------------------ hooks on every objective
N_CRITIC = {"wgan": 5, "wgan_gp": 5}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL_LOSSES))
def test_every_objective_has_the_hooks(name: str) -> None:
    loss = ADVERSARIAL_LOSSES.build(name)
    assert isinstance(loss.n_critic, int) and loss.n_critic == N_CRITIC.get(name, 1)
    critic = torch.nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.fill_(0.005)  # inside every clip range: no objective changes it
    loss.after_critic_step(critic)
    assert torch.all(critic.weight == 0.005)
    loss.d_loss(_map_reader, REAL, FAKE)
    buffer = io.BytesIO()
    torch.save(loss.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert isinstance(state, dict)
    ADVERSARIAL_LOSSES.build(name).load_state_dict(state)
    with pytest.raises(ValueError, match="unexpected state keys"):
        loss.load_state_dict({"nonsense": 1})
    assert repr(loss).startswith(type(loss).__name__ + "(")


def test_stateless_objectives_have_empty_state() -> None:
    for name in ("lsgan", "hinge", "vanilla", "wgan", "wgan_gp", "ragan_ls"):
        assert ADVERSARIAL_LOSSES.build(name).state_dict() == {}
    seeded = NonSaturatingLoss(label_noise=0.1, generator=torch.Generator().manual_seed(0))
    assert set(seeded.state_dict()) == {"generator"}
    assert "generator=torch.Generator(device='cpu')" in repr(seeded)


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "match"),
    [
        ("vanilla", {"label_smoothing": 1.0}, ValueError, "label_smoothing must be in .* 1.0"),
        ("vanilla", {"label_smoothing": -0.1}, ValueError, "-0.1"),
        ("vanilla", {"label_noise": 0.5}, ValueError, "label_noise must be in .* 0.5"),
        ("vanilla", {"label_noise": "0.1"}, TypeError, "must be a number, got '0.1'"),
        ("vanilla", {"generator": 3}, TypeError, "torch.Generator or None, got 3"),
        ("wgan", {"clip_value": 0.0}, ValueError, r"clip_value must be in \(0"),
        ("wgan", {"clip_value": float("nan")}, ValueError, "nan"),
        ("wgan", {"n_critic": 0}, ValueError, "n_critic must be an integer >= 1, got 0"),
        ("wgan", {"n_critic": 2.0}, TypeError, "n_critic must be an integer, got 2.0"),
        ("wgan_gp", {"gp_weight": -1.0}, ValueError, "gp_weight must be in .* -1.0"),
        ("wgan_gp", {"n_critic": True}, TypeError, "got True"),
        ("ragan_ls", {"pool_size": -1}, ValueError, "pool_size must be an integer >= 0, got -1"),
        ("ragan_ls", {"image_pool_size": 1.5}, TypeError, "image_pool_size .* got 1.5"),
    ],
)
def test_options_are_validated(
    name: str, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        ADVERSARIAL_LOSSES.get(name)(**kwargs)


def test_reprs_show_the_options() -> None:
    assert repr(ADVERSARIAL_LOSSES.build("wgan", clip_value=None, n_critic=3)) == (
        "WassersteinLoss(clip_value=None, n_critic=3)"
    )
    assert repr(WassersteinGPLoss(gp_weight=5)) == "WassersteinGPLoss(gp_weight=5.0, n_critic=5)"
    assert repr(NonSaturatingLoss(label_noise=0.05)) == (
        "NonSaturatingLoss(label_smoothing=0.0, label_noise=0.05)"
    )
    assert repr(RelativisticAverageLSLoss(pool_size=50)) == (
        "RelativisticAverageLSLoss(pool_size=50, image_pool_size=0)"
    )
    assert repr(LeastSquaresLoss()) == "LeastSquaresLoss()" and repr(HingeLoss()) == "HingeLoss()"


# ---------------------------------------------------------------------------- configs
CONFIGS = Path(deblurgan.__file__).parent / "configs" / "adversarial"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_adversarial_config_builds(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())
    assert spec["name"] == path.stem
    assert "_target_" not in spec
    loss = ADVERSARIAL_LOSSES.from_spec(spec)
    assert math.isfinite(loss.d_loss(_map_reader, REAL, FAKE).item())


def test_every_registered_objective_has_a_config() -> None:
    assert {p.stem for p in CONFIGS.glob("*.yaml")} == set(ADVERSARIAL_LOSSES)
