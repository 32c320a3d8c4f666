"""DeepDeblur (Nah et al., 2017): parameter count, the release's layout, pyramid, scales."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.transform import pyramid_gaussian
from torch import Tensor, nn

from deblurgan.models import GENERATORS, build_generator
from deblurgan.models.generators.deepdeblur import gaussian_pyramid_down


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- The authors' PyTorch release (SeungjunNah/DeepDeblur-PyTorch, model/MSResNet.py, ResNet.py,
# common.py), rewritten here as a reference: works on [0, 255] pyramids, finest scale first.


class RefResBlock(nn.Module):
    def __init__(self, n_feats: int, k: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(n_feats, n_feats, k, padding=k // 2),
            nn.ReLU(True),
            nn.Conv2d(n_feats, n_feats, k, padding=k // 2),
        )

    def forward(self, x: Tensor) -> Tensor:
        res = self.body(x)
        res += x
        return res


class RefResNet(nn.Module):
    def __init__(self, cin: int, cout: int, n_feats: int, k: int, n_resblocks: int) -> None:
        super().__init__()
        modules: list[nn.Module] = [nn.Conv2d(cin, n_feats, k, padding=k // 2)]
        modules += [RefResBlock(n_feats, k) for _ in range(n_resblocks)]
        modules.append(nn.Conv2d(n_feats, cout, k, padding=k // 2))
        self.body = nn.Sequential(*modules)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


class RefConvEnd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.uppath = nn.Sequential(nn.Conv2d(3, 12, 5, padding=2), nn.PixelShuffle(2))

    def forward(self, x: Tensor) -> Tensor:
        return self.uppath(x)


class RefMSResNet(nn.Module):
    def __init__(self, n_feats: int = 64, n_resblocks: int = 19, n_scales: int = 3) -> None:
        super().__init__()
        self.mean = 255 / 2
        self.n_scales = n_scales
        self.body_models = nn.ModuleList([RefResNet(3, 3, n_feats, 5, n_resblocks)])
        for _ in range(1, n_scales):
            self.body_models.insert(0, RefResNet(6, 3, n_feats, 5, n_resblocks))
        self.conv_end_models = nn.ModuleList([None])
        for _ in range(1, n_scales):
            self.conv_end_models += [RefConvEnd()]

    def forward(self, input_pyramid: list[Tensor]) -> list[Tensor]:
        scales = range(self.n_scales - 1, -1, -1)
        input_pyramid = [x - self.mean for x in input_pyramid]
        output_pyramid: list[Tensor] = [torch.empty(0)] * self.n_scales
        input_s = input_pyramid[-1]
        for s in scales:
            output_pyramid[s] = self.body_models[s](input_s)
            if s > 0:
                up_feat = self.conv_end_models[s](output_pyramid[s])
                input_s = torch.cat((input_pyramid[s - 1], up_feat), 1)
        return [x + self.mean for x in output_pyramid]


def _skimage_pyramid(image: Tensor, n_scales: int) -> list[Tensor]:
    """scikit-image's Gaussian pyramid of each (3, H, W) image, as the release builds its input."""
    levels: list[list[Tensor]] = [[] for _ in range(n_scales)]
    for item in image:
        hwc = item.permute(1, 2, 0).double().numpy()
        for s, level in enumerate(pyramid_gaussian(hwc, n_scales - 1, channel_axis=-1)):
            levels[s].append(torch.from_numpy(np.ascontiguousarray(level)).permute(2, 0, 1))
    return [torch.stack(level) for level in levels]


# --- Tests ---


def test_registered() -> None:
    assert "deepdeblur" in GENERATORS


def test_parameter_count_at_the_papers_width() -> None:
    with torch.device("meta"):
        ours = build_generator("deepdeblur")
        reference = RefMSResNet()
    # Hand count: per scale a 5x5 head (3 or 6 -> 64), 19 blocks of two 5x5 64 -> 64 convs and a
    # 5x5 tail (64 -> 3); two up-convolutions (5x5, 3 -> 12). About 11.72 M.
    blocks = 19 * 2 * (64 * 64 * 25 + 64)
    tail = 64 * 3 * 25 + 3
    heads = (3 * 64 * 25 + 64) + 2 * (6 * 64 * 25 + 64)
    expected = heads + 3 * (blocks + tail) + 2 * (3 * 12 * 25 + 12)
    assert _count(ours) == _count(reference) == expected == 11_721_321


