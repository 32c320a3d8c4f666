"""Contracts of every registered model (parametrised over the registries), counts, key layouts."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from tiny_settings import TINY
from torch import nn

from deblurgan.models import DISCRIMINATORS, GENERATORS, build_generator
from deblurgan.models.backbones import MobileNetV2, load_backbone_weights, make_divisible
from deblurgan.models.discriminators import PatchDiscriminator, receptive_field

# Tiny settings per registered name: a new architecture adds its entry here.
# Input side for discriminators (the global critic of double_scale needs 128 px).
DISC_SIDE = {"patchgan": 64, "double_scale": 128, "global": 64, "srgan": 64}


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_every_registered_model_has_tiny_settings() -> None:
    assert set(GENERATORS) | set(DISCRIMINATORS) <= set(TINY)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_keeps_shape_and_learns(name: str) -> None:
    model = build_generator({"name": name, **TINY[name]})
    blurry = torch.rand(2, 3, 64, 64)
    restored = model(blurry)
    assert restored.shape == blurry.shape and torch.isfinite(restored).all()
    assert restored.min() >= 0 and restored.max() <= 1
    # Multi-output generators train through all their outputs (coarse heads included).
    outputs = model.forward_multiscale(blurry) if hasattr(model, "forward_multiscale") else []
    assert all(o.shape[:2] == blurry.shape[:2] and torch.isfinite(o).all() for o in outputs)
    sum(o.mean() for o in [restored, *outputs]).backward()
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert trainable
    assert [n for n, p in trainable if p.grad is None] == []
    assert all(torch.isfinite(p.grad).all() for _, p in trainable if p.grad is not None)


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("size", [(37, 53), (64, 96)])
def test_generator_handles_any_size_through_padding(name: str, size: tuple[int, int]) -> None:
    model = build_generator({"name": name, **TINY[name]}).eval()
    m = model.size_multiple
    assert isinstance(m, int) and m >= 1
    h, w = size
    blurry = torch.rand(1, 3, h, w)
    ph, pw = (-h) % m, (-w) % m
    padded = F.pad(blurry, (0, pw, 0, ph), mode="replicate")  # as inference pads
    with torch.inference_mode():
        restored = model(padded)[..., :h, :w]
    assert restored.shape == blurry.shape and torch.isfinite(restored).all()
    if ph or pw:
        with pytest.raises(ValueError, match=r"divisible"):
            model(blurry)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_eval_is_deterministic_and_batch_independent(name: str) -> None:
    model = build_generator({"name": name, **TINY[name]})
    model(torch.rand(2, 3, 64, 64))  # one training step's worth of running statistics
    model.eval()
    blurry = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        both = model(blurry)
        first = model(blurry[:1])
    torch.testing.assert_close(both[:1], first, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(DISCRIMINATORS))
def test_discriminator_returns_logit_maps_and_learns(name: str) -> None:
    model = DISCRIMINATORS.build(name, **TINY[name])
    side = DISC_SIDE[name]
    maps = model(torch.rand(2, 3, side, side))
    assert isinstance(maps, list) and maps
    for logits in maps:
        assert logits.ndim == 4 and logits.shape[:2] == (2, 1) and logits.shape[-1] >= 1
        assert torch.isfinite(logits).all()
    sum(m.mean() for m in maps).backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []


def test_double_scale_matches_design_example() -> None:
    maps = DISCRIMINATORS.build("double_scale", width=8)(torch.rand(2, 3, 128, 128))
    assert [m.shape[-1] for m in maps] == [14, 2]


def test_patch_discriminator_layout_receptive_field_and_spectral_norm() -> None:
    # pix2pix NLayerDiscriminator(ndf=64, n_layers=3): convs at model.0, 2, 5, 8, 11.
    d = PatchDiscriminator(width=64, depth=3)
    shapes = {k: tuple(v.shape) for k, v in d.state_dict().items()}
    assert shapes == {
        "model.0.weight": (64, 3, 4, 4),
        "model.0.bias": (64,),
        "model.2.weight": (128, 64, 4, 4),
        "model.2.bias": (128,),
        "model.5.weight": (256, 128, 4, 4),
        "model.5.bias": (256,),
        "model.8.weight": (512, 256, 4, 4),
        "model.8.bias": (512,),
        "model.11.weight": (1, 512, 4, 4),
        "model.11.bias": (1,),
    }
    assert d.receptive_field == 70 and receptive_field(5) == 286
    # Receptive field measured: the gradient of the centre logit covers a 70-px square.
    small = PatchDiscriminator(width=2, depth=3, norm="none")
    image = torch.rand(1, 3, 160, 160, requires_grad=True)
    logits = small(image)[0]
    logits[0, 0, logits.shape[-2] // 2, logits.shape[-1] // 2].backward()
    assert image.grad is not None
    rows = image.grad.abs().sum((0, 1, 3)).nonzero()
    assert int(rows.max() - rows.min() + 1) == 70
    sn = PatchDiscriminator(width=4, spectral_norm=True, norm="none")
    assert any("parametrizations.weight.original" in k for k in sn.state_dict())
    assert sn(torch.rand(1, 3, 64, 64))[0].shape == (1, 1, 6, 6)


def test_published_parameter_counts() -> None:
    with torch.device("meta"):
        mobilenet = MobileNetV2()
        fpn = build_generator("fpn_mobilenet")
        resnet = build_generator("resnet")
        patch = DISCRIMINATORS.build("patchgan")
    # torchvision's documented MobileNet_V2_Weights.IMAGENET1K_V1 num_params.
    assert _count(mobilenet) == 3_504_872
    # The authors' FPNMobileNet counts 3,312,707 (the paper's 3.31 M): it also holds MobileNetV2
    # children 16-18 (1,206,080 parameters) that its forward never runs; we leave them out.
    assert _count(mobilenet.features[16:]) == 1_206_080
    assert _count(fpn) == 2_106_627
    assert _count(fpn) + _count(mobilenet.features[16:]) == 3_312_707
    # DeblurGAN (resnet_9blocks, ngf=64, instance norm): the 11.38 M of the paper's issue tracker.
    assert _count(resnet) == 11_378_179
    # pix2pix's basic 70x70 critic prints "Total number of parameters : 2.765 M".
    assert _count(patch) == 2_764_737


# A few entries of torchvision's mobilenet_v2 state dict (keys and shapes), from
# torchvision/models/mobilenetv2.py: 314 entries in all, BatchNorm buffers included.
TORCHVISION_MOBILENET_V2 = {
    "features.0.0.weight": (32, 3, 3, 3),
    "features.0.1.running_var": (32,),
    "features.0.1.num_batches_tracked": (),
    "features.1.conv.0.0.weight": (32, 1, 3, 3),
    "features.1.conv.0.1.weight": (32,),
    "features.1.conv.1.weight": (16, 32, 1, 1),
    "features.1.conv.2.bias": (16,),
    "features.2.conv.0.0.weight": (96, 16, 1, 1),
    "features.2.conv.1.0.weight": (96, 1, 3, 3),
    "features.2.conv.2.weight": (24, 96, 1, 1),
    "features.2.conv.3.running_mean": (24,),
    "features.17.conv.2.weight": (320, 960, 1, 1),
    "features.18.0.weight": (1280, 320, 1, 1),
    "features.18.1.bias": (1280,),
    "classifier.1.weight": (1000, 1280),
    "classifier.1.bias": (1000,),
}


def test_mobilenet_v2_keys_match_torchvision() -> None:
    with torch.device("meta"):
        state = MobileNetV2().state_dict()
    assert len(state) == 314
    keys = list(state)
    assert keys[0] == "features.0.0.weight" and keys[-1] == "classifier.1.bias"
    for key, shape in TORCHVISION_MOBILENET_V2.items():
        assert tuple(state[key].shape) == shape, key


def test_mobilenet_v2_width_rounding_and_residuals() -> None:
    # Hand-computed with the TF/torchvision rule (nearest multiple of 8, at most 10% down).
    assert [make_divisible(c * 0.35) for c in (32, 16, 24, 32, 64, 96, 160, 320)] == [
        16, 8, 8, 16, 24, 32, 56, 112,
    ]  # fmt: skip
    assert make_divisible(1280 * 1.4) == 1792 and make_divisible(32 * 1.4) == 48
    with torch.device("meta"):
        net = MobileNetV2(width_mult=0.5)
    assert net.features[0][0].out_channels == 16 and net.last_channel == 1280
    flags = [getattr(block, "use_res_connect", False) for block in MobileNetV2().features]
    assert [i for i, f in enumerate(flags) if f] == [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]


def test_mobilenet_v2_downsamples_by_32() -> None:
    net = MobileNetV2(num_classes=7, width_mult=0.25).eval()
    x = torch.rand(1, 3, 64, 96)
    with torch.inference_mode():
        assert net.features(x).shape == (1, 1280, 2, 3)
        assert net(x).shape == (1, 7)


# Keys and shapes of the authors' FPNMobileNet (models/fpn_mobilenet.py, default settings,
# instance norm with track_running_stats=True), outside the backbone.
ORIGINAL_FPN_MOBILENET = {
    "fpn.lateral0.weight": (64, 16, 1, 1),
    "fpn.lateral1.weight": (128, 24, 1, 1),
    "fpn.lateral2.weight": (128, 32, 1, 1),
    "fpn.lateral3.weight": (128, 64, 1, 1),
    "fpn.lateral4.weight": (128, 160, 1, 1),
    "fpn.td1.0.weight": (128, 128, 3, 3),
    "fpn.td1.0.bias": (128,),
    "fpn.td3.1.running_mean": (128,),
    "fpn.td3.1.num_batches_tracked": (),
    "head1.block0.weight": (64, 128, 3, 3),
    "head4.block1.weight": (64, 64, 3, 3),
    "smooth.0.weight": (64, 256, 3, 3),
    "smooth.0.bias": (64,),
    "smooth.1.running_var": (64,),
    "smooth2.0.weight": (32, 64, 3, 3),
    "smooth2.0.bias": (32,),
    "smooth2.1.running_mean": (32,),
    "final.weight": (3, 32, 3, 3),
    "final.bias": (3,),
}


def test_fpn_mobilenet_keys_match_the_original() -> None:
    with torch.device("meta"):
        state = build_generator("fpn_mobilenet").state_dict()
        backbone = MobileNetV2().state_dict()
    ours = {k: tuple(v.shape) for k, v in state.items()}
    for key, shape in ORIGINAL_FPN_MOBILENET.items():
        assert ours[key] == shape, key
    outside = {k for k in ours if not k.startswith("fpn.features.")}
    assert {k for k in outside if "weight" in k or "bias" in k} == {
        k for k in ORIGINAL_FPN_MOBILENET if "weight" in k or "bias" in k
    } | {f"fpn.td{i}.0.{p}" for i in (2, 3) for p in ("weight", "bias")} | {
        f"head{i}.block{j}.weight" for i in (1, 2, 3, 4) for j in (0, 1)
    }
    # The backbone is torchvision's MobileNetV2 children 0-15, same keys and shapes.
    inside = {k.removeprefix("fpn.") for k in ours if k.startswith("fpn.features.")}
    expected = {k for k in backbone if k.startswith("features.") and int(k.split(".")[1]) < 16}
    assert inside == expected


def test_fpn_mobilenet_settings_and_backbone_loading(tmp_path: Any) -> None:
    model = build_generator({"name": "fpn_mobilenet", **TINY["fpn_mobilenet"]})
    assert model.size_multiple == 32
    assert model.backbone is model.fpn.features
    source = MobileNetV2(width_mult=0.25)
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(source.state_dict(), path)
    model.load_backbone(str(path))
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, source.state_dict()[f"features.{key}"])
    wider = tmp_path / "wider.pth"
    torch.save(MobileNetV2(width_mult=0.5).state_dict(), wider)
    with pytest.raises(ValueError, match=r"shape"):
        model.load_backbone(str(wider))
    partial = tmp_path / "partial.pth"
    torch.save({k: v for k, v in source.state_dict().items() if "features.3." not in k}, partial)
    with pytest.raises(ValueError, match=r"lacks"):
        load_backbone_weights(model.backbone, partial, prefix="features.")
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"corrupt.pth"):
        load_backbone_weights(model.backbone, corrupt)


def test_fpn_mobilenet_uses_running_statistics_in_eval_like_the_original() -> None:
    model = build_generator({"name": "fpn_mobilenet", **TINY["fpn_mobilenet"]})
    norm = model.smooth[1]
    assert isinstance(norm, nn.InstanceNorm2d) and norm.track_running_stats
    assert norm.running_mean is not None and bool((norm.running_mean == 0).all())
    model(torch.rand(2, 3, 64, 64))
    assert not bool((norm.running_mean == 0).all())  # training updates the running averages
    plain = build_generator({"name": "fpn_mobilenet", **TINY["fpn_mobilenet"], "norm": "none"})
    assert isinstance(plain.smooth[1], nn.Identity)


def test_every_generator_follows_the_generator_protocol() -> None:
    # The contract of deblurgan.models.generator, read through its accessors everywhere.
    from deblurgan.models import GENERATORS, Generator
    from deblurgan.models.generator import arch_name, multiscale_forward, size_multiple

    for name in GENERATORS:
        with torch.device("meta"):
            model = build_generator(name)
        assert isinstance(model, Generator), name
        assert size_multiple(model) == model.size_multiple >= 1
        assert arch_name(model) == name
        assert (multiscale_forward(model) is not None) == hasattr(model, "forward_multiscale")
    plain = nn.Conv2d(3, 3, 1)  # a user's module: no declarations, the defaults
    assert size_multiple(plain) == 1 and arch_name(plain) == "Conv2d"
    assert multiscale_forward(plain) is None
    plain.size_multiple = 0  # type: ignore[assignment]
    with pytest.raises(ValueError, match="size_multiple must be a positive int"):
        size_multiple(plain)
