"""LPIPS network: public key names, weight files, a functional re-implementation, metric axioms."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from deblurgan.models.lpips import LPIPS_NETS, LPIPSNetwork, ScalingLayer, normalize_channels

# Facts of richzhang/PerceptualSimilarity (lpips/lpips.py, v0.1): LPIPS.__init__ sets
# chns = [64, 128, 256, 512, 512] for 'vgg' and [64, 192, 384, 256, 256] for 'alex', and
# NetLinLayer(chn_in, chn_out=1, use_dropout=True) is Sequential(Dropout(), Conv2d(chn_in, 1, 1,
# bias=False)), so the weight files vgg.pth / alex.pth hold exactly these entries.
PUBLIC_LIN_KEYS = {
    "vgg": {
        "lin0.model.1.weight": (1, 64, 1, 1),
        "lin1.model.1.weight": (1, 128, 1, 1),
        "lin2.model.1.weight": (1, 256, 1, 1),
        "lin3.model.1.weight": (1, 512, 1, 1),
        "lin4.model.1.weight": (1, 512, 1, 1),
    },
    "alex": {
        "lin0.model.1.weight": (1, 64, 1, 1),
        "lin1.model.1.weight": (1, 192, 1, 1),
        "lin2.model.1.weight": (1, 384, 1, 1),
        "lin3.model.1.weight": (1, 256, 1, 1),
        "lin4.model.1.weight": (1, 256, 1, 1),
    },
}
# torchvision's vgg16 / alexnet ``features`` convolutions that the taps need (relu5_3 follows
# features.28; relu5 follows features.10).
TORCHVISION_CONVS = {
    "vgg": [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28],
    "alex": [0, 3, 6, 8, 10],
}


@pytest.mark.parametrize("net", ["vgg", "alex"])
def test_state_dict_keys_match_the_public_layouts(net: str) -> None:
    model = LPIPSNetwork(net)
    state = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    lin = {k: v for k, v in state.items() if k.startswith("lin")}
    assert lin == PUBLIC_LIN_KEYS[net]
    trunk = {k.removeprefix("net.") for k in state if k.startswith("net.")}
    assert trunk == {
        f"features.{i}.{p}" for i in TORCHVISION_CONVS[net] for p in ("weight", "bias")
    }
    assert set(state) == set(lin) | {f"net.{k}" for k in trunk}  # scaling constants not saved
    assert sum(shape[1] for shape in lin.values()) == sum(LPIPS_NETS[net].channels)


def test_scaling_layer_is_imagenet_statistics_for_inputs_in_minus_one_one() -> None:
    layer = ScalingLayer()
    mean = torch.tensor([0.485, 0.456, 0.406])
    std = torch.tensor([0.229, 0.224, 0.225])
    torch.testing.assert_close(layer.shift.flatten(), 2 * mean - 1)
    torch.testing.assert_close(layer.scale.flatten(), 2 * std)
    x = torch.rand(1, 3, 2, 2)
    torch.testing.assert_close(layer(2 * x - 1), (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1))


def _write_weights(tmp_path: Path, net: str, seed: int) -> tuple[Path, Path]:
    g = torch.Generator().manual_seed(seed)
    lin = {k: torch.rand(shape, generator=g) for k, shape in PUBLIC_LIN_KEYS[net].items()}
    torch.save(lin, tmp_path / f"{net}.pth")
    torch.manual_seed(seed)
    trunk = dict(LPIPSNetwork(net).net.state_dict())  # torchvision layout: features.N.*
    trunk["classifier.6.weight"] = torch.zeros(1)  # a whole-network file's extra entry
    save_file({k: v.contiguous() for k, v in trunk.items()}, tmp_path / f"{net}_trunk.safetensors")
    return tmp_path / f"{net}.pth", tmp_path / f"{net}_trunk.safetensors"


def _reference_alex_lpips(lin: dict, trunk: dict, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """LPIPS v0.1 with AlexNet, written out from the paper and lpips/lpips.py."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def taps(image: torch.Tensor) -> list[torch.Tensor]:
        h = ((2 * image - 1) - shift) / scale
        out = []
        h = F.relu(F.conv2d(h, trunk["features.0.weight"], trunk["features.0.bias"], 4, 2))
        out.append(h)
        h = F.max_pool2d(h, 3, 2)
        h = F.relu(F.conv2d(h, trunk["features.3.weight"], trunk["features.3.bias"], padding=2))
        out.append(h)
        h = F.max_pool2d(h, 3, 2)
        for i in (6, 8, 10):
            h = F.relu(
                F.conv2d(h, trunk[f"features.{i}.weight"], trunk[f"features.{i}.bias"], 1, 1)
            )
            out.append(h)
        return out

    total = torch.zeros(x.shape[0])
    for k, (a, b) in enumerate(zip(taps(x), taps(y), strict=True)):
        a = a / (a.norm(dim=1, keepdim=True) + 1e-10)
        b = b / (b.norm(dim=1, keepdim=True) + 1e-10)
        w = lin[f"lin{k}.model.1.weight"].view(1, -1, 1, 1)
        total += ((a - b) ** 2 * w).sum(dim=1).mean(dim=(1, 2))
    return total


