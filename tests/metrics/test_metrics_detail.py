"""Fine detail lost and added (deblurgan.metrics.detail): block-local, thresholded, directed."""

from __future__ import annotations

import pytest
import torch

from deblurgan.metrics import METRICS, detail_added, detail_lost, fine_detail
from deblurgan.metrics.ssim import gaussian_filter, gaussian_window


def texture(size: int = 64, seed: int = 0, amplitude: float = 0.3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (0.5 + amplitude * (torch.rand(1, 3, size, size, generator=g) - 0.5)).clamp(0, 1)


def blur(image: torch.Tensor, sigma: float = 2.0) -> torch.Tensor:
    window = gaussian_window(13, sigma, dtype=image.dtype, device=image.device)
    return gaussian_filter(image, window, border="replicate")


def test_identical_images_lose_and_add_nothing():
    image = texture()
    assert detail_lost(image, image).item() == 0.0
    assert detail_added(image, image).item() == 0.0


def test_blurring_loses_the_fine_detail_and_the_original_adds_it_back():
    sharp = texture()
    blurred = blur(sharp)
    assert detail_lost(blurred, sharp).item() == 1.0
    assert detail_added(sharp, blurred).item() == 1.0
    assert detail_added(blurred, sharp).item() == 0.0


def test_it_is_local_a_smoothed_half_is_half_the_blocks():
    sharp = texture()
    half = sharp.clone()
    half[..., :32] = blur(sharp)[..., :32]
    # the blocks of the untouched half (away from the seam) keep their detail
    assert detail_lost(half, sharp).item() == pytest.approx(0.5, abs=0.13)
    # a global energy ratio would call this image only 3 dB less detailed
    energy = fine_detail(half).mean() / fine_detail(sharp).mean()
    assert 0.4 < energy.item() < 0.65


def test_the_threshold_is_half_the_energy():
    sharp = texture()
    mean = sharp.mean()
    kept = mean + 0.8 * (sharp - mean)  # 0.64 of the energy: kept
    lost = mean + 0.6 * (sharp - mean)  # 0.36 of it: lost
    assert detail_lost(kept, sharp).item() == 0.0
    assert detail_lost(lost, sharp).item() == 1.0
    assert detail_lost(lost, sharp, ratio=4.0).item() == 0.0


def test_flat_blocks_count_for_neither():
    flat = torch.full((1, 3, 32, 32), 0.5)
    faint = flat + 0.001 * torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert detail_lost(flat, faint).item() == 0.0  # the faint ripple is below the floor
    assert detail_added(faint, flat).item() == 0.0
    assert detail_added(texture(32), flat).item() == 1.0


def test_grey_images_and_batches_score_per_image():
    sharp = torch.cat([texture(32, 0), texture(32, 1)])
    restored = torch.cat([sharp[:1], torch.full_like(sharp[:1], 0.5)])
    assert detail_lost(restored, sharp).tolist() == [0.0, 1.0]
    grey = sharp[:, :1]
    assert detail_lost(grey, grey).tolist() == [0.0, 0.0]


def test_bad_input_is_refused_with_the_metric_named():
    with pytest.raises(ValueError, match=r"detail_lost.*16x16"):
        detail_lost(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match="detail_added: ratio"):
        detail_added(texture(), texture(), ratio=0.5)
    with pytest.raises(ValueError, match="same shape"):
        detail_lost(texture(32), texture(64))


def test_the_table_lists_both_lower_is_better():
    for name in ("detail_lost", "detail_added"):
        spec = METRICS[name]
        assert not spec.higher_is_better and spec.min_size == 16
    image = texture(32)
    assert METRICS["detail_lost"](image, image).shape == (1,)
