"""Content losses and their weighted sum against hand computations and numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deblurgan.losses import CONTENT_LOSSES, CharbonnierLoss, WeightedLoss


def _pair() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(2, 3, 5, 6, generator=g), torch.rand(2, 3, 5, 6, generator=g)


def test_content_values_match_numpy() -> None:
    restored, sharp = _pair()
    diff = restored.numpy().astype(np.float64) - sharp.numpy()
    expected = {
        "l1": np.abs(diff).mean(),
        "mse": (diff**2).mean(),
        "charbonnier": np.sqrt(diff**2 + 1e-6).mean(),
    }
    for name, value in expected.items():
        got = CONTENT_LOSSES.build(name)(restored, sharp)
        assert got.ndim == 0
        assert got.item() == pytest.approx(value, rel=1e-5), name


def test_content_hand_values() -> None:
    sharp = torch.zeros(1, 1, 1, 2)
    restored = torch.tensor([[[[3.0, -4.0]]]])
    assert CONTENT_LOSSES.build("l1")(restored, sharp).item() == pytest.approx(3.5)
    assert CONTENT_LOSSES.build("mse")(restored, sharp).item() == pytest.approx(12.5)
    # sqrt(9 + 16) = 5 and sqrt(16 + 16) = sqrt(32).
    charbonnier = CharbonnierLoss(eps=4.0)(restored, sharp).item()
    assert charbonnier == pytest.approx((5 + 32**0.5) / 2)


@pytest.mark.parametrize("name", sorted(CONTENT_LOSSES))
def test_content_gradcheck_and_shape_check(name: str) -> None:
    loss = CONTENT_LOSSES.build(name)
    g = torch.Generator().manual_seed(2)
    restored = torch.rand(1, 3, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    sharp = torch.rand(1, 3, 3, 3, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda r: loss(r, sharp), (restored,))
    with pytest.raises(ValueError, match="same shape"):
        loss(restored, sharp[..., :2])


def test_charbonnier_rejects_bad_eps() -> None:
    with pytest.raises(ValueError, match="eps"):
        CharbonnierLoss(eps=0.0)


def test_weighted_loss_sums_weighted_terms() -> None:
    restored, sharp = _pair()
    loss = WeightedLoss(
        {"l1": 0.5, "mse": {"weight": 2.0}, "smooth": {"name": "charbonnier", "eps": 0.1}}
    )
    total, parts = loss(restored, sharp)
    l1 = (restored - sharp).abs().mean()
    mse = (restored - sharp).square().mean()
    smooth = ((restored - sharp).square() + 0.01).sqrt().mean()
    torch.testing.assert_close(total, 0.5 * l1 + 2.0 * mse + smooth)
    assert list(parts) == ["l1", "mse", "smooth"]
    torch.testing.assert_close(parts["smooth"], smooth)
    assert not parts["l1"].requires_grad


def test_weighted_loss_backpropagates() -> None:
    restored, sharp = _pair()
    restored.requires_grad_(True)
    total, _ = WeightedLoss({"l1": 1.0})(restored, sharp)
    total.backward()
    assert restored.grad is not None


@pytest.mark.parametrize(
    ("terms", "error", "match"),
    [
        ({}, ValueError, "at least one term"),
        ([("l1", 1.0)], TypeError, "mapping"),
        ({"nope": 1.0}, KeyError, "valid names: .*l1"),
        ({"l1": -1.0}, ValueError, "non-negative"),
        ({"l1": float("nan")}, ValueError, "finite"),
        ({"l1": True}, TypeError, "number"),
        ({"l1": "1"}, TypeError, "weight or a mapping"),
        ({"l1": {"weight": "big"}}, TypeError, "number"),
        ({"a.b": {"name": "l1"}}, ValueError, "without '.'"),
        ({"charbonnier": {"eps": -1.0}}, ValueError, "eps"),
        ({"l1": {"size": 3}}, TypeError, "cannot build content loss 'l1'"),
    ],
)
def test_weighted_loss_rejects_bad_config(terms, error, match) -> None:
    with pytest.raises(error, match=match):
        WeightedLoss(terms)