def test_alex_distances_match_a_functional_reimplementation(tmp_path: Path) -> None:
    lin_path, trunk_path = _write_weights(tmp_path, "alex", seed=1)
    model = LPIPSNetwork("alex", lin_weights=lin_path, backbone_weights=trunk_path)
    lin = torch.load(lin_path, weights_only=True)
    from safetensors.torch import load_file

    trunk = load_file(trunk_path)
    g = torch.Generator().manual_seed(2)
    x, y = torch.rand(3, 3, 40, 36, generator=g), torch.rand(3, 3, 40, 36, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(model(x, y), _reference_alex_lpips(lin, trunk, x, y))


@pytest.mark.parametrize("net", ["vgg", "alex"])
def test_weight_files_round_trip(tmp_path: Path, net: str) -> None:
    lin_path, trunk_path = _write_weights(tmp_path, net, seed=3)
    a = LPIPSNetwork(net, lin_weights=lin_path, backbone_weights=trunk_path)
    lin = torch.load(lin_path, weights_only=True)
    for key, value in lin.items():
        torch.testing.assert_close(a.state_dict()[key], value)
    # A whole lpips-package LPIPS state dict also fills the lin layers (other entries skipped).
    whole = {**lin, "scaling_layer.shift": torch.zeros(1, 3, 1, 1), "net.slice1.0.bias": lin[
        "lin0.model.1.weight"
    ].flatten()}  # fmt: skip
    torch.save(whole, tmp_path / "whole.pth")
    b = LPIPSNetwork(net, lin_weights=tmp_path / "whole.pth", backbone_weights=trunk_path)
    side = LPIPS_NETS[net].min_size
    x, y = torch.rand(2, 3, side, side), torch.rand(2, 3, side, side)
    with torch.no_grad():
        torch.testing.assert_close(a(x, y), b(x, y))


def test_the_other_trunks_lin_file_is_rejected(tmp_path: Path) -> None:
    lin_path, _ = _write_weights(tmp_path, "alex", seed=4)
    with pytest.raises(ValueError, match=r"lin1\.model\.1\.weight.*shape"):
        LPIPSNetwork("vgg", lin_weights=lin_path)
    torch.save({"lin0.model.1.weight": torch.ones(1, 64, 1, 1)}, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match="lacks 4 entries"):
        LPIPSNetwork("alex", lin_weights=tmp_path / "partial.pth")


def test_metric_axioms_and_gradients(tmp_path: Path) -> None:
    lin_path, trunk_path = _write_weights(tmp_path, "alex", seed=5)
    model = LPIPSNetwork("alex", lin_weights=lin_path, backbone_weights=trunk_path)
    g = torch.Generator().manual_seed(6)
    x = torch.rand(2, 3, 48, 48, generator=g, requires_grad=True)
    y = torch.rand(2, 3, 48, 48, generator=g)
    d = model(x, y)
    assert d.shape == (2,) and bool((d > 0).all())  # positive for different images
    torch.testing.assert_close(model(y, x), d)  # symmetric
    assert model(y, y).abs().max().item() == 0.0  # zero for identical ones
    # A slightly perturbed copy is closer than an unrelated image.
    near = model((y + 0.02 * torch.randn(y.shape, generator=g)).clamp(0, 1), y)
    assert bool((near < d).all())
    d.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(not p.requires_grad for p in model.parameters()) and not model.training


def test_channel_normalisation_by_hand() -> None:
    x = torch.tensor([[3.0, 0.0], [4.0, 0.0]]).view(1, 2, 1, 2)  # pixel vectors (3, 4), (0, 0)
    out = normalize_channels(x)
    torch.testing.assert_close(out[0, :, 0, 0], torch.tensor([0.6, 0.8]))
    assert out[0, :, 0, 1].abs().sum().item() == 0.0  # an all-zero vector stays zero


def test_without_weights_it_warns_and_uses_the_unit_baseline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="deblurgan.models.lpips"):
        model = LPIPSNetwork("alex")
    assert "backbone_weights" in caplog.text and "lin_weights" in caplog.text
    assert all(bool((lin.weight == 1).all()) for lin in model.lins)


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown LPIPS trunk 'squeeze'; valid: vgg, alex"):
        LPIPSNetwork("squeeze")
    model = LPIPSNetwork("alex")
    with pytest.raises(ValueError, match="at least 31x31"):
        model(torch.rand(1, 3, 30, 64), torch.rand(1, 3, 30, 64))
    with pytest.raises(ValueError, match="same shape"):
        model(torch.rand(1, 3, 32, 32), torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"x must be a \(B, 3, H, W\) tensor"):
        model(torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32))
    with pytest.raises(TypeError):
        LPIPSNetwork("alex", None)  # type: ignore[misc]


