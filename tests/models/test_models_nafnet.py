"""NAFNet generator: blocks against hand-written references, identity at init, measured receptive
field, TLC's local statistics (brute force, global limit, tiles), stable key names."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

import deblurgan
from deblurgan.models import GENERATORS, build_generator
from deblurgan.models.complexity import generator_macs
from deblurgan.models.generators.nafnet import (
    LayerNorm2d,
    LocalAvgPool2d,
    NAFBlock,
    NAFNetGenerator,
    SimpleGate,
    _gate,
    local_mean,
)

SMALL = {"width": 4, "enc_blocks": [1, 1], "middle_blocks": 1, "dec_blocks": [1, 1]}


def _nafnet(**kwargs: object) -> NAFNetGenerator:
    model = build_generator({"name": "nafnet", **kwargs})
    assert isinstance(model, NAFNetGenerator)
    return model


def _randomise_residual_scales(model: nn.Module, *, seed: int = 0) -> None:
    """Non-zero beta, gamma and last layer, so that every block contributes (they start at 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("beta", "gamma")) or name.startswith("ending."):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)


def _neutralise_channel_attention(model: nn.Module) -> None:
    """Attention weight 0 and bias 1: the gate is 1, and no gradient flows through the pool."""
    with torch.no_grad():
        for block in model.modules():
            if isinstance(block, NAFBlock):
                conv = block.sca[1]
                assert isinstance(conv, nn.Conv2d) and conv.bias is not None
                conv.weight.zero_()
                conv.bias.fill_(1.0)


def test_layer_norm2d_matches_the_per_pixel_formula() -> None:
    norm = LayerNorm2d(5)
    with torch.no_grad():
        norm.weight.copy_(torch.arange(1.0, 6.0))
        norm.bias.copy_(torch.linspace(-1, 1, 5))
    x = torch.randn(2, 5, 3, 4, dtype=torch.float64)
    mu = x.mean(1, keepdim=True)
    var = ((x - mu) ** 2).mean(1, keepdim=True)
    expected = (x - mu) / torch.sqrt(var + 1e-6) * norm.weight.double().view(1, -1, 1, 1)
    expected = expected + norm.bias.double().view(1, -1, 1, 1)
    norm = norm.double()
    torch.testing.assert_close(norm(x), expected)
    torch.testing.assert_close(norm(x.contiguous(memory_format=torch.channels_last)), expected)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(norm, (x,))


def test_simple_gate_multiplies_the_two_halves() -> None:
    x = torch.randn(2, 6, 3, 3)
    torch.testing.assert_close(SimpleGate()(x), x[:, :3] * x[:, 3:])


