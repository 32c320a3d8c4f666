"""AlexNet and VGG16 features (the LPIPS trunks): keys, counts and shapes against torchvision."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from deblurgan.models.backbones import (
    ALEXNET_LAYERS,
    VGG16_LAYERS,
    AlexNetFeatures,
    VGG16Features,
    load_backbone_weights,
)

# torchvision/models/alexnet.py: convolutions at features 0, 3, 6, 8, 10 with these shapes.
TORCHVISION_ALEXNET = {
    0: (64, 3, 11, 11),
    3: (192, 64, 5, 5),
    6: (384, 192, 3, 3),
    8: (256, 384, 3, 3),
    10: (256, 256, 3, 3),
}
# torchvision/models/vgg.py, cfgs["D"]: convolutions at these ``features`` indices.
TORCHVISION_VGG16_CONVS = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_alexnet_keys_and_count_match_torchvision() -> None:
    net = AlexNetFeatures()
    state = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    expected = {f"features.{i}.weight": shape for i, shape in TORCHVISION_ALEXNET.items()}
    expected |= {f"features.{i}.bias": (shape[0],) for i, shape in TORCHVISION_ALEXNET.items()}
    assert state == expected
    # torchvision's documented AlexNet_Weights.IMAGENET1K_V1 num_params is 61,100,840; its
    # classifier (9216*4096 + 4096) + (4096*4096 + 4096) + (4096*1000 + 1000) holds 58,631,144.
    assert _count(net) == 61_100_840 - 58_631_144 == 2_469_696
    assert len(net.features) == len(ALEXNET_LAYERS) == 13
    assert [ALEXNET_LAYERS.index(f"relu{k}") for k in range(1, 6)] == [1, 4, 7, 9, 11]


def test_alexnet_shapes_and_slicing() -> None:
    net = AlexNetFeatures().eval()
    with torch.inference_mode():
        assert net(torch.rand(1, 3, 224, 224)).shape == (1, 256, 6, 6)  # torchvision's 6x6
        trunk = AlexNetFeatures(up_to="relu5")
        assert len(trunk.features) == 12
        assert trunk(torch.rand(2, 3, 31, 31)).shape == (2, 256, 1, 1)  # the smallest input
    with pytest.raises(ValueError, match=r"unknown AlexNet layer 'relu6'.*conv1"):
        AlexNetFeatures(up_to="relu6")


def test_vgg16_keys_count_and_lpips_taps() -> None:
    net = VGG16Features()
    state = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    expected = {f"features.{i}.{p}" for i in TORCHVISION_VGG16_CONVS for p in ("weight", "bias")}
    assert set(state) == expected
    assert state["features.0.weight"] == (64, 3, 3, 3)
    assert state["features.28.weight"] == (512, 512, 3, 3)
    # torchvision's VGG16_Weights.IMAGENET1K_V1 num_params 138,357,544 minus its classifier
    # (25088*4096 + 4096) + (4096*4096 + 4096) + (4096*1000 + 1000) = 123,642,856.
    assert _count(net) == 138_357_544 - 123_642_856 == 14_714_688
    assert len(VGG16_LAYERS) == 31 and VGG16_LAYERS[-1] == "pool5"
    assert [i for i, n in enumerate(VGG16_LAYERS) if n.startswith("conv")] == (
        TORCHVISION_VGG16_CONVS
    )
    # lpips/pretrained_networks.py (vgg16): slices end after features 3, 8, 15, 22, 29.
    taps = ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"]
    assert [VGG16_LAYERS.index(t) for t in taps] == [3, 8, 15, 22, 29]


def test_vgg16_shapes_and_errors() -> None:
    net = VGG16Features(up_to="relu3_3")
    assert len(net.features) == 16
    out = net(torch.rand(1, 3, 16, 16))
    assert out.shape == (1, 256, 4, 4) and bool((out >= 0).all())
    with pytest.raises(ValueError, match=r"unknown VGG16 layer 'conv3_4'.*pool5"):
        VGG16Features(up_to="conv3_4")  # VGG19 has it, VGG16 does not


def test_trunks_load_from_whole_network_files(tmp_path: Path) -> None:
    source = AlexNetFeatures()
    state = dict(source.state_dict())
    state["classifier.1.weight"] = torch.zeros(1)  # a whole-network entry: skipped
    torch.save(state, tmp_path / "alexnet.pth")
    target = AlexNetFeatures(up_to="relu2")
    skipped = load_backbone_weights(target, tmp_path / "alexnet.pth")
    assert "classifier.1.weight" in skipped and "features.6.weight" in skipped
    torch.testing.assert_close(target.features[3].weight, source.features[3].weight)