# VGG16 at these sizes takes 15 to 20 s a case on 2 cores: the slow tier (CI)
@pytest.mark.parametrize("net", [pytest.param("vgg", marks=pytest.mark.slow), "alex"])
@pytest.mark.parametrize("size", [(150, 149), (97, 290)])
def test_tiled_scoring_equals_whole_image_scoring(net: str, size: tuple[int, int]) -> None:
    # Cores of 48 px (many tiles, partial ones at the edges, cores past the deepest map's end)
    # give the whole image's distance; a margin under the receptive field does not, so the
    # tiles are really used and the margin is what makes them exact.
    model = LPIPSNetwork(net)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, *size, generator=g)
    y = (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    whole = model(x, y)
    model.max_pixels, model.tile = 0, 48
    assert torch.allclose(model(x, y), whole, rtol=1e-6, atol=0)
    model.tile_margin = 32  # far under half the deepest field (196 / 163 px): errors of 5e-4+
    assert not torch.allclose(model(x, y), whole, rtol=1e-4, atol=0)


def test_tiling_is_for_the_metric_not_the_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    model = LPIPSNetwork("vgg", max_pixels=0, tile=32)
    calls: list[int] = []
    monkeypatch.setattr(model, "_tiled", lambda x, y: calls.append(1) or torch.zeros(len(x)))
    x, y = torch.rand(1, 3, 40, 40), torch.rand(1, 3, 40, 40)
    model(x, y)
    assert calls == [1]
    restored = x.clone().requires_grad_(True)
    model(restored, y).sum().backward()  # a loss: the whole image, gradients flow
    assert calls == [1] and restored.grad is not None
    model.max_pixels = None
    with torch.no_grad():
        model(x, y)
    assert calls == [1]
    with pytest.raises(ValueError, match="multiple of 16"):
        LPIPSNetwork("vgg", tile=40)
    with pytest.raises(ValueError, match="tile must be an int >= 16"):
        LPIPSNetwork("vgg", tile=8)


def _gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = int(3 * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, dtype=image.dtype)
    g = torch.exp(-(t**2) / (2 * sigma**2))
    g = g / g.sum()
    x = F.pad(image, (radius,) * 4, mode="reflect")
    x = F.conv2d(x, g.view(1, 1, 1, -1).repeat(3, 1, 1, 1), groups=3)
    return F.conv2d(x, g.view(1, 1, -1, 1).repeat(3, 1, 1, 1), groups=3)


@pytest.mark.parametrize("net", ["vgg", "alex"])
def test_real_weights_behave_like_lpips(
    net: str, photo: np.ndarray, real_weights_cache: Callable[[str], Path]
) -> None:
    """The fetched LPIPS v0.1 (``deblur weights fetch lpips``; skipped outside CI when missing)
    against its known behaviour on a natural photo: identical images 0, distances that grow with
    blur and with noise, and a 1-pixel shift judged far closer than a blur that PSNR prefers."""
    from deblurgan.metrics import psnr

    model = LPIPSNetwork.pretrained(net, cache=real_weights_cache("lpips"))
    assert all(bool((lin.weight >= 0).all()) for lin in model.lins)  # LPIPS clamps lin >= 0
    image = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    image = F.avg_pool2d(image, 4)  # (1, 3, 128, 128)
    g = torch.Generator().manual_seed(0)
    distorted = {
        "blur1": _gaussian_blur(image, 1.0),
        "blur2": _gaussian_blur(image, 2.0),
        "blur3": _gaussian_blur(image, 3.0),
        "noise.02": (image + 0.02 * torch.randn(image.shape, generator=g)).clamp(0, 1),
        "noise.05": (image + 0.05 * torch.randn(image.shape, generator=g)).clamp(0, 1),
        "noise.10": (image + 0.10 * torch.randn(image.shape, generator=g)).clamp(0, 1),
        "shift": image.roll(1, dims=-1),
    }
    batch = torch.cat(list(distorted.values()))
    with torch.inference_mode():
        d = dict(zip(distorted, model(batch, image.expand_as(batch)).tolist(), strict=True))
        assert model(image, image).item() == 0.0
        swapped = model(image.expand_as(batch), batch).tolist()
    assert swapped == pytest.approx(list(d.values()), rel=1e-4)  # symmetric
    assert 0 < d["blur1"] < d["blur2"] < d["blur3"] < 1
    assert 0 < d["noise.02"] < d["noise.05"] < d["noise.10"] < 1
    # PSNR ranks the 1-pixel shift worse than the blur of sigma 2; LPIPS, like people, does not.
    assert psnr(distorted["shift"], image) < psnr(distorted["blur2"], image)
    assert d["shift"] < d["blur1"] / 2
