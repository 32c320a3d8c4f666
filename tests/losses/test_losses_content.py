"""Content losses and their weighted sum against hand computations, numpy, scipy and skimage."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from scipy import ndimage
from skimage.metrics import structural_similarity

import deblurgan
from deblurgan.losses import (
    CONTENT_LOSSES,
    CharbonnierLoss,
    EdgeLoss,
    FFTLoss,
    PSNRLoss,
    SSIMLoss,
    WeightedLoss,
)
from deblurgan.losses.content import laplacian

# Registry-wide tests build each loss with these options on images of this side; a loss that
# cannot run on 3x3 images or needs options to be cheap adds its settings here.
TINY: dict[str, tuple[dict[str, Any], int]] = {
    "ssim": ({"window": 3}, 5),
    "perceptual": ({"layer": "conv1_2"}, 4),  # random VGG19 features: tests never load weights
    "lpips": ({"net": "alex"}, 31),  # AlexNet needs 31 px to reach relu5
}
# Losses whose float64 gradcheck runs in fast mode (one random projection): full networks.
FAST_GRADCHECK = {"perceptual", "lpips"}


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
    kwargs, side = TINY.get(name, ({}, 3))
    loss = CONTENT_LOSSES.build(name, **kwargs).double()
    g = torch.Generator().manual_seed(2)
    restored = torch.rand(1, 3, side, side, generator=g, dtype=torch.float64, requires_grad=True)
    sharp = torch.rand(1, 3, side, side, generator=g, dtype=torch.float64)
    value = loss(restored, sharp)
    assert value.ndim == 0 and value.dtype == torch.float64 and torch.isfinite(value)
    assert torch.autograd.gradcheck(
        lambda r: loss(r, sharp), (restored,), fast_mode=name in FAST_GRADCHECK
    )
    with pytest.raises(ValueError, match="same shape"):
        loss(restored, sharp[..., :2])


def test_psnr_loss_is_minus_the_mean_per_image_psnr() -> None:
    restored, sharp = _pair()
    diff = restored.numpy().astype(np.float64) - sharp.numpy()
    per_image = -10 * np.log10((diff**2).reshape(2, -1).mean(axis=1))
    assert per_image[0] != pytest.approx(per_image[1])  # the mean of PSNRs, not PSNR of the mean
    got = PSNRLoss(eps=1e-12)(restored, sharp)
    assert got.item() == pytest.approx(-per_image.mean(), rel=1e-5)
    from deblurgan.metrics import psnr

    assert got.item() == pytest.approx(-float(psnr(restored, sharp).mean()), rel=1e-4)


def test_psnr_loss_weighs_each_image_by_its_own_error() -> None:
    # The same absolute error costs more on the image that is otherwise clean.
    sharp = torch.zeros(2, 1, 4, 4)
    restored = torch.zeros(2, 1, 4, 4, requires_grad=True)
    with torch.no_grad():
        restored[0] += 0.01
        restored[1] += 0.1
    PSNRLoss()(restored, sharp).backward()
    assert restored.grad is not None
    clean, rough = restored.grad[0, 0, 0, 0].item(), restored.grad[1, 0, 0, 0].item()
    assert clean > 0 and rough > 0
    assert clean / rough == pytest.approx(10, rel=1e-4)  # d log(MSE) / dx = 2 x / (n MSE)


def test_psnr_loss_perfect_image_is_finite_and_needs_a_batch() -> None:
    sharp = torch.rand(1, 3, 4, 4)
    assert PSNRLoss(eps=1e-8)(sharp, sharp).item() == pytest.approx(-80.0)
    with pytest.raises(ValueError, match="batch"):
        PSNRLoss()(torch.zeros(4), torch.zeros(4))
    with pytest.raises(ValueError, match="eps"):
        PSNRLoss(eps=0)


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


# ------------------------------------------------------------------------------------------- fft
def test_fft_loss_matches_numpy_fft() -> None:
    restored, sharp = _pair()
    spec_r = np.fft.fft2(restored.numpy().astype(np.float64), axes=(-2, -1))
    spec_s = np.fft.fft2(sharp.numpy().astype(np.float64), axes=(-2, -1))
    # MIMO-UNet: L1 over rfft(..., onesided=False) outputs, i.e. real and imaginary parts stacked.
    stacked = np.stack([spec_r.real - spec_s.real, spec_r.imag - spec_s.imag], axis=-1)
    expected = np.abs(stacked).mean()
    assert FFTLoss()(restored, sharp).item() == pytest.approx(expected, rel=1e-5)
    ortho = FFTLoss(norm="ortho")(restored, sharp).item()
    assert ortho == pytest.approx(expected / np.sqrt(5 * 6), rel=1e-5)


def test_fft_loss_hand_value_and_half_precision() -> None:
    # A constant offset c on an H x W image only moves the DC coefficient, by c * H * W: one
    # non-zero number among 2 * H * W (real and imaginary parts), so the mean is c / 2.
    sharp = torch.zeros(2, 3, 4, 6)
    assert FFTLoss()(sharp + 0.3, sharp).item() == pytest.approx(0.15)
    half = FFTLoss()(sharp.half() + 0.25, sharp.half())
    assert half.dtype == torch.float32 and half.item() == pytest.approx(0.125)


def test_fft_loss_gradcheck() -> None:
    g = torch.Generator().manual_seed(3)
    restored = torch.rand(2, 2, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    sharp = torch.rand(2, 2, 4, 5, generator=g, dtype=torch.float64)
    for norm in ("backward", "ortho"):
        loss = FFTLoss(norm=norm)
        assert torch.autograd.gradcheck(lambda r, loss=loss: loss(r, sharp), (restored,))


# ------------------------------------------------------------------------------------------ ssim
def test_ssim_loss_is_one_minus_skimage_ssim() -> None:
    g = torch.Generator().manual_seed(4)
    sharp = torch.rand(2, 3, 24, 20, generator=g, dtype=torch.float64)
    restored = (sharp + 0.1 * torch.randn(2, 3, 24, 20, generator=g, dtype=torch.float64)).clamp(
        0, 1
    )
    reference = [
        structural_similarity(
            restored[b].numpy(),
            sharp[b].numpy(),
            channel_axis=0,
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        for b in range(2)
    ]
    got = SSIMLoss()(restored, sharp).item()
    assert got == pytest.approx(1 - float(np.mean(reference)), abs=1e-6)
    assert 0.05 < got < 1  # the noise is visible, not total
    assert SSIMLoss()(sharp, sharp).item() == pytest.approx(0.0, abs=1e-12)


def test_ssim_loss_options() -> None:
    small = torch.rand(1, 3, 7, 7)
    with pytest.raises(ValueError, match="smaller than the 11x11 window"):
        SSIMLoss()(small, small)
    assert SSIMLoss(window=7)(small, small).item() == pytest.approx(0.0, abs=1e-6)
    for bad in ({"window": 4}, {"window": 0}, {"sigma": 0.0}, {"sigma": float("inf")}):
        with pytest.raises(ValueError, match=r"window|sigma"):
            SSIMLoss(**bad)


# ------------------------------------------------------------------------------------------ edge
def _laplacian_scipy(image: np.ndarray) -> np.ndarray:
    """MPRNet's laplacian_kernel on one (H, W) channel, rebuilt with scipy.ndimage."""
    k = np.array([0.05, 0.25, 0.4, 0.25, 0.05])
    kernel = np.outer(k, k)
    # F.pad(..., mode="replicate") followed by a valid convolution is scipy's mode="nearest".
    filtered = ndimage.correlate(image, kernel, mode="nearest")
    upsampled = np.zeros_like(filtered)
    upsampled[::2, ::2] = 4 * filtered[::2, ::2]
    return image - ndimage.correlate(upsampled, kernel, mode="nearest")