def test_block_is_the_identity_at_init_and_every_parameter_learns() -> None:
    block = NAFBlock(8)
    x = torch.randn(2, 8, 12, 10)
    assert torch.equal(block(x), x)
    _randomise_residual_scales(block)
    y = block(x)
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.square().mean().backward()
    missing = [n for n, p in block.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert missing == []


def test_block_with_a_wide_kernel_keeps_the_shape() -> None:
    block = NAFBlock(4, kernel_size=7)
    assert block.conv2.kernel_size == (7, 7) and block.conv2.groups == 8
    assert block(torch.randn(1, 4, 9, 11)).shape == (1, 4, 9, 11)


def test_untrained_generator_is_the_identity() -> None:
    model = _nafnet(**SMALL)
    blurry = torch.rand(2, 3, 40, 24)
    restored = model(blurry)
    assert torch.equal(restored, blurry) and restored.is_contiguous()


def test_generator_learns_to_sharpen(make_image) -> None:
    sharp = make_image(2, 32, 32, seed=3)
    blurry = F.avg_pool2d(F.pad(sharp, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    model = _nafnet(**{**SMALL, "width": 8})
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    before = F.l1_loss(model(blurry), sharp).item()
    for _ in range(40):
        loss = F.l1_loss(model(blurry), sharp)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert F.l1_loss(model(blurry), sharp).item() < 0.7 * before


def test_saturated_output_is_clamped_but_still_learns() -> None:
    model = _nafnet(**SMALL)
    bias = model.ending.bias
    assert bias is not None
    with torch.no_grad():
        bias.fill_(5.0)
    blurry = torch.rand(1, 3, 16, 16)
    out = model(blurry)
    assert torch.equal(out, torch.ones_like(out))
    F.l1_loss(out, blurry).backward()
    assert bias.grad is not None and (bias.grad > 0).all()


def _horizontal_supports(model: NAFNetGenerator, width: int) -> list[tuple[int, int]]:
    """Leftmost and rightmost input column that reach output pixel ``(row, c + r)``, for every
    offset ``r`` on the sampling grid (``0 <= r < size_multiple``): one image per offset in a
    batch, one backward pass (the images do not interact: no batch statistics)."""
    m = model.size_multiple
    width = -(-width // m) * m
    centre = width // 2 // m * m
    image = torch.rand(m, 3, m, width, requires_grad=True)
    out = model(image)
    torch.stack([out[r, :, m // 2, centre + r].sum() for r in range(m)]).sum().backward()
    assert image.grad is not None
    supports = []
    for r in range(m):
        cols = image.grad[r].abs().sum((0, 1)).nonzero().flatten()
        supports.append((centre + r - int(cols.min()), int(cols.max()) - centre - r))
    return supports


@pytest.mark.parametrize(
    "kwargs",
    [
        SMALL,
        {**SMALL, "middle_kernel": 3},
        {**SMALL, "unshuffle": 1},
        {"width": 2, "enc_blocks": [0, 2, 1], "middle_blocks": 2, "dec_blocks": [1, 0, 1]},
    ],
)
def test_receptive_field_is_measured_from_gradients(kwargs: dict[str, object]) -> None:
    # The field of one output pixel: where its gradient on the input is non-zero. It depends on
    # the pixel's place on the sampling grid (upsampling quantises it, skips widen it), within
    # one coarsest-level stride of the nominal value.
    model = _nafnet(**kwargs, tlc=False)
    _randomise_residual_scales(model)
    _neutralise_channel_attention(model)
    field = model.receptive_field
    supports = _horizontal_supports(model, 2 * field + 4 * model.size_multiple)
    coarsest = model.size_multiple
    for left, right in supports:
        assert abs(left + right + 1 - field) <= coarsest
        assert min(left, right) >= (field - coarsest) // 2 - coarsest


def test_default_layout_sees_beyond_80_px_on_each_side() -> None:
    # An 80 px streak needs a field wider than 160 px. Measured on the default layout (the field
    # does not depend on the width, so a thin copy keeps the test fast), from every position on
    # the sampling grid: every output pixel sees more than 160 px in each direction.
    model = _nafnet(width=2, tlc=False)
    assert model.receptive_field == NAFNetGenerator().receptive_field
    _randomise_residual_scales(model)
    _neutralise_channel_attention(model)
    supports = _horizontal_supports(model, 1024)
    assert min(min(s) for s in supports) > 160


def _brute_force_local_mean(x: torch.Tensor, window: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    kh, kw = min(window, h), min(window, w)
    out = torch.empty_like(x)
    for i, j in itertools.product(range(h), range(w)):
        top = min(max(i - (kh - 1) // 2, 0), h - kh)  # centred, slid inside the image
        left = min(max(j - (kw - 1) // 2, 0), w - kw)
        out[..., i, j] = x[..., top : top + kh, left : left + kw].mean((-2, -1))
    return out


@pytest.mark.parametrize("window", [1, 2, 3, 4, 7, 9, 50])
def test_local_mean_matches_brute_force(window: int) -> None:
    x = torch.rand(2, 3, 9, 13, dtype=torch.float64)
    torch.testing.assert_close(local_mean(x, window), _brute_force_local_mean(x, window))


def test_local_mean_over_a_window_as_large_as_the_image_is_the_global_mean() -> None:
    x = torch.rand(1, 4, 24, 40)
    torch.testing.assert_close(local_mean(x, 40), x.mean((2, 3), keepdim=True).expand_as(x))
    pool = LocalAvgPool2d()
    pool.window, pool.cell = 40, 8
    assert torch.equal(pool(x), x.mean((2, 3), keepdim=True))
    with pytest.raises(ValueError, match="window"):
        local_mean(x, 0)


@pytest.mark.parametrize("cell", [1, 4])
def test_local_pool_gives_a_tile_the_statistics_of_the_whole(cell: int) -> None:
    # Pixels at least half a window inside a tile (tile cut on the cell grid) see the same
    # statistics whether the pool runs on the tile or on the whole map.
    pool = LocalAvgPool2d()
    pool.window, pool.cell = 16, cell
    x = torch.rand(1, 3, 64, 96, dtype=torch.float64)
    whole = F.interpolate(pool(x), scale_factor=cell, mode="nearest")
    tile = F.interpolate(pool(x[..., 16:48, 24:72]), scale_factor=cell, mode="nearest")
    torch.testing.assert_close(tile[..., 8:24, 8:40], whole[..., 24:40, 32:64])
    pool.window = None  # the global pool of the paper: a tile sees other statistics
    assert not torch.allclose(pool(x[..., 16:48, 24:72]), pool(x))


def test_cells_keep_what_the_local_mean_corrects() -> None:
    # A smooth map (features vary over tens of pixels): the cell grid's means are much closer to
    # the exact local means than the global mean (what TLC corrects) is.
    g = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(192.0), torch.arange(256.0), indexing="ij")
    freq = torch.rand(8, 2, generator=g) * 0.05
    phase = torch.rand(8, 1, 1, generator=g) * 6.3
    x = torch.cos(freq[:, :1, None] * yy + freq[:, 1:, None] * xx + phase)[None]
    pool = LocalAvgPool2d()
    pool.window, pool.cell = 64, 8
    coarse = F.interpolate(pool(x), scale_factor=8, mode="nearest")
    exact = local_mean(x, 64)
    error = (coarse - exact).abs().mean()
    assert error < 0.15 * (x.mean((2, 3), keepdim=True) - exact).abs().mean()


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_gate_repeats_coarse_attention_over_its_cells(memory_format: torch.memory_format) -> None:
    x = torch.randn(2, 5, 8, 12).contiguous(memory_format=memory_format)
    attention = torch.randn(2, 5, 2, 3)
    expected = x * F.interpolate(attention, size=(8, 12), mode="nearest")
    torch.testing.assert_close(_gate(x, attention), expected)
    torch.testing.assert_close(_gate(x, attention[..., :1, :1]), x * attention[..., :1, :1])
    with pytest.raises(ValueError, match="tile"):
        _gate(x, torch.randn(2, 5, 3, 3))


def test_tlc_is_exactly_the_global_pool_on_frames_the_size_of_a_training_crop() -> None:
    model = _nafnet(**SMALL, train_size=32, tlc=True).eval()
    _randomise_residual_scales(model)
    blurry = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        with_tlc = model(blurry)
        model.tlc = False
        torch.testing.assert_close(model(blurry), with_tlc, rtol=0, atol=0)
        model.tlc = True
        larger = torch.rand(1, 3, 64, 96)
        local = model(larger)
        model.tlc = False
        assert not torch.allclose(model(larger), local)  # larger frames: other statistics


def test_tlc_gives_a_tile_the_output_of_the_whole_frame() -> None:
    # Away from a tile's borders (by more than the convolutions' reach plus the windows), the
    # generator's output on the tile equals its output on the whole frame under TLC; with the
    # global pool it does not. Tile offsets are multiples of size_multiple (the sampling grids).
    model = _nafnet(**SMALL, train_size=16, tlc=True)
    _randomise_residual_scales(model)
    model.eval()
    frame = torch.rand(1, 3, 320, 320)
    # Reach of a centre pixel: 44 px through the convolutions (field 88) plus 8 px (half the
    # 16 px window) through the statistics of each of the 5 blocks: 84 < the 88 px margin below.
    with torch.inference_mode():
        whole = model(frame)[..., 152:168, 152:168]
        tile = model(frame[..., 64:256, 64:256])[..., 88:104, 88:104]
        torch.testing.assert_close(tile, whole, rtol=0, atol=1e-5)
        model.tlc = False
        whole = model(frame)[..., 152:168, 152:168]
        tile = model(frame[..., 64:256, 64:256])[..., 88:104, 88:104]
        assert (tile - whole).abs().max() > 1e-3


def test_tlc_is_off_by_default_in_the_class_and_the_config() -> None:
    # Measured (benchmarks/tlc_effect.py): the global pool restores whole frames better.
    assert NAFNetGenerator().tlc is False
    config = Path(deblurgan.__file__).parent / "configs" / "generator" / "nafnet.yaml"
    assert yaml.safe_load(config.read_text())["tlc"] is False
    pools = [m.window for m in NAFNetGenerator().modules() if isinstance(m, LocalAvgPool2d)]
    assert pools and set(pools) == {None}


def test_tlc_windows_follow_the_training_size_per_level() -> None:
    model = NAFNetGenerator(train_size=256, tlc=True)
    pools = {
        name.rsplit(".", 2)[0]: (m.window, m.cell)
        for name, m in model.named_modules()
        if isinstance(m, LocalAvgPool2d)
    }
    # 256 px at strides 2, 4, 8, 16 and 32; cells of 32 input pixels where the map allows.
    assert pools["encoders.0.0"] == (128, 16) and pools["decoders.3.0"] == (128, 16)
    assert pools["encoders.3.0"] == (16, 2) and pools["middle_blks.0"] == (8, 1)
    model.tlc = False
    assert {m.window for m in model.modules() if isinstance(m, LocalAvgPool2d)} == {None}


def test_state_dict_keys_follow_the_nafnet_code() -> None:
    with torch.device("meta"):
        state = NAFNetGenerator().state_dict()
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["intro.weight"] == (16, 12, 3, 3)
    assert shapes["encoders.0.0.conv1.weight"] == (32, 16, 1, 1)
    assert shapes["encoders.0.0.conv2.weight"] == (32, 1, 3, 3)
    assert shapes["encoders.0.0.sca.1.weight"] == (16, 16, 1, 1)
    assert shapes["encoders.0.0.beta"] == (1, 16, 1, 1)
    assert shapes["downs.3.weight"] == (256, 128, 2, 2)
    assert shapes["middle_blks.1.norm2.bias"] == (256,)
    assert shapes["middle_blks.1.conv2.weight"] == (512, 1, 7, 7)
    assert shapes["ups.0.0.weight"] == (512, 256, 1, 1)
    assert shapes["decoders.3.0.gamma"] == (1, 16, 1, 1)
    assert shapes["ending.weight"] == (12, 16, 3, 3)
    assert not any("running" in k for k in state)  # no buffers: nothing but weights ships


def test_size_and_cost_of_the_default_layout() -> None:
    with torch.device("meta"):
        model = GENERATORS.build("nafnet")
    assert sum(p.numel() for p in model.parameters()) == 1_766_876  # 7.1 MB of float32
    # The default costs less than half of DeblurGAN-v2's fpn_mobilenet at 720p in MACs.
    assert generator_macs("nafnet") < 0.5 * generator_macs("fpn_mobilenet")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 0}, "width"),
        ({"enc_blocks": []}, "enc_blocks"),
        ({"enc_blocks": [1, -1], "dec_blocks": [1, 1]}, "enc_blocks"),
        ({"dec_blocks": [1]}, "dec_blocks"),
        ({"middle_blocks": -1}, "middle_blocks"),
        ({"middle_kernel": 4}, "middle_kernel"),
        ({"unshuffle": 0}, "unshuffle"),
        ({"train_size": 0}, "train_size"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        NAFNetGenerator(**kwargs)  # type: ignore[arg-type]
