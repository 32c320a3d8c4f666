"""Backbones: VGG19 and Inception-ResNet-v2 keys, counts and shapes against the public code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch
from torch import nn

from deblurgan.models.backbones import VGG19, VGG19_LAYERS, load_backbone_weights

if TYPE_CHECKING:
    from conftest import LocalServer


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# torchvision/models/vgg.py, cfgs["E"]: convolutions at these ``features`` indices (38 entries in
# the state dict: 16 convs + 3 linear layers, weight and bias each).
TORCHVISION_VGG19_CONVS = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


def test_vgg19_keys_and_count_match_torchvision() -> None:
    with torch.device("meta"):
        net = VGG19()
    # torchvision's documented VGG19_Weights.IMAGENET1K_V1 num_params.
    assert _count(net) == 143_667_240
    state = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    expected = {f"features.{i}.{p}" for i in TORCHVISION_VGG19_CONVS for p in ("weight", "bias")}
    expected |= {f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")}
    assert set(state) == expected and len(state) == 38
    assert state["features.0.weight"] == (64, 3, 3, 3)
    assert state["features.34.weight"] == (512, 512, 3, 3)
    assert state["classifier.0.weight"] == (4096, 25088)
    assert state["classifier.6.weight"] == (1000, 4096)


def test_vgg19_layer_names_and_slicing() -> None:
    assert len(VGG19_LAYERS) == 37
    assert [VGG19_LAYERS.index(f"conv{n}") for n in ("1_1", "2_1", "3_1", "4_1", "5_1")] == [
        0, 5, 10, 19, 28,
    ]  # fmt: skip
    assert [
        i for i, n in enumerate(VGG19_LAYERS) if n.startswith("conv")
    ] == TORCHVISION_VGG19_CONVS
    assert VGG19_LAYERS[-1] == "pool5" and VGG19_LAYERS[35] == "relu5_4"
    # relu3_3 is features[15] (16 children); relu5_4 features[35] (36 children).
    assert len(VGG19(up_to="relu3_3").features) == 16
    assert len(VGG19(up_to="conv5_4").features) == 35
    net = VGG19(up_to="relu3_3")
    assert net.classifier is None
    out = net(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 256, 8, 8) and bool((out >= 0).all())  # after a ReLU
    with pytest.raises(ValueError, match=r"relu6_1.*conv1_1"):
        VGG19(up_to="relu6_1")
    with pytest.raises(ValueError, match=r"relu4_1"):
        net.extract(torch.rand(1, 3, 8, 8), ["relu4_1"])


def test_vgg19_extract_matches_the_sliced_networks() -> None:
    torch.manual_seed(0)
    full = VGG19(up_to="relu3_1").eval()
    x = torch.rand(1, 3, 16, 16)
    feats = full.extract(x, ["conv2_1", "relu3_1", "relu1_2"])
    assert list(feats) == ["conv2_1", "relu3_1", "relu1_2"]
    with torch.inference_mode():
        for name, value in feats.items():
            sliced = full.features[: VGG19_LAYERS.index(name) + 1]
            # A conv output is kept before the in-place ReLU that follows it.
            torch.testing.assert_close(value, sliced(x.clone()))
    assert bool((feats["conv2_1"] < 0).any())


def test_vgg19_features_load_from_a_full_torchvision_layout_file(tmp_path: Path) -> None:
    source = VGG19(up_to="relu2_2")  # a small file in the whole-network key layout
    state = dict(source.state_dict())
    state["classifier.6.bias"] = torch.zeros(1000)
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    target = VGG19(up_to="relu1_2")
    skipped = load_backbone_weights(target, path)
    assert set(skipped) == {
        "features.5.weight", "features.5.bias", "features.7.weight", "features.7.bias",
        "classifier.6.bias",
    }  # fmt: skip
    torch.testing.assert_close(target.features[2].weight, source.features[2].weight)


# Entries of the state dict of Cadene's InceptionResNetV2 (pretrainedmodels/models/
# inceptionresnetv2.py, num_classes=1000 as its "imagenet" setting; timm's inception_resnet_v2
# keeps these names): key -> shape.
CADENE_INCEPTION_RESNET_V2 = {
    "conv2d_1a.conv.weight": (32, 3, 3, 3),
    "conv2d_1a.bn.weight": (32,),
    "conv2d_1a.bn.running_var": (32,),
    "conv2d_1a.bn.num_batches_tracked": (),
    "conv2d_2a.conv.weight": (32, 32, 3, 3),
    "conv2d_2b.conv.weight": (64, 32, 3, 3),
    "conv2d_3b.conv.weight": (80, 64, 1, 1),
    "conv2d_4a.conv.weight": (192, 80, 3, 3),
    "mixed_5b.branch0.conv.weight": (96, 192, 1, 1),
    "mixed_5b.branch1.1.conv.weight": (64, 48, 5, 5),
    "mixed_5b.branch2.2.bn.bias": (96,),
    "mixed_5b.branch3.1.conv.weight": (64, 192, 1, 1),
    "repeat.0.branch2.2.conv.weight": (64, 48, 3, 3),
    "repeat.9.conv2d.weight": (320, 128, 1, 1),
    "repeat.9.conv2d.bias": (320,),
    "mixed_6a.branch0.conv.weight": (384, 320, 3, 3),
    "mixed_6a.branch1.2.conv.weight": (384, 256, 3, 3),
    "repeat_1.19.branch1.1.conv.weight": (160, 128, 1, 7),
    "repeat_1.19.branch1.2.conv.weight": (192, 160, 7, 1),
    "repeat_1.0.conv2d.weight": (1088, 384, 1, 1),
    "mixed_7a.branch0.1.conv.weight": (384, 256, 3, 3),
    "mixed_7a.branch1.1.conv.weight": (288, 256, 3, 3),
    "mixed_7a.branch2.2.conv.weight": (320, 288, 3, 3),
    "repeat_2.8.branch1.1.conv.weight": (224, 192, 1, 3),
    "repeat_2.8.branch1.2.conv.weight": (256, 224, 3, 1),
    "repeat_2.8.conv2d.weight": (2080, 448, 1, 1),
    "block8.conv2d.bias": (2080,),
    "conv2d_7b.conv.weight": (1536, 2080, 1, 1),
    "conv2d_7b.bn.running_mean": (1536,),
    "last_linear.weight": (1000, 1536),
    "last_linear.bias": (1000,),
}


def test_inception_resnet_v2_keys_and_count_match_the_public_code() -> None:
    from deblurgan.models.backbones import InceptionResNetV2

    with torch.device("meta"):
        net = InceptionResNetV2()
        background = InceptionResNetV2(1001)
    # Keras' InceptionResNetV2 reports 55,813,192 trainable parameters with BN scale=False; adding
    # the 30,272 BN gammas that PyTorch's affine BN has gives 55,843,464 (timm's "55.84 M").
    assert _count(net) == 55_843_464
    assert _count(background) - _count(net) == 1536 + 1
    state = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    for key, shape in CADENE_INCEPTION_RESNET_V2.items():
        assert state[key] == shape, key
    assert len(state) == 1306
    assert next(iter(state)) == "conv2d_1a.conv.weight" and list(state)[-1] == "last_linear.bias"
    assert "repeat_1.20.conv2d.weight" not in state and "repeat_2.9.conv2d.weight" not in state
    assert not any(k.startswith("block8.relu") for k in state)  # block8 has no ReLU
    # DeblurGAN-v2 runs it up to mixed_7a: repeat_2, block8, conv2d_7b, last_linear are left out.
    with torch.device("meta"):
        trunk = InceptionResNetV2(up_to="mixed_7a")
    assert _count(trunk) == 30_754_272
    assert set(trunk.state_dict()) == {
        k
        for k in state
        if k.split(".")[0] not in ("repeat_2", "block8", "conv2d_7b", "last_linear")
    }


def test_inception_resnet_v2_valid_convolutions_and_slicing() -> None:
    from deblurgan.models.backbones import InceptionResNetV2

    net = InceptionResNetV2(num_classes=3, width=0.0625, blocks=(1, 1, 1)).eval()
    # Every published width divides by 16: 320 / 16, 1088 / 16 = 24 + 24 + 20, 2080 / 16.
    assert [net.feature_channels[k] for k in ("mixed_5b", "mixed_6a", "mixed_7a")] == [20, 68, 130]
    x = torch.rand(2, 3, 128, 160)
    with torch.inference_mode():
        # Unpadded stem: 128 -> 63 -> 61 -> 30 -> 28 -> 13 -> 6 -> 2.
        shapes = []
        for name in net.feature_channels:
            x = getattr(net, name)(x)
            shapes.append(tuple(x.shape[1:]))
    assert shapes[0] == (2, 63, 79) and shapes[6][1:] == (13, 17)
    assert shapes[9][1:] == (6, 8) and shapes[11][1:] == (2, 3)
    assert [s[0] for s in shapes] == list(net.feature_channels.values())
    assert net(torch.rand(1, 3, 75, 75)).shape == (1, 3)
    with pytest.raises(ValueError, match=r"mixed_8a.*conv2d_1a"):
        InceptionResNetV2(up_to="mixed_8a")
    with pytest.raises(ValueError, match=r"blocks"):
        InceptionResNetV2(blocks=(1, 2))  # type: ignore[arg-type]


def test_backbone_weights_by_url_go_through_the_downloader(
    http_server: LocalServer, tmp_path: Path
) -> None:
    import hashlib
    import io

    source = VGG19(up_to="relu1_2")
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    url = http_server.serve("/vgg/vgg19.pth", buffer.getvalue())
    target = VGG19(up_to="relu1_2")
    sha = hashlib.sha256(buffer.getvalue()).hexdigest()
    assert load_backbone_weights(target, url, sha256=sha) == []
    torch.testing.assert_close(target.features[2].weight, source.features[2].weight)
    load_backbone_weights(VGG19(up_to="relu1_2"), url, sha256=sha)  # cached: no second request
    assert http_server.hits["/vgg/vgg19.pth"] == 1
    page = http_server.serve("/vgg/page.pth", b"<!doctype html><p>rate limited</p>")
    with pytest.raises(OSError, match="HTML page"):
        load_backbone_weights(target, page)
    with pytest.raises(ValueError, match="loopback"):
        load_backbone_weights(target, "http://example.org/vgg19.pth")