def test_edge_loss_matches_a_scipy_laplacian_pyramid_step() -> None:
    g = torch.Generator().manual_seed(5)
    restored = torch.rand(2, 3, 9, 12, generator=g, dtype=torch.float64)
    sharp = torch.rand(2, 3, 9, 12, generator=g, dtype=torch.float64)
    diff = np.stack(
        [
            [_laplacian_scipy(restored[b, c].numpy()) - _laplacian_scipy(sharp[b, c].numpy())
             for c in range(3)]
            for b in range(2)
        ]
    )  # fmt: skip
    expected = np.sqrt(diff**2 + 1e-6).mean()
    assert EdgeLoss()(restored, sharp).item() == pytest.approx(expected, rel=1e-10)
    assert EdgeLoss(eps=0.5)(restored, sharp).item() == pytest.approx(
        np.sqrt(diff**2 + 0.25).mean(), rel=1e-10
    )


def test_edge_loss_ignores_smooth_changes_inside_and_sees_edges() -> None:
    # Both smoothings keep a linear ramp (even and odd taps each sum to 1/2), so it has no
    # Laplacian band more than two kernel radii (4 px) away from the border.
    ramp = torch.linspace(0, 1, 16, dtype=torch.float64).view(1, 1, 1, 16).expand(1, 3, 16, 16)
    assert laplacian(ramp)[..., 4:-4, 4:-4].abs().max().item() < 1e-12
    edge = torch.zeros(1, 3, 16, 16, dtype=torch.float64)
    edge[..., 8:] = 1.0
    assert laplacian(edge)[..., 2:-2, 7:9].abs().max().item() > 0.1


