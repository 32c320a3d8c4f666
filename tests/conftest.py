"""Shared fixtures: seeded tiny images and real photos, all made locally (nothing downloads)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)


@pytest.fixture
def make_image() -> Callable[..., torch.Tensor]:
    """Factory for smooth, seeded test images ``(B, 3, H, W)`` in [0, 1].

    Smooth (low-frequency sinusoids plus an edge), so blur changes them measurably.
    """

    def factory(
        batch: int = 1, height: int = 64, width: int = 64, *, seed: int = 0
    ) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        ys = torch.linspace(0, 1, height).view(1, 1, height, 1)
        xs = torch.linspace(0, 1, width).view(1, 1, 1, width)
        freq = torch.rand(batch, 3, 1, 1, generator=g) * 6 + 1
        phase = torch.rand(batch, 3, 1, 1, generator=g) * 6.28
        img = 0.5 + 0.25 * torch.sin(freq * (xs + 0.7 * ys) * 6.28 + phase)
        img = img + 0.2 * (xs > 0.5).float() - 0.1
        return img.clamp(0, 1)

    return factory


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real photo (scikit-image's bundled astronaut, 512x512 RGB uint8)."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def photos() -> list[np.ndarray]:
    """A few real RGB photos bundled with scikit-image (uint8, HxWx3)."""
    from skimage import data

    return [data.astronaut(), data.chelsea(), data.coffee()]
