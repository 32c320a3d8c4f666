"""MAXIM's blocks (partitions, resampling, gating axes), the whole network on tiny widths, and the
tfjs graph converter on a tiny synthetic graph written here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tiny_settings import TINY
from torch import nn

from deblurgan.models import build_generator
from deblurgan.models.generators.maxim import MAXIMGenerator
from deblurgan.models.generators.maxim_blocks import (
    GmlpLayer,
    block_images,
    jax_resize,
    nearest_downsample,
    unblock_images,
)
from deblurgan.models.tfjs import (
    MAXIM_SCOPE,
    convert_maxim_tfjs,
    flax_params_from_graph,
    read_tfjs_graph,
)

TINY_MAXIM: dict[str, Any] = {"name": "maxim_3s", **TINY["maxim_3s"]}


def test_block_images_matches_explicit_indexing() -> None:
    x = torch.rand(2, 6, 8, 3)
    blocks = block_images(x, (3, 2))  # grid 2 x 4 of 3 x 2 patches
    assert blocks.shape == (2, 8, 6, 3)
    for gy in range(2):
        for gx in range(4):
            for fy in range(3):
                for fx in range(2):
                    got = blocks[:, gy * 4 + gx, fy * 2 + fx]
                    assert torch.equal(got, x[:, gy * 3 + fy, gx * 2 + fx])
    assert torch.equal(unblock_images(blocks, (2, 4), (3, 2)), x)


def test_jax_resize_upsampling_is_half_pixel_bilinear() -> None:
    x = torch.rand(2, 5, 7, 3)
    expected = F.interpolate(x.permute(0, 3, 1, 2), scale_factor=2, mode="bilinear")
    got = jax_resize(x, (10, 14)).permute(0, 3, 1, 2)
    torch.testing.assert_close(got, expected)
    expected4 = F.interpolate(x.permute(0, 3, 1, 2), scale_factor=4, mode="bilinear")
    torch.testing.assert_close(jax_resize(x, (20, 28)).permute(0, 3, 1, 2), expected4)


def test_jax_resize_downsampling_is_antialiased() -> None:
    # By 2: triangle widened to 4 taps, weights 1, 3, 3, 1 (/8), renormalised at the borders.
    row = torch.tensor([1.0, 5.0, 2.0, 8.0, 3.0, 4.0])
    x = row.reshape(1, 1, 6, 1)
    got = jax_resize(x, (1, 3)).flatten()
    expected = torch.tensor(
        [
            (3 * 1 + 3 * 5 + 1 * 2) / 7,
            (1 * 5 + 3 * 2 + 3 * 8 + 1 * 3) / 8,
            (1 * 8 + 3 * 3 + 3 * 4) / 7,
        ]
    )
    torch.testing.assert_close(got, expected)
    # By 4: eight taps 1, 3, 5, 7, 7, 5, 3, 1 (/32) in the interior.
    x = torch.rand(1, 1, 16, 1)
    taps = torch.tensor([1.0, 3, 5, 7, 7, 5, 3, 1]) / 32
    got = jax_resize(x, (1, 4)).flatten()
    torch.testing.assert_close(got[1], (x.flatten()[2:10] * taps).sum())


def test_nearest_downsample_takes_block_centres() -> None:
    x = torch.rand(1, 16, 16, 2)
    assert torch.equal(nearest_downsample(x, 2), x[:, 1::2, 1::2])
    assert torch.equal(nearest_downsample(x, 4), x[:, 2::4, 2::4])


@pytest.mark.parametrize("grid", [True, False])
def test_gmlp_heads_mix_along_their_axis(grid: bool) -> None:
    """Grid head: a pixel reaches the same place in every cell; block head: its own block."""
    torch.manual_seed(0)
    layer = GmlpLayer(4, (2, 2), grid=grid, factor=2).eval()
    x = torch.rand(1, 8, 8, 4)
    y = x.clone()
    y[0, 1, 2] += torch.tensor([1.0, -2.0, 0.5, 3.0])  # (row 1, column 2); not a constant,
    # which the LayerNorms would remove
    changed = (layer(y) - layer(x)).abs().sum(-1)[0] > 1e-6
    rows, cols = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    if grid:  # 2 x 2 cells of 4 x 4: same offset (1, 2) in each cell
        reach = (rows % 4 == 1) & (cols % 4 == 2)
    else:  # 2 x 2 blocks: the block holding (1, 2)
        reach = (rows // 2 == 0) & (cols // 2 == 1)
    assert torch.equal(changed, reach)


def test_tiny_maxim_shapes_gradients_and_stage_outputs() -> None:
    model = build_generator(TINY_MAXIM)
    assert model.size_multiple == 16
    blurry = torch.rand(2, 3, 32, 48)
    restored = model(blurry)
    assert restored.shape == blurry.shape
    outputs = model.forward_multiscale(blurry)
    assert [tuple(o.shape[-2:]) for o in outputs] == [(8, 12), (16, 24), (32, 48)] * 2
    sum(o.mean() for o in outputs).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    # Only the last stage's coarse output heads are unused by the final image; here they train.
    assert missing == []


def test_maxim_refuses_sizes_its_partitions_do_not_divide() -> None:
    model = build_generator(TINY_MAXIM)
    with pytest.raises(ValueError, match="divisible by 16"):
        model(torch.rand(1, 3, 24, 32))


def test_maxim_3s_matches_the_published_size() -> None:
    model = MAXIMGenerator()
    assert model.size_multiple == 64
    # 22.2 M in the authors' listing for the deblurring model (3 supervision scales).
    assert sum(p.numel() for p in model.parameters()) == 22_212_795


@pytest.mark.parametrize(
    "kwargs",
    [{"features": 0}, {"num_supervision_scales": 4}, {"block_size_hr": (2, 0)}, {"features": 6}],
)
def test_maxim_rejects_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        MAXIMGenerator(**kwargs)


# --- the converter, on a tiny synthetic graph laid out as jax2tf lays out the published one ---


def _flax_layout(key: str, value: torch.Tensor, module: nn.Module) -> tuple[str, str, np.ndarray]:
    """(flax scope, consuming op name tail, array) of one of our parameters."""
    scope, _, param = key.rpartition(".")
    flax_scope = scope.replace(".", "/")
    array = value.detach().numpy()
    if isinstance(module, nn.LayerNorm):
        tail = "jit_fn_/Mul_4" if param == "weight" else "jit_fn_/AddV2_1"
        return flax_scope, tail, array.reshape(1, 1, 1, -1)
    if param == "bias":
        return flax_scope, "jit_fn_/AddV2", array.reshape(1, 1, 1, -1)
    if isinstance(module, nn.ConvTranspose2d):
        return flax_scope, "conv2d_transpose", array.transpose(2, 3, 1, 0)
    if isinstance(module, nn.Conv2d):
        return flax_scope, "Conv2D", array.transpose(2, 3, 1, 0)
    return flax_scope, "einsum/Einsum", array.T  # nn.Linear


_OPS = {
    "Conv2D": "Conv2D",
    "conv2d_transpose": "Conv2DBackpropInput",
    "einsum/Einsum": "Einsum",
    "jit_fn_/AddV2": "AddV2",
    "jit_fn_/AddV2_1": "AddV2",
    "jit_fn_/Mul_4": "Mul",
}


def _write_graph(
    folder: Path,
    model: nn.Module,
    *,
    extra: dict[str, tuple[str, np.ndarray]] | None = None,
    drop: tuple[str, ...] = (),
    reshape: dict[str, tuple[int, ...]] | None = None,
) -> None:
    modules = dict(model.named_modules())
    nodes: list[dict[str, Any]] = [{"name": "xs_0", "op": "Placeholder"}]
    weights: list[dict[str, Any]] = []
    blobs: list[bytes] = []

    def add(const: str, consumer: str, op: str, array: np.ndarray) -> None:
        array = np.require(array, np.float32, "C")  # keeps 0-d arrays 0-d
        nodes.append({"name": const, "op": "Const"})
        nodes.append({"name": consumer, "op": op, "input": ["xs_0", const + ":0"]})
        weights.append({"name": const, "shape": list(array.shape), "dtype": "float32"})
        blobs.append(array.tobytes())

    for index, (key, value) in enumerate(model.state_dict().items()):
        if key in drop:
            continue
        scope, tail, array = _flax_layout(key, value, modules[key.rpartition(".")[0]])
        if reshape and key in reshape:
            array = np.zeros(reshape[key], np.float32)
        add(
            f"StatefulPartitionedCall/Const_{index}",
            f"{MAXIM_SCOPE}{scope}/{tail}",
            _OPS[tail],
            array,
        )
    # Scalars and the resize masks are skipped by the converter.
    add(
        "StatefulPartitionedCall/Const_eps",
        f"{MAXIM_SCOPE}x/LayerNorm/jit_fn_/AddV2",
        "AddV2",
        np.array(1e-6, np.float32),
    )
    add(
        "StatefulPartitionedCall/Const_mask",
        f"{MAXIM_SCOPE}UpSampleRatio_1/jit__resize_/jit__where_/BroadcastTo",
        "BroadcastTo",
        np.ones((1, 1), np.float32),
    )
    for const, (consumer, array) in (extra or {}).items():
        add(const, consumer, "Mul", array)
    data = b"".join(blobs)
    half = len(data) // 2
    (folder / "group1-shard1of2.bin").write_bytes(data[:half])
    (folder / "group1-shard2of2.bin").write_bytes(data[half:])
    manifest = [{"paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"], "weights": weights}]
    (folder / "model.json").write_text(
        json.dumps(
            {"format": "graph-model", "modelTopology": {"node": nodes}, "weightsManifest": manifest}
        )
    )


def test_converter_restores_every_tensor_of_a_tiny_graph(tmp_path: Path) -> None:
    torch.manual_seed(1)
    source = build_generator(TINY_MAXIM)
    _write_graph(tmp_path, source)
    params = flax_params_from_graph(read_tfjs_graph(tmp_path))
    assert (
        "stage_0_encoder_block_0/SplitHeadMultiAxisGmlpLayer_0/GridGmlpLayer/in_project/kernel"
        in params
    )
    converted = convert_maxim_tfjs(tmp_path, arch=TINY_MAXIM)
    assert converted.arch_spec == TINY_MAXIM
    for key, value in source.state_dict().items():
        assert torch.equal(converted.state_dict()[key], value), key
    blurry = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(converted(blurry), source(blurry))


def test_converter_zeroes_the_pruned_coarse_heads_of_the_last_stage(tmp_path: Path) -> None:
    source = build_generator(TINY_MAXIM)
    pruned = ("stage_1_output_conv_1.weight", "stage_1_output_conv_1.bias")
    _write_graph(tmp_path, source, drop=pruned)
    converted = convert_maxim_tfjs(tmp_path, arch=TINY_MAXIM)
    assert all(converted.state_dict()[k].abs().sum() == 0 for k in pruned)


def test_converter_names_an_unmapped_tensor(tmp_path: Path) -> None:
    source = build_generator(TINY_MAXIM)
    stray = {"StatefulPartitionedCall/Const_stray": (f"{MAXIM_SCOPE}stage_0_odd/Mul", np.ones(3))}
    _write_graph(tmp_path, source, extra=stray)
    with pytest.raises(ValueError, match=r"Const_stray.*left unmapped"):
        convert_maxim_tfjs(tmp_path, arch=TINY_MAXIM)


def test_converter_names_a_tensor_of_the_wrong_shape(tmp_path: Path) -> None:
    source = build_generator(TINY_MAXIM)
    _write_graph(tmp_path, source, reshape={"stage_0_input_conv_0.weight": (3, 3, 3, 5)})
    with pytest.raises(ValueError, match=r"stage_0_input_conv_0/kernel.*\(3, 3, 3, 5\)"):
        convert_maxim_tfjs(tmp_path, arch=TINY_MAXIM)


def test_converter_names_a_missing_tensor(tmp_path: Path) -> None:
    source = build_generator(TINY_MAXIM)
    _write_graph(tmp_path, source, drop=("stage_0_input_conv_1.bias",))
    with pytest.raises(ValueError, match=r"lacks 1 parameters.*stage_0_input_conv_1.bias"):
        convert_maxim_tfjs(tmp_path, arch=TINY_MAXIM)


def test_reader_refuses_short_shards_and_other_formats(tmp_path: Path) -> None:
    _write_graph(tmp_path, build_generator(TINY_MAXIM))
    shard = tmp_path / "group1-shard2of2.bin"
    shard.write_bytes(shard.read_bytes()[:-8])
    with pytest.raises(ValueError, match="end inside weight"):
        read_tfjs_graph(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"format": "layers-model"}))
    with pytest.raises(ValueError, match=r"not a TensorFlow\.js graph model"):
        read_tfjs_graph(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_tfjs_graph(tmp_path / "nowhere")
