"""DeblurGAN-v2 FPN-Inception and FPN-MobileNet-DSC: counts, the authors' layout, their forward."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from tiny_settings import TINY
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from deblurgan.models import build_generator
from deblurgan.models.backbones import InceptionResNetV2, MobileNetV2
from deblurgan.models.convert import convert_deblurganv2_fpn_inception


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_fpn_inception_parameter_count_matches_the_paper() -> None:
    with torch.device("meta"):
        model = build_generator("fpn_inception")
        full = InceptionResNetV2()
        trunk = InceptionResNetV2(up_to="mixed_7a")
    dead = _count(full) - _count(trunk)  # repeat_2, block8, conv2d_7b, last_linear
    assert dead == 25_089_192
    assert _count(model) == 35_840_099
    # The authors' FPNInception holds the whole Inception-ResNet-v2: 60,929,291, the paper's 60.9 M.
    assert _count(model) + dead == 60_929_291
    # Outside the backbone, by hand: laterals, three top-down convs, four heads, smoothing, final.
    laterals = 256 * (2080 + 1088 + 192 + 64) + 128 * 32
    top_down = 3 * (256 * 256 * 9 + 256)
    heads = 4 * (256 * 128 * 9 + 128 * 128 * 9)
    smoothing = (512 * 128 * 9 + 128) + (128 * 64 * 9 + 64) + (64 * 3 * 9 + 3)
    assert _count(model) - _count(trunk) == laterals + top_down + heads + smoothing


# Keys and shapes of the authors' FPNInception (models/fpn_inception.py, num_filters=128,
# num_filters_fpn=256, instance norm with track_running_stats=True), outside the backbone.
ORIGINAL_FPN_INCEPTION = {
    "fpn.lateral0.weight": (128, 32, 1, 1),
    "fpn.lateral1.weight": (256, 64, 1, 1),
    "fpn.lateral2.weight": (256, 192, 1, 1),
    "fpn.lateral3.weight": (256, 1088, 1, 1),
    "fpn.lateral4.weight": (256, 2080, 1, 1),
    "fpn.td1.0.weight": (256, 256, 3, 3),
    "fpn.td2.0.bias": (256,),
    "fpn.td3.1.running_mean": (256,),
    "head1.block0.weight": (128, 256, 3, 3),
    "head4.block1.weight": (128, 128, 3, 3),
    "smooth.0.weight": (128, 512, 3, 3),
    "smooth.1.running_var": (128,),
    "smooth2.0.weight": (64, 128, 3, 3),
    "smooth2.0.bias": (64,),
    "final.weight": (3, 64, 3, 3),
    "final.bias": (3,),
}


def test_fpn_inception_keys_match_the_original() -> None:
    with torch.device("meta"):
        state = build_generator("fpn_inception").state_dict()
        trunk = InceptionResNetV2(up_to="mixed_7a").state_dict()
    ours = {k: tuple(v.shape) for k, v in state.items()}
    for key, shape in ORIGINAL_FPN_INCEPTION.items():
        assert ours[key] == shape, key
    inside = {k.removeprefix("fpn.inception.") for k in ours if k.startswith("fpn.inception.")}
    assert inside == set(trunk)


class _AuthorsFPN(nn.Module):
    """The forward of the authors' FPN in fpn_inception.py, over shared backbone modules."""

    def __init__(self, ours: nn.Module) -> None:
        super().__init__()
        inc = ours.inception
        self.ours = ours
        self.enc0 = inc.conv2d_1a
        self.enc1 = nn.Sequential(inc.conv2d_2a, inc.conv2d_2b, inc.maxpool_3a)
        self.enc2 = nn.Sequential(inc.conv2d_3b, inc.conv2d_4a, inc.maxpool_5a)
        self.enc3 = nn.Sequential(inc.mixed_5b, inc.repeat, inc.mixed_6a)
        self.enc4 = nn.Sequential(inc.repeat_1, inc.mixed_7a)
        self.pad = nn.ReflectionPad2d(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        o = self.ours
        enc0 = self.enc0(x)
        enc1 = self.enc1(enc0)
        enc2 = self.enc2(enc1)
        enc3 = self.enc3(enc2)
        enc4 = self.enc4(enc3)
        lateral4 = self.pad(o.lateral4(enc4))
        lateral3 = self.pad(o.lateral3(enc3))
        lateral2 = o.lateral2(enc2)
        lateral1 = self.pad(o.lateral1(enc1))
        lateral0 = o.lateral0(enc0)
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
        map4 = lateral4
        map3 = o.td1(lateral3 + up(map4))
        map2 = o.td2(F.pad(lateral2, (1, 2, 1, 2), "reflect") + up(map3))
        map1 = o.td3(lateral1 + up(map2))
        return F.pad(lateral0, (0, 1, 0, 1), "reflect"), map1, map2, map3, map4


def test_fpn_inception_pyramid_computes_like_the_authors() -> None:
    model = build_generator({"name": "fpn_inception", **TINY["fpn_inception"]}).eval()
    reference = _AuthorsFPN(model.fpn).eval()
    x = torch.rand(2, 3, 160, 128) * 2 - 1
    with torch.inference_mode():
        for ours, theirs in zip(model.fpn(x), reference(x), strict=True):
            torch.testing.assert_close(ours, theirs)
    assert [m.shape[-2:] for m in model.fpn(x)] == [(80, 64), (40, 32), (20, 16), (10, 8), (5, 4)]


def test_fpn_inception_pads_small_inputs_internally() -> None:
    model = build_generator({"name": "fpn_inception", **TINY["fpn_inception"]}).eval()
    blurry = torch.rand(1, 3, 64, 160)
    padded = F.pad(blurry, (0, 0, 0, 64), mode="replicate")
    with torch.inference_mode():
        restored = model(blurry)
        expected = model(padded)[..., :64, :]
    assert restored.shape == blurry.shape
    torch.testing.assert_close(restored, expected)
    with pytest.raises(ValueError, match=r"fpn_inception.*divisible by 32"):
        model(torch.rand(1, 3, 128, 100))
    with pytest.raises(ValueError, match=r"blocks"):
        build_generator({"name": "fpn_inception", "blocks": [1, 1]})


def _randomise(module: nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.rand(tensor.shape, generator=g) + 0.5
                tensor.copy_(noise if "running_var" in name else (noise - 1.0) * 0.2)


def test_deblurganv2_fpn_inception_state_converts() -> None:
    settings = TINY["fpn_inception"]
    source = build_generator({"name": "fpn_inception", **settings}).eval()
    _randomise(source, seed=5)
    full = InceptionResNetV2(width=settings["width"], blocks=tuple(settings["blocks"]))
    _randomise(full, seed=6)
    full.load_state_dict(
        {**full.state_dict(), **source.fpn.inception.state_dict()}
    )  # the authors' backbone: ours plus the unused children
    # The authors' state dict: DataParallel prefix, the whole backbone, and its enc views.
    raw = {f"module.{k}": v for k, v in source.state_dict().items() if "fpn.inception." not in k}
    raw |= {f"module.fpn.inception.{k}": v for k, v in full.state_dict().items()}
    views = _AuthorsFPN(source.fpn)
    for e in range(5):
        for key, value in getattr(views, f"enc{e}").state_dict().items():
            raw[f"module.fpn.enc{e}.{key}"] = value
    assert any(k.startswith("module.fpn.inception.block8.") for k in raw)
    target = build_generator({"name": "fpn_inception", **settings}).eval()
    target.load_state_dict(convert_deblurganv2_fpn_inception(raw))  # strict: all keys match
    blurry = torch.rand(1, 3, 128, 128)
    with torch.inference_mode():
        torch.testing.assert_close(target(blurry), source(blurry))


def test_fpn_inception_loads_public_layout_backbone_weights(tmp_path: Path) -> None:
    settings = TINY["fpn_inception"]
    model = build_generator({"name": "fpn_inception", **settings})
    public = InceptionResNetV2(1001, width=settings["width"], blocks=tuple(settings["blocks"]))
    path = tmp_path / "inceptionresnetv2.pth"
    torch.save(public.state_dict(), path)
    model.load_backbone(str(path))
    assert model.backbone is model.fpn.inception
    torch.testing.assert_close(
        model.backbone.mixed_7a.branch2[2].conv.weight, public.mixed_7a.branch2[2].conv.weight
    )


def test_fpn_mobilenet_dsc_count_by_hand_and_cost() -> None:
    with torch.device("meta"):
        dsc = build_generator("fpn_mobilenet_dsc")
        plain = build_generator("fpn_mobilenet")
        mobilenet = MobileNetV2()
    backbone = _count(mobilenet.features[:16])
    assert backbone == 3_504_872 - 1_206_080 - (1280 * 1000 + 1000)

    def separable(c_in: int, c_out: int, bias: bool) -> int:  # 3x3 depthwise + 1x1 pointwise
        return c_in * 9 + c_in * c_out + (c_out if bias else 0)

    laterals = 64 * 16 + 128 * (24 + 32 + 64 + 160)
    top_down = 3 * separable(128, 128, True)
    heads = 4 * (separable(128, 64, False) + separable(64, 64, False))
    smoothing = separable(256, 64, True) + separable(64, 32, True) + separable(32, 3, True)
    assert _count(dsc) == backbone + laterals + top_down + heads + smoothing == 1_185_507
    # Every convolution outside the backbone is 1x1 or depthwise.
    for name, m in dsc.named_modules():
        if isinstance(m, nn.Conv2d) and not name.startswith("fpn.features."):
            assert m.kernel_size == (1, 1) or m.groups == m.in_channels, name
    macs = {}
    for name, model in (("dsc", dsc), ("plain", plain)):
        with torch.device("meta"), FlopCounterMode(display=False) as counter:
            model.eval()(torch.rand(1, 3, 736, 1280))
        macs[name] = counter.get_total_flops() // 2
    # Convolution multiply-adds at 1280x736: the paper reports 43.75 vs 14.83 GFLOPs.
    assert macs == {"dsc": 9_586_547_200, "plain": 38_936_166_400}


def test_fpn_mobilenet_dsc_loads_torchvision_backbone(tmp_path: Path) -> None:
    model = build_generator({"name": "fpn_mobilenet_dsc", **TINY["fpn_mobilenet_dsc"]})
    source = MobileNetV2(width_mult=0.25)
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(source.state_dict(), path)
    model.load_backbone(str(path))
    torch.testing.assert_close(
        model.backbone[3].conv[1][0].weight, source.features[3].conv[1][0].weight
    )
