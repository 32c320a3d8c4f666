"""MIMO-UNet, MIMO-UNet+ and the pure U-Net: counts, scales, the authors' layout and weights."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deblurgan.models import GENERATORS, build_generator
from deblurgan.models.convert import convert_mimo_unet


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- The authors' network (chosj95/MIMO-UNet, models/MIMOUNet.py + layers.py), rewritten here ---
# as an independent reference: base_channel fixed at 32, no normalisation, nearest resampling.


class RefBasicConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int, relu: bool = True,
                 transpose: bool = False) -> None:  # fmt: skip
        super().__init__()
        if transpose:
            conv: nn.Module = nn.ConvTranspose2d(cin, cout, k, stride, padding=k // 2 - 1)
        else:
            conv = nn.Conv2d(cin, cout, k, stride, padding=k // 2)
        self.main = nn.Sequential(conv, nn.ReLU(inplace=True)) if relu else nn.Sequential(conv)

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)


class RefResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.main = nn.Sequential(RefBasicConv(c, c, 3, 1), RefBasicConv(c, c, 3, 1, relu=False))

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x) + x


class RefBlock(nn.Module):  # EBlock and DBlock
    def __init__(self, c: int, num_res: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(*[RefResBlock(c) for _ in range(num_res)])

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class RefAFF(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            RefBasicConv(cin, cout, 1, 1), RefBasicConv(cout, cout, 3, 1, relu=False)
        )

    def forward(self, x1: Tensor, x2: Tensor, x4: Tensor) -> Tensor:
        return self.conv(torch.cat([x1, x2, x4], dim=1))


class RefSCM(nn.Module):
    def __init__(self, p: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            RefBasicConv(3, p // 4, 3, 1),
            RefBasicConv(p // 4, p // 2, 1, 1),
            RefBasicConv(p // 2, p // 2, 3, 1),
            RefBasicConv(p // 2, p - 3, 1, 1),
        )
        self.conv = RefBasicConv(p, p, 1, 1, relu=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(torch.cat([x, self.main(x)], dim=1))


class RefFAM(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.merge = RefBasicConv(c, c, 3, 1, relu=False)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return x1 + self.merge(x1 * x2)


class RefMIMOUNet(nn.Module):
    def __init__(self, num_res: int = 8) -> None:
        super().__init__()
        b = 32
        self.Encoder = nn.ModuleList([RefBlock(b, num_res), RefBlock(2 * b, num_res),
                                      RefBlock(4 * b, num_res)])  # fmt: skip
        self.feat_extract = nn.ModuleList([
            RefBasicConv(3, b, 3, 1),
            RefBasicConv(b, 2 * b, 3, 2),
            RefBasicConv(2 * b, 4 * b, 3, 2),
            RefBasicConv(4 * b, 2 * b, 4, 2, transpose=True),
            RefBasicConv(2 * b, b, 4, 2, transpose=True),
            RefBasicConv(b, 3, 3, 1, relu=False),
        ])  # fmt: skip
        self.Decoder = nn.ModuleList([RefBlock(4 * b, num_res), RefBlock(2 * b, num_res),
                                      RefBlock(b, num_res)])  # fmt: skip
        self.Convs = nn.ModuleList([RefBasicConv(4 * b, 2 * b, 1, 1), RefBasicConv(2 * b, b, 1, 1)])
        self.ConvsOut = nn.ModuleList([RefBasicConv(4 * b, 3, 3, 1, relu=False),
                                       RefBasicConv(2 * b, 3, 3, 1, relu=False)])  # fmt: skip
        self.AFFs = nn.ModuleList([RefAFF(7 * b, b), RefAFF(7 * b, 2 * b)])
        self.FAM1, self.SCM1 = RefFAM(4 * b), RefSCM(4 * b)
        self.FAM2, self.SCM2 = RefFAM(2 * b), RefSCM(2 * b)

    def forward(self, x: Tensor) -> list[Tensor]:
        x_2 = F.interpolate(x, scale_factor=0.5)
        x_4 = F.interpolate(x_2, scale_factor=0.5)
        z2, z4 = self.SCM2(x_2), self.SCM1(x_4)
        outputs = []
        res1 = self.Encoder[0](self.feat_extract[0](x))
        res2 = self.Encoder[1](self.FAM2(self.feat_extract[1](res1), z2))
        z = self.Encoder[2](self.FAM1(self.feat_extract[2](res2), z4))
        z12 = F.interpolate(res1, scale_factor=0.5)
        z21 = F.interpolate(res2, scale_factor=2)
        z42 = F.interpolate(z, scale_factor=2)
        z41 = F.interpolate(z42, scale_factor=2)
        res2 = self.AFFs[1](z12, res2, z42)
        res1 = self.AFFs[0](res1, z21, z41)
        z = self.Decoder[0](z)
        outputs.append(self.ConvsOut[0](z) + x_4)
        z = self.Decoder[1](self.Convs[0](torch.cat([self.feat_extract[3](z), res2], dim=1)))
        outputs.append(self.ConvsOut[1](z) + x_2)
        z = self.Decoder[2](self.Convs[1](torch.cat([self.feat_extract[4](z), res1], dim=1)))
        outputs.append(self.feat_extract[5](z) + x)
        return outputs


# --- Tests ---


def test_registered_names() -> None:
    assert {"mimo_unet", "mimo_unet_plus", "mimo_unet_pure"} <= set(GENERATORS)


def test_published_parameter_counts() -> None:
    with torch.device("meta"):
        mimo = build_generator("mimo_unet")
        plus = build_generator("mimo_unet_plus")
        pure = build_generator("mimo_unet_pure")
        reference = RefMIMOUNet(num_res=8)
        reference_plus = RefMIMOUNet(num_res=20)
    # The paper: MIMO-UNet 6.81 M, MIMO-UNet+ 16.11 M parameters.
    assert _count(mimo) == _count(reference) == 6_807_171
    assert _count(plus) == _count(reference_plus) == 16_107_651
    # Without MISE (SCM, FAM), MOSD (ConvsOut) and AFF: the ablation's 6.46 M baseline.
    assert _count(pure) == 6_468_707


def test_state_dict_keys_and_shapes_are_the_authors() -> None:
    with torch.device("meta"):
        ours = build_generator("mimo_unet_plus").state_dict()
        theirs = RefMIMOUNet(num_res=20).state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}
    assert "Encoder.2.layers.19.main.1.main.0.weight" in ours
    assert "SCM1.main.3.main.0.weight" in ours and "AFFs.1.conv.1.main.0.bias" in ours


def test_pure_keeps_only_the_plain_unet() -> None:
    with torch.device("meta"):
        pure = build_generator("mimo_unet_pure").state_dict()
        full = build_generator("mimo_unet").state_dict()
    prefixes = ("SCM", "FAM", "AFFs", "ConvsOut")
    assert not any(k.startswith(prefixes) for k in pure)
    assert set(pure) == {k for k in full if not k.startswith(prefixes)}


def test_converted_checkpoint_reproduces_the_authors_outputs() -> None:
    torch.manual_seed(1)
    reference = RefMIMOUNet(num_res=1).eval()
    blurry = torch.rand(2, 3, 32, 48)
    with torch.no_grad():
        expected = reference(blurry)
    # The released file layout: {"model": state_dict}, here also saved through DataParallel.
    released = {"model": {f"module.{k}": v for k, v in reference.state_dict().items()}}
    ours = build_generator({"name": "mimo_unet", "num_res": 1}).eval()
    ours.load_state_dict(convert_mimo_unet(released), strict=True)
    # The same network loaded from our own state dict gives the same outputs.
    again = build_generator({"name": "mimo_unet_plus", "num_res": 1}).eval()
    again.load_state_dict(ours.state_dict(), strict=True)
    with torch.no_grad():
        got, got_plus = ours.forward_multiscale(blurry), again.forward_multiscale(blurry)
        restored = ours(blurry)
    for e, g, p in zip(expected, got, got_plus, strict=True):
        torch.testing.assert_close(g, e, rtol=0, atol=1e-6)
        torch.testing.assert_close(p, e, rtol=0, atol=1e-6)
    torch.testing.assert_close(restored, expected[-1].clamp(0, 1), rtol=0, atol=1e-6)


def test_convert_rejects_non_tensors() -> None:
    with pytest.raises(TypeError, match="not a tensor"):
        convert_mimo_unet({"model": {"Encoder.0.x": 3}})
    with pytest.raises(TypeError, match="state dict"):
        convert_mimo_unet({"model": [1, 2]})


@pytest.mark.parametrize(
    ("name", "n_outputs"), [("mimo_unet", 3), ("mimo_unet_plus", 3), ("mimo_unet_pure", 1)]
)
def test_forward_multiscale_is_coarse_to_fine(name: str, n_outputs: int) -> None:
    model = build_generator({"name": name, "width": 4, "num_res": 1}).eval()
    blurry = torch.rand(2, 3, 24, 40)
    with torch.no_grad():
        outputs = model.forward_multiscale(blurry)
        restored = model(blurry)
    sizes = [(6, 10), (12, 20), (24, 40)][-n_outputs:]
    assert [tuple(o.shape) for o in outputs] == [(2, 3, h, w) for h, w in sizes]
    torch.testing.assert_close(restored, outputs[-1].clamp(0, 1))


def test_pure_with_multi_output_has_coarse_heads() -> None:
    model = build_generator(
        {"name": "mimo_unet_pure", "width": 4, "num_res": 1, "multi_output": True}
    )
    assert [o.shape[-1] for o in model.forward_multiscale(torch.rand(1, 3, 16, 16))] == [4, 8, 16]


@pytest.mark.parametrize("name", ["mimo_unet", "mimo_unet_plus", "mimo_unet_pure"])
def test_multiscale_losses_reach_every_parameter(name: str) -> None:
    model = build_generator({"name": name, "width": 4, "num_res": 1})
    sum(o.mean() for o in model.forward_multiscale(torch.rand(2, 3, 16, 16))).backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == []


def test_plus_drops_skip_features_only_while_training() -> None:
    model = build_generator({"name": "mimo_unet_plus", "width": 4, "num_res": 1})
    blurry = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert not torch.equal(model(blurry), model(blurry))  # Dropout2d(0.1) is active
        model.eval()
        assert torch.equal(model(blurry), model(blurry))


def test_mimo_unet_learns_to_sharpen(make_image) -> None:
    sharp = make_image(2, 32, 32, seed=5)
    blurry = F.avg_pool2d(F.pad(sharp, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    model = build_generator({"name": "mimo_unet", "width": 4, "num_res": 1})
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    targets = [F.interpolate(sharp, scale_factor=s, mode="bilinear") for s in (0.25, 0.5)]

    def loss_fn() -> Tensor:
        outputs = model.forward_multiscale(blurry)
        return sum(F.l1_loss(o, t) for o, t in zip(outputs, [*targets, sharp], strict=True))

    before = loss_fn().item()
    for _ in range(40):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss_fn().item() < 0.7 * before


def test_rejects_bad_arguments_and_sizes() -> None:
    with pytest.raises(ValueError, match="width"):
        build_generator({"name": "mimo_unet", "width": 1})
    with pytest.raises(ValueError, match="num_res"):
        build_generator({"name": "mimo_unet", "num_res": 0})
    with pytest.raises(ValueError, match="dropout"):
        build_generator({"name": "mimo_unet_plus", "dropout": 1.0})
    model = build_generator({"name": "mimo_unet", "width": 4, "num_res": 1})
    with pytest.raises(ValueError, match="divisible by 4"):
        model(torch.rand(1, 3, 18, 16))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        model(torch.rand(1, 1, 16, 16))
