"""Perceptual (VGG19) and LPIPS losses: weights from torchvision-layout files, values against a
plain functional re-implementation, and the frozen network kept out of state dicts."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from deblurgan.losses import CONTENT_LOSSES, LPIPSLoss, PerceptualLoss, WeightedLoss
from deblurgan.losses.perceptual import PERCEPTUAL_LAYERS
from deblurgan.models.backbones import VGG19
from deblurgan.models.lpips import LPIPSNetwork

# torchvision's VGG19 ``features`` up to conv3_3: convolutions at 0, 2, 5, 7, 10, 12, 14 and max
# pools at 4 and 9 (torchvision/models/vgg.py, cfgs["E"]); DeblurGAN's conv_3_3_layer = 14.
CONV3_3_CONVS = (0, 2, 5, 7, 10, 12, 14)
IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@pytest.fixture(scope="module")
def vgg19_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A torchvision-layout VGG19 file: random features up to conv3_3 plus a classifier entry."""
    torch.manual_seed(0)
    state = dict(VGG19(up_to="conv3_3").state_dict())
    state["classifier.6.bias"] = torch.zeros(1000)  # as in a whole-network file; skipped
    path = tmp_path_factory.mktemp("vgg") / "vgg19.pth"
    torch.save(state, path)
    return path


def _reference_conv3_3(state: dict[str, torch.Tensor], image: torch.Tensor) -> torch.Tensor:
    """VGG19 conv3_3 of images in [0, 1], written out with torch.nn.functional."""
    x = (image - IMAGENET_MEAN) / IMAGENET_STD
    for index in CONV3_3_CONVS:
        x = F.conv2d(
            x, state[f"features.{index}.weight"], state[f"features.{index}.bias"], padding=1
        )
        if index == 14:
            break  # conv3_3 is taken before its ReLU
        x = F.relu(x)
        if index in (2, 7):
            x = F.max_pool2d(x, 2)
    return x


def test_perceptual_loss_matches_a_functional_vgg19(vgg19_file: Path) -> None:
    state = torch.load(vgg19_file, weights_only=True)
    assert [k for k in state if k.endswith("weight")] == [
        f"features.{i}.weight" for i in CONV3_3_CONVS
    ]
    g = torch.Generator().manual_seed(1)
    restored, sharp = torch.rand(2, 3, 16, 16, generator=g), torch.rand(2, 3, 16, 16, generator=g)
    expected_features = _reference_conv3_3(state, restored) - _reference_conv3_3(state, sharp)
    loss = PerceptualLoss(weights=vgg19_file)
    torch.testing.assert_close(loss(restored, sharp), expected_features.square().mean())
    l1 = PerceptualLoss(weights=vgg19_file, criterion="l1")
    torch.testing.assert_close(l1(restored, sharp), expected_features.abs().mean())
    # conv3_3 keeps negative responses; relu3_3 is the same map through a ReLU.
    conv = loss.features(restored)
    relu = PerceptualLoss(layer="relu3_3", weights=vgg19_file).features(restored)
    assert conv.shape == (2, 256, 4, 4) and bool((conv < 0).any())
    torch.testing.assert_close(relu, conv.relu())


def test_perceptual_loss_reads_safetensors_and_rejects_short_files(
    vgg19_file: Path, tmp_path: Path
) -> None:
    state = torch.load(vgg19_file, weights_only=True)
    path = tmp_path / "vgg19.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, path)
    a, b = PerceptualLoss(weights=vgg19_file), PerceptualLoss(weights=path)
    x, y = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(a(x, y), b(x, y))
    # A file without the conv3_x layers cannot fill conv3_3: strict for the kept layers.
    short = tmp_path / "short.pth"
    torch.save(VGG19(up_to="relu2_2").state_dict(), short)
    with pytest.raises(ValueError, match=r"lacks 6 entries.*features\.10\.weight"):
        PerceptualLoss(weights=short)
    with pytest.raises(FileNotFoundError):
        PerceptualLoss(weights=tmp_path / "missing.pth")


