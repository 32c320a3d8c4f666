"""The Pix2Pix U-Net: the authors' key layout and size, each switch, and the edge input option."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deblurgan.models import build_generator
from deblurgan.models.generators._edges import sobel_magnitude
from deblurgan.nn import SelfAttention2d, SqueezeExcitation

# Keys and shapes of pix2pix's UnetGenerator(3, 3, num_downs=8, ngf=64, BatchNorm2d,
# use_dropout=True), the "unet_256" of models/networks.py, read off its nesting by hand.
PIX2PIX_UNET_256 = {
    "model.model.0.weight": (64, 3, 4, 4),  # outermost down conv, no bias with batch norm
    "model.model.1.model.1.weight": (128, 64, 4, 4),
    "model.model.1.model.2.running_mean": (128,),
    "model.model.1.model.5.weight": (256, 64, 4, 4),  # ConvTranspose2d(2 * 128, 64)
    "model.model.1.model.6.weight": (64,),
    "model.model.1.model.3.model.1.weight": (256, 128, 4, 4),
    "model.model.1.model.3.model.3.model.1.weight": (512, 256, 4, 4),
    "model.model.3.weight": (128, 3, 4, 4),  # outermost ConvTranspose2d(2 * 64, 3)
    "model.model.3.bias": (3,),
}


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_unet_256_matches_pix2pix_layout_and_size() -> None:
    with torch.device("meta"):
        net = build_generator("unet")
    state = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    for key, shape in PIX2PIX_UNET_256.items():
        assert state[key] == shape, key
    assert "model.model.0.bias" not in state
    # pix2pix prints "[Network G] Total number of parameters : 54.414 M" for unet_256.
    assert _count(net) == 54_413_955
    assert net.size_multiple == 256
    # Dropout in the num_downs - 5 inner 512-channel decoder levels, as in pix2pix.
    assert sum(isinstance(m, nn.Dropout) for m in net.modules()) == 3
    innermost = [k for k in state if k.count("model.3.") == 7]
    assert innermost and all(".model.1." in k or ".model.3." in k for k in innermost)


def test_switches_append_blocks_without_shifting_the_original_keys() -> None:
    plain = build_generator({"name": "unet", "num_downs": 5, "width": 4}).eval()
    fancy = build_generator(
        {"name": "unet", "num_downs": 5, "width": 4, "self_attention": [2, 4]}
    ).eval()
    attn = [m for m in fancy.modules() if isinstance(m, SelfAttention2d)]
    # Level 2 works at H/4 with 2 * width channels; level 4 at H/16 with 8 * width.
    assert [m.value.in_channels for m in attn] == [32, 8]  # innermost (level 4) is built first
    missing, unexpected = fancy.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and all(
        ".query." in k or ".key." in k or ".value." in k or k.endswith("gamma") for k in missing
    )
    blurry = torch.rand(1, 3, 64, 32)
    with torch.no_grad():
        torch.testing.assert_close(fancy(blurry), plain(blurry))  # gamma == 0: the same net
    se = build_generator({"name": "unet", "num_downs": 5, "width": 4, "channel_attention": True})
    assert sum(isinstance(m, SqueezeExcitation) for m in se.modules()) == 4


def test_spectral_norm_bounds_every_convolution() -> None:
    net = build_generator({"name": "unet", "num_downs": 3, "width": 4, "spectral_norm": True})
    convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert len(convs) == 6
    for conv in convs:
        assert nn.utils.parametrize.is_parametrized(conv, "weight")
        weight = conv.weight.detach()
        if isinstance(conv, nn.ConvTranspose2d):
            weight = weight.transpose(0, 1)
        sigma = torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2)
        assert abs(float(sigma) - 1) < 0.05


def test_global_residual_returns_the_input_when_the_output_is_zero() -> None:
    net = build_generator(
        {"name": "unet", "num_downs": 3, "width": 4, "global_residual": True}
    ).eval()
    last = net.model.model[3]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    blurry = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(net(blurry), blurry)


def test_sobel_magnitude_matches_scikit_image(photo: np.ndarray) -> None:
    from skimage import color, filters

    image = photo[100:164, 200:280] / 255.0
    expected = filters.sobel(color.rgb2gray(image))
    ours = sobel_magnitude(torch.from_numpy(image).permute(2, 0, 1)[None])[0, 0].numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-10)
    with pytest.raises(ValueError, match="expected an image"):
        sobel_magnitude(torch.rand(1, 2, 4, 4))


@pytest.mark.parametrize(
    ("spec", "first"),
    [
        ({"name": "unet", "num_downs": 3, "width": 4, "edge_input": True}, "model.model.0"),
        ({"name": "resnet", "width": 4, "n_blocks": 1, "edge_input": True}, "model.1"),
    ],
)
def test_edge_input_feeds_the_sobel_map_as_a_fourth_channel(spec: dict, first: str) -> None:
    net = build_generator(spec).eval()
    plain = build_generator({**spec, "edge_input": False})
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in plain.state_dict().items()}
    assert ours.keys() == theirs.keys()
    assert [k for k in ours if ours[k] != theirs[k]] == [f"{first}.weight"]
    assert ours[f"{first}.weight"][1] == 4
    seen: list[torch.Tensor] = []
    net.get_submodule(first).register_forward_hook(lambda m, i, o: seen.append(i[0]))
    blurry = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert net(blurry).shape == blurry.shape
    edges = seen[0][:, 3:]
    if spec["name"] == "resnet":
        edges = edges[..., 3:-3, 3:-3]  # after its reflection padding
    torch.testing.assert_close(edges, sobel_magnitude(blurry))


def test_unet_rejects_bad_settings_and_sizes() -> None:
    with pytest.raises(ValueError, match=r"levels 5 .*1\.\.4"):
        build_generator({"name": "unet", "num_downs": 5, "self_attention": [5]})
    with pytest.raises(ValueError, match="num_downs"):
        build_generator({"name": "unet", "num_downs": 1})
    with pytest.raises(ValueError, match="norm"):
        build_generator({"name": "unet", "num_downs": 3, "norm": "group"})
    with pytest.raises(TypeError, match="sequence"):
        build_generator({"name": "unet", "num_downs": 3, "self_attention": 2})
    net = build_generator({"name": "unet", "num_downs": 3, "width": 4})
    with pytest.raises(ValueError, match="divisible by 8"):
        net(torch.rand(1, 3, 12, 16))
