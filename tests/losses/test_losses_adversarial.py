"""Adversarial objectives: values against hand computations, gradients, and the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.losses import ADVERSARIAL_LOSSES, AdversarialLoss


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