def test_edge_loss_gradcheck_and_options() -> None:
    g = torch.Generator().manual_seed(6)
    restored = torch.rand(1, 2, 6, 7, generator=g, dtype=torch.float64, requires_grad=True)
    sharp = torch.rand(1, 2, 6, 7, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda r: EdgeLoss()(r, sharp), (restored,))
    with pytest.raises(ValueError, match="eps"):
        EdgeLoss(eps=-1.0)
    with pytest.raises(ValueError, match="B, C, H, W"):
        EdgeLoss()(torch.zeros(3, 4, 4), torch.zeros(3, 4, 4))


# --------------------------------------------------------------------------------------- configs
CONTENT_DIR = Path(deblurgan.__file__).parent / "configs" / "content"
CONTENT_CONFIGS = sorted(CONTENT_DIR.glob("*.yaml"))


def test_the_recipes_have_configs() -> None:
    names = {p.name for p in CONTENT_CONFIGS}
    assert {"l1_fft.yaml", "mse_perceptual.yaml", "perceptual.yaml", "l1_lpips.yaml"} <= names
    assert {f"{name}.yaml" for name in CONTENT_LOSSES} <= names  # one per registered loss


@pytest.mark.parametrize("path", CONTENT_CONFIGS, ids=lambda p: p.name)
def test_every_content_config_builds_a_weighted_loss(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    terms = yaml.safe_load(path.read_text())
    assert set(terms) <= set(CONTENT_LOSSES)  # labels are registry names (Hydra overrides)
    with caplog.at_level(logging.WARNING):
        loss = WeightedLoss(terms)
    # Pretrained-network terms ship without weight paths, which the run must give; they warn.
    needs_weights = {"perceptual", "lpips"} & set(terms)
    assert bool(needs_weights) == any("weights" in r.getMessage() for r in caplog.records)
    assert not list(loss.parameters()) and not loss.state_dict()
    g = torch.Generator().manual_seed(7)
    sharp = torch.rand(1, 3, 32, 32, generator=g)
    outputs = [torch.rand(1, 3, 16, 16, generator=g), torch.rand(1, 3, 32, 32, generator=g)]
    total, parts = loss(outputs, sharp)
    assert list(parts) == list(terms) and torch.isfinite(total)
    assert total < 0 if set(terms) == {"psnr"} else total > 0  # the PSNR loss is -PSNR


def test_recipe_weights() -> None:
    def load(name: str) -> dict[str, Any]:
        return yaml.safe_load((CONTENT_DIR / name).read_text())

    # MIMO-UNet train.py: loss = loss_content + 0.1 * loss_fft.
    assert WeightedLoss(load("l1_fft.yaml")).weights == {"l1": 1.0, "fft": 0.1}
    # DeblurGAN-v2 losses.py: 0.006 * perceptual + 0.5 * MSE.
    assert WeightedLoss(load("mse_perceptual.yaml")).weights == {"mse": 0.5, "perceptual": 0.006}
    # DeblurGAN: L = L_GAN + 100 L_X on conv3_3 (features[14]).
    deblurgan = WeightedLoss(load("perceptual.yaml"))
    assert deblurgan.weights == {"perceptual": 100.0}
    assert deblurgan.losses["perceptual"].layer == "conv3_3"
    assert len(deblurgan.losses["perceptual"].network.features) == 15