def test_state_dict_layout_is_the_releases() -> None:
    with torch.device("meta"):
        ours = build_generator("deepdeblur").state_dict()
        theirs = RefMSResNet().state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}
    assert len(ours) == 3 * (2 + 19 * 4 + 2) + 2 * 2
    assert ours["body_models.2.body.0.weight"].shape == (64, 3, 5, 5)  # the coarsest scale
    assert ours["body_models.0.body.0.weight"].shape == (64, 6, 5, 5)
    assert ours["conv_end_models.2.uppath.0.weight"].shape == (12, 3, 5, 5)


@pytest.mark.parametrize(("h", "w"), [(16, 24), (6, 10), (2, 4)])
def test_pyramid_level_matches_scikit_image(h: int, w: int) -> None:
    image = torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(h), dtype=torch.float64)
    expected = _skimage_pyramid(image, 2)[1]
    torch.testing.assert_close(gaussian_pyramid_down(image), expected, rtol=0, atol=1e-12)


def test_pyramid_rejects_odd_sizes() -> None:
    with pytest.raises(ValueError, match="even"):
        gaussian_pyramid_down(torch.rand(1, 3, 5, 4))


def test_release_weights_reproduce_the_releases_outputs() -> None:
    torch.manual_seed(2)
    reference = RefMSResNet(n_feats=8, n_resblocks=2).double().eval()
    ours = build_generator({"name": "deepdeblur", "width": 8, "n_resblocks": 2}).double().eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    blurry = torch.rand(2, 3, 16, 24, dtype=torch.float64)
    with torch.no_grad():
        # The release's input: the pyramid of the [0, 255] image, made by scikit-image.
        expected = reference([level * 255 for level in _skimage_pyramid(blurry, 3)])
        got = ours.forward_multiscale(blurry)
        restored = ours(blurry)
    assert [tuple(o.shape[-2:]) for o in got] == [(4, 6), (8, 12), (16, 24)]
    for g, e in zip(got, reversed(expected), strict=True):  # ours coarse to fine
        torch.testing.assert_close(g * 255, e, rtol=0, atol=1e-9)
    torch.testing.assert_close(restored, got[-1].clamp(0, 1))


def test_every_scale_learns_through_the_multiscale_outputs() -> None:
    model = build_generator({"name": "deepdeblur", "width": 4, "n_resblocks": 1})
    sum(o.mean() for o in model.forward_multiscale(torch.rand(2, 3, 16, 16))).backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == []


def test_number_of_scales_sets_the_size_multiple() -> None:
    model = build_generator({"name": "deepdeblur", "width": 4, "n_resblocks": 1, "n_scales": 2})
    assert model.size_multiple == 2
    assert [o.shape[-1] for o in model.forward_multiscale(torch.rand(1, 3, 6, 10))] == [5, 10]
    single = build_generator({"name": "deepdeblur", "width": 4, "n_resblocks": 0, "n_scales": 1})
    assert single.size_multiple == 1 and single(torch.rand(1, 3, 5, 7)).shape == (1, 3, 5, 7)


def test_rejects_bad_arguments_and_sizes() -> None:
    for bad in ({"width": 0}, {"n_resblocks": -1}, {"kernel_size": 4}, {"n_scales": 0},
                {"rgb_range": 0.0}):  # fmt: skip
        with pytest.raises(ValueError, match=next(iter(bad))):
            build_generator({"name": "deepdeblur", **bad})
    model = build_generator({"name": "deepdeblur", "width": 4, "n_resblocks": 1})
    with pytest.raises(ValueError, match="divisible by 4"):
        model(torch.rand(1, 3, 16, 18))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        model(torch.rand(3, 16, 16))
