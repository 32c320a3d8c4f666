"""Converters: a state dict in the authors' DeblurGAN-v2 layout loads and computes the same."""

from __future__ import annotations

import torch
from torch import nn

from deblurgan.models import build_generator
from deblurgan.models.convert import convert_deblurgan_resnet, convert_deblurganv2_fpn_mobilenet

SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1)]
SETTING += [(6, 160, 3, 2), (6, 320, 1, 1)]


class _TonylinsBlock(nn.Module):
    """The inverted residual of the authors' models/mobilenet_v2.py (flat ``conv`` Sequential)."""

    def __init__(self, inp: int, oup: int, stride: int, t: int) -> None:
        super().__init__()
        hid = inp * t
        dw = [nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False), nn.BatchNorm2d(hid)]
        pw = [nn.Conv2d(hid, oup, 1, bias=False), nn.BatchNorm2d(oup)]
        expand = [nn.Conv2d(inp, hid, 1, bias=False), nn.BatchNorm2d(hid), nn.ReLU6()]
        layers = ([] if t == 1 else expand) + [*dw, nn.ReLU6(), *pw]
        self.conv = nn.Sequential(*layers)
        self.res = stride == 1 and inp == oup

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.res else self.conv(x)


def _tonylins_features() -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
    ]
    inp = 32
    for t, c, n, s in SETTING:
        for i in range(n):
            layers.append(_TonylinsBlock(inp, c, s if i == 0 else 1, t))
            inp = c
    layers.append(nn.Sequential(nn.Conv2d(320, 1280, 1, bias=False), nn.BatchNorm2d(1280)))
    return nn.Sequential(*layers)


def _randomise(module: nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.rand(tensor.shape, generator=g) + 0.5
                tensor.copy_(noise if "running_var" in name else noise - 1.0)


def test_deblurganv2_fpn_mobilenet_state_converts_and_computes_the_same() -> None:
    original_features = _tonylins_features().eval()
    _randomise(original_features, seed=3)
    ours = build_generator("fpn_mobilenet").eval()
    _randomise(ours, seed=4)
    # The authors' state dict: DataParallel prefix, the backbone twice (features and enc views).
    raw = {f"module.{k}": v for k, v in ours.state_dict().items() if "fpn.features." not in k}
    for key, value in original_features.state_dict().items():
        raw[f"module.fpn.features.{key}"] = value
    stages = [(0, 2), (2, 4), (4, 7), (7, 11), (11, 16)]
    for e, (start, end) in enumerate(stages):
        for i in range(start, end):
            for key, value in original_features[i].state_dict().items():
                raw[f"module.fpn.enc{e}.{i - start}.{key}"] = value
    ours.load_state_dict(convert_deblurganv2_fpn_mobilenet(raw))  # strict: all keys match
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.inference_mode():
        torch.testing.assert_close(ours.backbone(x), original_features[:16](x))


def test_deblurgan_resnet_state_converts() -> None:
    source = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
    raw = {f"module.{k}": v for k, v in source.state_dict().items()}
    target = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
    target.load_state_dict(convert_deblurgan_resnet(raw))
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value)
