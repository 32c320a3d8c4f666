"""The facade ``import deblurgan``: light import, load_model, deblur_image on every input kind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import deblurgan
from deblurgan.io import write_image
from deblurgan.models import build_generator, save_generator

TINY = {"name": "resnet", "width": 4, "n_blocks": 1}


class Halve(nn.Module):
    """Multiply by 0.5: an easy, exact reference."""

    size_multiple = 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0.5


def test_import_is_light() -> None:
    code = (
        "import sys, deblurgan\n"
        "heavy = [m for m in ('torch', 'lightning', 'hydra', 'omegaconf', 'deblurgan.training',"
        " 'deblurgan.models', 'deblurgan.inference') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_version_is_a_string() -> None:
    assert isinstance(deblurgan.__version__, str) and deblurgan.__version__


def test_deblurrer_is_reachable_from_the_facade() -> None:
    from deblurgan.inference import Deblurrer

    assert deblurgan.Deblurrer is Deblurrer
    with pytest.raises(AttributeError):
        _ = deblurgan.not_a_thing  # type: ignore[attr-defined]


def test_load_model_from_a_checkpoint(tmp_path: Path) -> None:
    path = save_generator(build_generator(TINY), tmp_path / "g.safetensors")
    model = deblurgan.load_model(path, device="cpu")
    assert not model.training and model.arch_spec == TINY
    with pytest.raises(FileNotFoundError):
        deblurgan.load_model(tmp_path / "missing.safetensors")


def test_tensors_in_tensors_out() -> None:
    image = torch.rand(2, 3, 10, 13)
    restored = deblurgan.deblur_image(image, model=Halve(), device="cpu")
    torch.testing.assert_close(restored, image * 0.5)
    single = deblurgan.deblur_image(image[0], model=Halve(), device="cpu")
    assert single.shape == (3, 10, 13)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("channels", [3, 4])
def test_numpy_in_numpy_out(dtype: type, channels: int) -> None:
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        top = np.iinfo(dtype).max
        array = rng.integers(0, top + 1, (9, 11, channels)).astype(dtype)
        tolerance = 0.5 + 1e-3  # one rounding to the integer grid
    else:
        array = rng.random((9, 11, channels)).astype(dtype)
        tolerance = 1e-6
    expected = array[..., :3].astype(np.float64) * 0.5
    restored = deblurgan.deblur_image(array, model=Halve(), device="cpu")
    assert isinstance(restored, np.ndarray)
    assert restored.shape == array.shape and restored.dtype == array.dtype
    diff = np.abs(restored[..., :3].astype(np.float64) - expected)
    assert diff.max() <= tolerance
    if channels == 4:
        assert np.array_equal(restored[..., 3], array[..., 3])  # alpha passes through


def test_paths_in_tensors_out(tmp_path: Path) -> None:
    image = torch.rand(3, 12, 16)
    path = write_image(tmp_path / "in.png", image, bit_depth=16)
    restored = deblurgan.deblur_image(str(path), model=Halve(), device="cpu")
    assert isinstance(restored, torch.Tensor) and restored.shape == (3, 12, 16)
    torch.testing.assert_close(restored, image * 0.5, atol=1e-4, rtol=0)


def test_model_by_path_is_loaded_once(tmp_path: Path) -> None:
    path = save_generator(build_generator(TINY), tmp_path / "g.pt")
    image = torch.rand(1, 3, 16, 16)
    first = deblurgan.deblur_image(image, model=str(path), device="cpu")
    second = deblurgan.deblur_image(image, model=path, device="cpu")
    torch.testing.assert_close(first, second)
    reference = deblurgan.load_model(path)(image).detach().clamp(0, 1)
    torch.testing.assert_close(first, reference)


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (np.zeros((4, 4)), ValueError),
        (np.zeros((4, 4, 2)), ValueError),
        (np.zeros((4, 4, 3), dtype=np.int32), TypeError),
        ([[0.0]], TypeError),
    ],
)
def test_bad_images_are_refused(image: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        deblurgan.deblur_image(image, model=Halve(), device="cpu")  # type: ignore[call-overload]


def test_bad_model_is_refused() -> None:
    with pytest.raises(TypeError, match="model"):
        deblurgan.deblur_image(torch.rand(3, 4, 4), model=3, device="cpu")  # type: ignore[call-overload]


def test_a_model_path_is_loaded_once_and_again_when_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deblurgan._cached_model.cache_clear()
    loads: list[object] = []
    real_load = deblurgan.load_model

    def counting_load(*args, **kwargs):
        loads.append(args[0])
        return real_load(*args, **kwargs)

    monkeypatch.setattr(deblurgan, "load_model", counting_load)
    path = tmp_path / "g.safetensors"
    torch.manual_seed(0)
    save_generator(build_generator(TINY), path)
    image = torch.rand(1, 3, 16, 16)
    first = deblurgan.deblur_image(image, model=path, device="cpu")
    assert torch.equal(deblurgan.deblur_image(image, model=str(path), device="cpu"), first)
    assert len(loads) == 1  # unchanged file: the cached model
    torch.manual_seed(1)
    save_generator(build_generator(TINY), path)  # a new training run writes the same path
    changed = deblurgan.deblur_image(image, model=path, device="cpu")
    assert len(loads) == 2 and not torch.equal(changed, first)
    torch.testing.assert_close(changed, real_load(path)(image).detach().clamp(0, 1))


@pytest.mark.parametrize(
    ("image", "error", "message"),
    [
        (torch.rand(0, 3, 8, 8), ValueError, r"image is empty: shape \(0, 3, 8, 8\); expected"),
        (torch.rand(3, 0, 8), ValueError, r"image is empty"),
        (torch.full((3, 4, 4), float("nan")), ValueError, "NaN or infinite values"),
        (torch.tensor([0.5, float("inf")]).repeat(24).view(3, 4, 4), ValueError, "infinite"),
        (torch.rand(3, 4, 4) * 255, ValueError, r"values up to 2\d\d.*image / 255"),
        (torch.rand(3, 4, 4) * 2 - 1, ValueError, r"values down to -0\.\d+.*\(image \+ 1\) / 2"),
        (np.random.default_rng(0).uniform(0, 255, (4, 4, 3)), ValueError, "image / 255"),
        (np.full((4, 4, 3), np.nan, np.float32), ValueError, "NaN"),
        (np.zeros((0, 4, 3), np.float32), ValueError, "image is empty"),
        (torch.empty(3, 4, 4, device="meta"), ValueError, "meta tensor"),
        (torch.rand(3, 4, 4).to_sparse(), TypeError, r"dense tensor.*to_dense\(\)"),
    ],
    ids=[
        "empty-batch",
        "empty-height",
        "nan",
        "inf",
        "0..255",
        "-1..1",
        "np-0..255",
        "np-nan",
        "np-empty",
        "meta",
        "sparse",
    ],
)
def test_unusable_pixels_name_what_was_expected(
    image: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        deblurgan.deblur_image(image, model=Halve(), device="cpu")  # type: ignore[call-overload]


def test_slight_overshoot_and_full_range_are_accepted() -> None:
    image = torch.rand(3, 4, 4)
    image[0, 0, 0], image[0, 0, 1] = 1.0 + 0.5 / 255, -0.5 / 255  # resampling overshoot
    assert deblurgan.deblur_image(image, model=Halve(), device="cpu").shape == (3, 4, 4)


@pytest.mark.parametrize("source", [3, {"state_dict": {}}, b"default", None])
def test_load_model_names_what_it_takes(source: object) -> None:
    with pytest.raises(TypeError, match=r"weights name \('default', 'maxim'\), a checkpoint path"):
        deblurgan.load_model(source)  # type: ignore[arg-type]


def test_load_model_given_a_state_dict_says_how_to_load_one() -> None:
    with pytest.raises(TypeError, match=r"got dict; a state dict loads into a built generator"):
        deblurgan.load_model({"conv.weight": torch.zeros(1)})  # type: ignore[arg-type]
