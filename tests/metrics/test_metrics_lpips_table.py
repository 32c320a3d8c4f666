"""LPIPS through a stub network, and the metric table (every entry, by name)."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from deblurgan.metrics import METRICS, MetricSpec, lpips


class _StubLPIPS(nn.Module):
    """Mean absolute difference per image, shaped like the lpips package's output."""

    def __init__(self, keepdim: bool = True) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(2.0))
        self.keepdim = keepdim
        self.calls = 0

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        self.calls += 1
        return self.scale * (x - y).abs().mean(dim=(1, 2, 3), keepdim=self.keepdim)


@pytest.mark.parametrize("keepdim", [True, False])
def test_lpips_flattens_runs_without_grad_and_keeps_devices(keepdim: bool) -> None:
    net = _StubLPIPS(keepdim)
    sharp = torch.zeros(3, 3, 8, 8)
    restored = torch.full((3, 3, 8, 8), 0.25).requires_grad_(True)
    out = lpips(restored, sharp, net)
    torch.testing.assert_close(out, torch.full((3,), 0.5))
    assert out.shape == (3,) and not out.requires_grad and net.calls == 1
    assert net.scale.device == restored.device and net.scale.grad is None


def test_lpips_validates_inputs_and_output() -> None:
    net = _StubLPIPS()
    image = torch.rand(2, 3, 8, 8)
    with pytest.raises(ValueError, match="same shape"):
        lpips(image, image[..., 1:], net)
    with pytest.raises(ValueError, match="3 channels"):
        lpips(image[:, :1], image[:, :1], net)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        lpips(image[0], image[0], net)
    with pytest.raises(TypeError, match="callable"):
        lpips(image, image, "alex")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one distance per image"):
        lpips(image, image, lambda x, y: (x - y).abs().mean())
    with pytest.raises(ValueError, match="one distance per image"):
        lpips(image, image, lambda x, y: (x - y).abs().mean(dim=(2, 3)))  # (B, C)
    with pytest.raises(TypeError, match=r"must return a torch\.Tensor"):
        lpips(image, image, lambda x, y: [0.0, 0.0])  # type: ignore[arg-type, return-value]


def _inputs(spec: MetricSpec, batch: int = 2) -> tuple[Tensor, Tensor]:
    side = max(spec.min_size, 48 if spec.name.startswith("detail_") else 24)
    g = torch.Generator().manual_seed(0)
    sharp = torch.rand(batch, 3, side, side + 3, generator=g)
    restored = (sharp + 0.1 * torch.rand(batch, 3, side, side + 3, generator=g)).clamp(0, 1)
    if spec.name.startswith("detail_"):
        # thresholded block by block, so a mild change scores as perfect: smooth the left half's
        # texture, and give the right half texture the reference lacks
        sharp[..., side // 2 :] = 0.5
        restored = sharp.clone()
        restored[..., : side // 2] = 0.5 + 0.3 * (sharp[..., : side // 2] - 0.5)
        restored[..., side // 2 :] += 0.2 * (torch.rand(batch, 3, side, side - side // 2 + 3) - 0.5)
    return restored, sharp


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_scores_a_batch_and_prefers_the_reference(name: str) -> None:
    spec = METRICS[name]
    assert spec.name == name and spec.description
    network = _StubLPIPS() if spec.needs_network else None
    restored, sharp = _inputs(spec)
    scores = spec(restored, sharp, network=network)
    assert scores.shape == (2,) and torch.isfinite(scores).all()
    perfect = spec(sharp, sharp, network=network)
    better = perfect > scores if spec.higher_is_better else perfect < scores
    assert better.all(), (name, perfect, scores)
    # Batched: the same scores one image at a time.
    single = torch.cat(
        [spec(r[None], s[None], network=network) for r, s in zip(restored, sharp, strict=True)]
    )
    torch.testing.assert_close(scores, single, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_takes_an_empty_batch(name: str) -> None:
    spec = METRICS[name]
    empty = torch.rand(0, 3, max(spec.min_size, 24), max(spec.min_size, 24))
    network = _StubLPIPS(keepdim=False) if spec.needs_network else None
    assert spec(empty, empty, network=network).shape == (0,)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_enforces_its_minimum_size_and_channels(name: str) -> None:
    spec = METRICS[name]
    network = _StubLPIPS() if spec.needs_network else None
    if spec.min_size > 1:
        small = torch.rand(1, 3, spec.min_size - 1, spec.min_size + 5)
        with pytest.raises(ValueError, match=f"at least {spec.min_size}x{spec.min_size}"):
            spec(small, small, network=network)
    two = torch.rand(1, 2, max(spec.min_size, 24), max(spec.min_size, 24))
    with pytest.raises(ValueError, match="channels"):
        spec(two, two, network=network)


def test_network_argument_is_required_exactly_for_lpips() -> None:
    image = torch.rand(1, 3, 32, 32)
    with pytest.raises(ValueError, match="needs a network"):
        METRICS["lpips"](image, image)
    with pytest.raises(ValueError, match="takes no network"):
        METRICS["psnr"](image, image, network=_StubLPIPS())


def test_table_is_read_only_and_names_the_protocol() -> None:
    with pytest.raises(TypeError):
        METRICS["psnr"] = METRICS["ssim"]  # type: ignore[index]
    assert {"psnr", "ssim", "ssim_matlab", "ms_ssim", "fsim", "vif", "lpips"} <= set(METRICS)
    assert METRICS["ms_ssim"].min_size == 161 and METRICS["vif"].min_size == 41
    lower_is_better = [n for n, s in METRICS.items() if not s.higher_is_better]
    assert lower_is_better == ["detail_lost", "detail_added", "colour_shift", "lpips"]