def test_perceptual_network_is_frozen_and_outside_the_state_dict(vgg19_file: Path) -> None:
    loss = PerceptualLoss(weights=vgg19_file)
    assert len(loss.network.features) == 15  # features[0..14]: up to conv3_3 only
    assert list(loss.parameters()) == [] and loss.state_dict() == {}
    assert all(not p.requires_grad for p in loss.network.parameters())
    loss.train()
    assert loss.training and not loss.network.training
    # Inside a WeightedLoss (and so a Lightning module) nothing of VGG reaches the checkpoint.
    weighted = WeightedLoss({"mse": 0.5, "perceptual": {"weight": 0.006, "weights": vgg19_file}})
    assert weighted.state_dict() == {} and list(weighted.parameters()) == []
    weighted.load_state_dict({}, strict=True)
    # Device and dtype moves reach the held network; a deep copy holds its own.
    weighted.double()
    inner = weighted.losses["perceptual"]
    assert next(inner.network.parameters()).dtype == torch.float64
    assert inner.mean.dtype == torch.float64
    clone = copy.deepcopy(inner)
    assert next(clone.network.parameters()) is not next(inner.network.parameters())
    torch.testing.assert_close(next(clone.network.parameters()), next(inner.network.parameters()))


def test_perceptual_gradients_reach_the_image_only(vgg19_file: Path) -> None:
    loss = PerceptualLoss(weights=vgg19_file)
    restored = torch.rand(1, 3, 8, 8, requires_grad=True)
    value = loss(restored, torch.rand(1, 3, 8, 8))
    value.backward()
    assert restored.grad is not None and restored.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.network.parameters())
    # Inputs in another dtype are cast to the network's.
    assert loss(restored.double(), torch.rand(1, 3, 8, 8).double()).dtype == torch.float32


def test_perceptual_options_and_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert PERCEPTUAL_LAYERS[0] == "conv1_1" and PERCEPTUAL_LAYERS[-1] == "relu5_4"
    assert len(PERCEPTUAL_LAYERS) == 32  # 16 convolutions, each with its ReLU
    with pytest.raises(ValueError, match=r"unknown VGG19 layer 'conv6_1'.*conv1_1.*relu5_4"):
        PerceptualLoss(layer="conv6_1")
    with pytest.raises(ValueError, match="unknown VGG19 layer 'pool2'"):
        PerceptualLoss(layer="pool2")
    with pytest.raises(ValueError, match="criterion must be one of mse, l1"):
        PerceptualLoss(criterion="huber")
    with pytest.raises(TypeError, match="positional"):
        PerceptualLoss("conv3_3")  # type: ignore[misc]
    with caplog.at_level(logging.WARNING, logger="deblurgan.losses.perceptual"):
        loss = CONTENT_LOSSES.build("perceptual", layer="relu1_1")
    assert "without VGG19 weights" in caplog.text
    with pytest.raises(ValueError, match=r"RGB images \(B, 3, H, W\)"):
        loss(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8))


def _lpips_files(tmp_path: Path) -> tuple[Path, Path, LPIPSNetwork]:
    torch.manual_seed(3)
    source = LPIPSNetwork("alex")
    lin = {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate(
        (64, 192, 384, 256, 256)
    )}  # fmt: skip
    torch.save(lin, tmp_path / "alex.pth")
    torch.save(source.net.state_dict(), tmp_path / "alexnet.pth")  # features.N.* keys
    return tmp_path / "alex.pth", tmp_path / "alexnet.pth", source


def test_lpips_loss_is_the_mean_lpips_distance(tmp_path: Path) -> None:
    lin_path, trunk_path, _ = _lpips_files(tmp_path)
    loss = LPIPSLoss(net="alex", lin_weights=lin_path, backbone_weights=trunk_path)
    reference = LPIPSNetwork("alex", lin_weights=lin_path, backbone_weights=trunk_path)
    g = torch.Generator().manual_seed(4)
    restored = torch.rand(3, 3, 32, 32, generator=g, requires_grad=True)
    sharp = torch.rand(3, 3, 32, 32, generator=g)
    value = loss(restored, sharp)
    with torch.no_grad():
        distances = reference(restored, sharp)
    torch.testing.assert_close(value.detach(), distances.mean())
    assert bool((distances > 0).all())
    value.backward()
    assert restored.grad is not None and restored.grad.abs().sum() > 0
    assert loss.state_dict() == {} and list(loss.parameters()) == []
    assert loss(sharp, sharp).item() == 0.0
    loss.train()
    assert not loss.network.training


