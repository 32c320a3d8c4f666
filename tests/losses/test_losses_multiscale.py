"""Multi-scale content losses: per-scale sums checked by hand and against MIMO-UNet's recipe."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from deblurgan.losses import FFTLoss, L1Loss, MSELoss, MultiScaleLoss, WeightedLoss
from deblurgan.losses.multiscale import multiscale_loss


def _two_scales() -> tuple[list[torch.Tensor], torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    sharp = torch.rand(2, 3, 8, 12, generator=g)
    outputs = [torch.rand(2, 3, 4, 6, generator=g), torch.rand(2, 3, 8, 12, generator=g)]
    return outputs, sharp


def test_multiscale_l1_by_hand_on_two_scales() -> None:
    # sharp 2x2 -> bilinear half size (align_corners=False, exact factor 2) = the mean of the four.
    sharp = torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    coarse = torch.tensor([[[[2.0]]]])  # |2 - 1.5| = 0.5
    fine = torch.tensor([[[[1.0, 1.0], [1.0, 1.0]]]])  # (1 + 0 + 1 + 2) / 4 = 1
    assert MultiScaleLoss(L1Loss())([coarse, fine], sharp).item() == pytest.approx(1.5)
    # A lone tensor is one scale.
    assert MultiScaleLoss(L1Loss())(fine, sharp).item() == pytest.approx(1.0)


def test_multiscale_matches_mimo_unet_train_py() -> None:
    # MIMO-UNet train.py: label_img2 = F.interpolate(label, scale_factor=0.5, mode="bilinear"),
    # label_img4 with 0.25; l1 + l2 + l3 and f1 + f2 + f3 summed without weights.
    g = torch.Generator().manual_seed(1)
    sharp = torch.rand(1, 3, 16, 24, generator=g)
    outputs = [torch.rand(1, 3, 4, 6, generator=g), torch.rand(1, 3, 8, 12, generator=g)]
    outputs.append(torch.rand(1, 3, 16, 24, generator=g))
    label2 = F.interpolate(sharp, scale_factor=0.5, mode="bilinear")
    label4 = F.interpolate(sharp, scale_factor=0.25, mode="bilinear")
    labels = [label4, label2, sharp]
    expected_l1 = sum((o - t).abs().mean() for o, t in zip(outputs, labels, strict=True))
    fft = [torch.view_as_real(torch.fft.fft2(x)) for x in outputs + labels]
    expected_fft = sum((fft[k] - fft[k + 3]).abs().mean() for k in range(3))
    total, parts = WeightedLoss({"l1": 1.0, "fft": 0.1})(outputs, sharp)
    torch.testing.assert_close(parts["l1"], expected_l1)
    torch.testing.assert_close(parts["fft"], expected_fft)
    torch.testing.assert_close(total, expected_l1 + 0.1 * expected_fft)
    torch.testing.assert_close(MultiScaleLoss(FFTLoss())(outputs, sharp), expected_fft)


def test_weighted_loss_terms_can_skip_the_coarse_scales() -> None:
    outputs, sharp = _two_scales()
    loss = WeightedLoss({"l1": 1.0, "mse": {"weight": 2.0, "multiscale": False}})
    total, parts = loss(outputs, sharp)
    coarse_sharp = F.interpolate(sharp, size=(4, 6), mode="bilinear", align_corners=False)
    l1 = (outputs[0] - coarse_sharp).abs().mean() + (outputs[1] - sharp).abs().mean()
    mse = (outputs[1] - sharp).square().mean()  # the finest output only
    torch.testing.assert_close(parts["l1"], l1)
    torch.testing.assert_close(parts["mse"], mse)
    torch.testing.assert_close(total, l1 + 2 * mse)
    assert "finest only" in repr(loss)
    # A single tensor is unaffected by the switch; a tuple works like a list.
    single, _ = loss(outputs[1], sharp)
    torch.testing.assert_close(single, (outputs[1] - sharp).abs().mean() + 2 * mse)
    torch.testing.assert_close(loss(tuple(outputs), sharp)[0], total)


def test_multiscale_gradients_reach_every_scale() -> None:
    outputs, sharp = _two_scales()
    for o in outputs:
        o.requires_grad_(True)
    total, _ = WeightedLoss({"l1": 1.0, "fft": 0.1})(outputs, sharp)
    total.backward()
    assert all(o.grad is not None and o.grad.abs().sum() > 0 for o in outputs)
    g = torch.Generator().manual_seed(2)
    small = [torch.rand(1, 2, 2, 3, generator=g, dtype=torch.float64, requires_grad=True)]
    small.append(torch.rand(1, 2, 4, 6, generator=g, dtype=torch.float64, requires_grad=True))
    target = torch.rand(1, 2, 4, 6, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda a, b: multiscale_loss(MSELoss(), [a, b], target), tuple(small)
    )


def test_multiscale_resize_modes() -> None:
    sharp = torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    coarse = torch.zeros(1, 1, 1, 1)
    # nearest picks the top-left pixel (0), area the mean (1.5).
    assert MultiScaleLoss(L1Loss(), mode="nearest")([coarse], sharp).item() == 0.0
    assert MultiScaleLoss(L1Loss(), mode="area")([coarse], sharp).item() == 1.5


@pytest.mark.parametrize(
    ("restored", "error", "match"),
    [
        ([], ValueError, "empty"),
        ("image", TypeError, "sequence of tensors"),
        ({"a": 1}, TypeError, "sequence of tensors"),
        ([torch.zeros(1, 3, 2, 2), 1.0], TypeError, r"restored\[1\]"),
    ],
)
def test_multiscale_rejects_bad_outputs(restored, error, match) -> None:
    with pytest.raises(error, match=match):
        MultiScaleLoss(L1Loss())(restored, torch.zeros(1, 3, 2, 2))
    with pytest.raises(error, match=match):
        WeightedLoss({"l1": 1.0})(restored, torch.zeros(1, 3, 2, 2))


def test_multiscale_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="bilinear"):
        MultiScaleLoss(L1Loss(), mode="lanczos")
    with pytest.raises(TypeError, match="content loss"):
        MultiScaleLoss("l1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="multiscale must be true or false"):
        WeightedLoss({"l1": {"multiscale": "yes"}})