def test_lpips_loss_options() -> None:
    with pytest.raises(ValueError, match="net must be one of vgg, alex"):
        LPIPSLoss(net="squeeze")
    with pytest.raises(ValueError, match="at least 16x16"):
        LPIPSLoss(net="vgg")(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))


def test_fetched_weights_are_the_default(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from deblurgan.models.backbones import VGG16Features
    from deblurgan.models.fetch import weights_dir

    with caplog.at_level(logging.WARNING):
        LPIPSLoss(net="alex")
        PerceptualLoss(net="vgg16", layer="relu1_2")
    assert caplog.text.count("deblur weights fetch lpips") == 2
    # What 'deblur weights fetch lpips' leaves in the cache (random values: a wiring test).
    lin_path, trunk_path, source = _lpips_files(tmp_path)
    folder = weights_dir()
    folder.mkdir(parents=True)
    save_file(torch.load(lin_path, weights_only=True), folder / "lpips_alex_v0.1.safetensors")
    save_file(source.net.state_dict(), folder / "alexnet_imagenet.safetensors")
    torch.manual_seed(5)
    vgg16 = VGG16Features(up_to="relu5_3").state_dict()
    save_file(dict(vgg16), folder / "vgg16_imagenet.safetensors")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        lpips = LPIPSLoss(net="alex")
        perceptual = PerceptualLoss(net="vgg16", layer="relu3_3")
    assert caplog.text == ""
    torch.testing.assert_close(
        lpips.network.lin2.weight, torch.load(lin_path, weights_only=True)["lin2.model.1.weight"]
    )
    torch.testing.assert_close(perceptual.network.features[14].weight, vgg16["features.14.weight"])
    # Explicit paths still win, and VGG19 is never stood in for by VGG16.
    explicit = LPIPSLoss(net="alex", lin_weights=lin_path, backbone_weights=trunk_path)
    torch.testing.assert_close(explicit.network.lin2.weight, lpips.network.lin2.weight)
    with caplog.at_level(logging.WARNING):
        PerceptualLoss(layer="relu1_2")
    assert "without VGG19 weights" in caplog.text


def test_vgg16_perceptual_options() -> None:
    with pytest.raises(ValueError, match="net must be one of vgg19, vgg16"):
        PerceptualLoss(net="vgg11")
    with pytest.raises(ValueError, match="unknown VGG16 layer 'conv5_4'"):
        PerceptualLoss(net="vgg16", layer="conv5_4")
    loss = PerceptualLoss(net="vgg16", layer="conv3_3")
    assert len(loss.network.features) == 15 and "net='vgg16'" in repr(loss)
    assert CONTENT_LOSSES.build("perceptual", net="vgg16", layer="relu2_2").net_name == "vgg16"


def test_real_vgg16_and_lpips_losses(
    photo: np.ndarray,
    real_weights_cache: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the fetched ImageNet VGG16 and LPIPS weights: both losses grow with blur."""
    monkeypatch.setenv("DEBLURGAN_CACHE", str(real_weights_cache("lpips")))
    image = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    image = F.avg_pool2d(image, 8)  # (1, 3, 64, 64)
    blurred = [F.avg_pool2d(F.pad(image, (k // 2,) * 4, mode="reflect"), k, 1) for k in (3, 5, 9)]
    perceptual = PerceptualLoss(net="vgg16", layer="relu2_2")
    lpips = LPIPSLoss(net="vgg")
    for loss in (perceptual, lpips):
        with torch.inference_mode():
            values = [loss(b, image).item() for b in blurred]
            assert loss(image, image).item() == 0.0
        assert 0 < values[0] < values[1] < values[2], values
    expected = LPIPSNetwork.pretrained("vgg")(blurred[0], image)
    torch.testing.assert_close(lpips(blurred[0], image), expected.mean())
