"""Generator checkpoints: build, save, read and load round trips, and every error path (offline)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tiny_settings import TINY
from torch import nn

from deblurgan.models import (
    GENERATORS,
    SHIPPED_WEIGHTS,
    ShippedWeights,
    build_generator,
    load_generator,
    read_checkpoint,
    save_generator,
)
from deblurgan.models import weights as weights_module

if TYPE_CHECKING:
    from conftest import LocalServer

TINY_SPECS: dict[str, dict[str, Any]] = {
    name: {"name": name, **kwargs} for name, kwargs in TINY.items() if name in GENERATORS
}


def _trained(spec: dict[str, Any]) -> nn.Module:
    """A generator whose running statistics moved away from their initial values."""
    model = build_generator(spec)
    model(torch.rand(2, 3, 64, 64))
    return model.eval()


def test_every_generator_has_a_tiny_spec() -> None:
    assert set(GENERATORS) <= set(TINY_SPECS)


def test_build_generator_records_its_spec() -> None:
    model = build_generator("resnet")
    assert model.arch_spec == {"name": "resnet"}
    model = build_generator(TINY_SPECS["resnet"])
    assert model.arch_spec == TINY_SPECS["resnet"]
    assert model.model[1].out_channels == 4


def test_build_generator_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown generator 'no_such_net'.*fpn_mobilenet.*resnet"):
        build_generator("no_such_net")
    with pytest.raises(ValueError, match=r"'name'"):
        build_generator({"width": 4})
    with pytest.raises(TypeError, match=r"name or a mapping"):
        build_generator(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"resnet"):
        build_generator({"name": "resnet", "widht": 4})


@pytest.mark.parametrize("suffix", [".safetensors", ".pt", ".pth"])
@pytest.mark.parametrize("name", sorted(TINY_SPECS))
def test_save_load_round_trip_gives_identical_outputs(
    tmp_path: Path, name: str, suffix: str
) -> None:
    model = _trained(TINY_SPECS[name])
    path = save_generator(model, tmp_path / f"g{suffix}", meta={"steps": 3, "data": "unit"})
    assert path == tmp_path / f"g{suffix}"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    loaded = load_generator(path)
    assert not loaded.training and loaded.arch_spec == TINY_SPECS[name]
    assert loaded.checkpoint_meta == {"steps": 3, "data": "unit"}
    for (k1, v1), (k2, v2) in zip(
        model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert k1 == k2 and torch.equal(v1, v2)
    blurry = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        assert torch.equal(model(blurry), loaded(blurry))


def test_safetensors_metadata_layout(tmp_path: Path) -> None:
    model = build_generator(TINY_SPECS["resnet"])
    path = save_generator(model, tmp_path / "g.safetensors", meta={"psnr": 28.5})
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    assert metadata == {
        "format_version": "1",
        "arch": "resnet",
        "arch_kwargs": json.dumps({"width": 4, "n_blocks": 2}),
        "meta": json.dumps({"psnr": 28.5}),
    }
    spec, state, meta = read_checkpoint(path)
    assert spec == TINY_SPECS["resnet"] and meta == {"psnr": 28.5}
    assert set(state) == set(model.state_dict())


def test_torch_checkpoint_layout(tmp_path: Path) -> None:
    path = save_generator(build_generator(TINY_SPECS["resnet"]), tmp_path / "g.pt")
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"format_version", "arch", "arch_kwargs", "state_dict", "meta"}
    assert raw["format_version"] == 1 and raw["arch"] == "resnet"
    assert raw["arch_kwargs"] == {"width": 4, "n_blocks": 2} and raw["meta"] == {}


def test_save_errors(tmp_path: Path) -> None:
    model = build_generator(TINY_SPECS["resnet"])
    with pytest.raises(ValueError, match=r"extension"):
        save_generator(model, tmp_path / "g.onnx")
    with pytest.raises(ValueError, match=r"arch_spec"):
        save_generator(nn.Conv2d(3, 3, 1), tmp_path / "g.pt")
    with pytest.raises(TypeError, match=r"JSON"):
        save_generator(model, tmp_path / "g.pt", meta={"bad": object()})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".safetensors", ".pt", ".ckpt"])
def test_corrupt_file_is_a_value_error_naming_it(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"\x00\x01 definitely not a checkpoint" * 10)
    with pytest.raises(ValueError, match=f"broken{suffix}"):
        load_generator(path)


def test_foreign_files_are_rejected(tmp_path: Path) -> None:
    bare = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(2)}, str(bare))
    with pytest.raises(ValueError, match=r"bare.safetensors.*no 'arch'"):
        load_generator(bare)
    plain = tmp_path / "plain.pth"
    torch.save({"w": torch.zeros(2)}, plain)
    with pytest.raises(ValueError, match=r"plain.pth.*not a deblurgan generator"):
        load_generator(plain)
    newer = tmp_path / "newer.safetensors"
    save_file({"w": torch.zeros(2)}, str(newer), metadata={"format_version": "9", "arch": "x"})
    with pytest.raises(ValueError, match=r"format_version"):
        read_checkpoint(newer)


def test_unknown_arch_and_mismatched_tensors(tmp_path: Path) -> None:
    model = build_generator(TINY_SPECS["resnet"])
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    unknown = tmp_path / "unknown.safetensors"
    save_file(state, str(unknown), metadata={"format_version": "1", "arch": "unet_xl"})
    with pytest.raises(ValueError, match=r"unknown.safetensors.*unknown generator.*'unet_xl'"):
        load_generator(unknown)
    mismatch = tmp_path / "mismatch.safetensors"
    metadata = {"format_version": "1", "arch": "resnet", "arch_kwargs": '{"width": 8}'}
    save_file(state, str(mismatch), metadata=metadata)
    with pytest.raises(ValueError, match=r"mismatch.safetensors.*do not fit"):
        load_generator(mismatch)
    bad_kwargs = tmp_path / "kwargs.safetensors"
    metadata = {"format_version": "1", "arch": "resnet", "arch_kwargs": '{"depth": 8}'}
    save_file(state, str(bad_kwargs), metadata=metadata)
    with pytest.raises(ValueError, match=r"kwargs.safetensors.*cannot build"):
        load_generator(bad_kwargs)


def test_architecture_names_without_weights_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no weights are known for 'resnet'; pass a checkpoint"):
        load_generator("resnet")
    with pytest.raises(FileNotFoundError, match=r"nowhere.pt"):
        load_generator(tmp_path / "nowhere.pt")
    with pytest.raises(FileNotFoundError, match=r"no such checkpoint"):
        load_generator("not-a-name-or-file")


def test_missing_shipped_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"ghost": ShippedWeights(file="ghost.safetensors", description="never shipped")}
    monkeypatch.setattr(weights_module, "SHIPPED_WEIGHTS", table)
    with pytest.raises(FileNotFoundError, match=r"shipped weights 'ghost' are missing"):
        load_generator("ghost")


def test_shipped_table_points_inside_the_package() -> None:
    assert "default" in SHIPPED_WEIGHTS and SHIPPED_WEIGHTS["default"].file == "default.safetensors"
    path = weights_module.shipped_weights_path("default")
    assert path.parent.name == "weights" and path.parent.parent.name == "deblurgan"
    with pytest.raises(ValueError, match=r"unknown shipped weights"):
        weights_module.shipped_weights_path("nope")


def test_default_weights_are_shipped_and_load() -> None:
    # No skip: a missing file is a packaging regression, and this test must say so.
    assert weights_module.shipped_weights_path("default").is_file()
    model = load_generator("default")
    assert not model.training and model.arch_spec["name"] in GENERATORS
    m = model.size_multiple
    with torch.inference_mode():
        restored = model(torch.rand(1, 3, 2 * m, 2 * m))
    assert restored.shape == (1, 3, 2 * m, 2 * m) and torch.isfinite(restored).all()


def test_lightning_checkpoint_with_generator_hyperparameters(tmp_path: Path) -> None:
    model = _trained(TINY_SPECS["resnet"])
    state = {f"generator.{k}": v for k, v in model.state_dict().items()}
    state["discriminator.model.0.weight"] = torch.zeros(1)
    path = tmp_path / "last.ckpt"
    hparams = {"generator": TINY_SPECS["resnet"], "lr": 1e-4}
    torch.save(
        {"state_dict": state, "hyper_parameters": hparams, "epoch": 2, "global_step": 7}, path
    )
    loaded = load_generator(path)
    assert loaded.arch_spec == TINY_SPECS["resnet"]
    assert loaded.checkpoint_meta == {"source": "lightning", "epoch": 2, "step": 7}
    blurry = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        assert torch.equal(model(blurry), loaded(blurry))


def test_lightning_checkpoint_with_an_ema_loads_the_ema(tmp_path: Path) -> None:
    model, average = _trained(TINY_SPECS["resnet"]), _trained(TINY_SPECS["resnet"])
    with torch.no_grad():
        for p in average.parameters():
            p.add_(0.5)
    state = {f"generator.{k}": v for k, v in model.state_dict().items()}
    state.update({f"generator_ema.{k}": v for k, v in average.state_dict().items()})
    path = tmp_path / "last.ckpt"
    hparams = {"generator": TINY_SPECS["resnet"]}
    torch.save({"state_dict": state, "hyper_parameters": hparams, "global_step": 9}, path)
    loaded = load_generator(path)
    assert loaded.checkpoint_meta == {"source": "lightning", "epoch": None, "step": 9, "ema": True}
    blurry = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        assert torch.equal(average(blurry), loaded(blurry))
        assert not torch.equal(model(blurry), loaded(blurry))


def test_urls_are_cached_by_the_whole_url_and_verified(
    http_server: LocalServer, tmp_path: Path
) -> None:
    first = build_generator(TINY_SPECS["resnet"])
    second = build_generator({"name": "resnet", "width": 8, "n_blocks": 1})
    data = [
        save_generator(m, tmp_path / f"{i}.safetensors").read_bytes()
        for i, m in enumerate((first, second))
    ]
    url_a = http_server.serve("/a/generator.safetensors", data[0])
    url_b = http_server.serve("/b/generator.safetensors", data[1])
    # Same file name, two URLs: two models (issue 13: B used to load A from the cache).
    assert load_generator(url_a).arch_spec == TINY_SPECS["resnet"]
    assert load_generator(url_b).arch_spec["width"] == 8
    assert load_generator(url_a).arch_spec == TINY_SPECS["resnet"]  # from the cache
    assert http_server.hits["/a/generator.safetensors"] == 1
    sha = hashlib.sha256(data[1]).hexdigest()
    assert load_generator(url_b, sha256=sha).arch_spec["width"] == 8
    with pytest.raises(OSError, match="sha256 mismatch"):
        load_generator(url_a, sha256=sha)
    with pytest.raises(ValueError, match="plain http is allowed only to a loopback host"):
        load_generator("http://example.org/models/g.safetensors")
    with pytest.raises(ValueError, match="sha256 applies to a URL"):
        load_generator("default", sha256=sha)
    assert not any((Path(torch.hub.get_dir()) / "checkpoints").glob("generator*"))


def test_fetched_weights_names_their_fetch_command() -> None:
    with pytest.raises(
        FileNotFoundError,
        match=r"^the maxim weights are not fetched yet: run "
        r"'deblur weights fetch maxim'",
    ):
        load_generator("maxim")
    with pytest.raises(
        ValueError,
        match=r"no weights are known for 'maxim_3s'; its public "
        r"weights load as 'maxim'",
    ):
        load_generator("maxim_3s")


def test_compiled_generator_saves_plain_keys(tmp_path: Path) -> None:
    model = build_generator(TINY_SPECS["resnet"])
    wrapped = nn.Module()  # stands in for torch.compile's OptimizedModule (keys "_orig_mod.*")
    wrapped._orig_mod = model
    assert next(iter(wrapped.state_dict())).startswith("_orig_mod.")
    path = save_generator(wrapped, tmp_path / "g.safetensors")
    _, state, _ = read_checkpoint(path)
    assert set(state) == set(model.state_dict())


def test_saved_checkpoint_gets_ordinary_file_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = save_generator(build_generator(TINY_SPECS["resnet"]), tmp_path / "g.safetensors")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def _write_raw(
    path: Path, arch: str, kwargs: dict[str, Any], state: dict[str, torch.Tensor]
) -> Path:
    metadata = {"format_version": "1", "arch": arch, "arch_kwargs": json.dumps(kwargs)}
    save_file(state, str(path), metadata=metadata)
    return path


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 1000, "n_blocks": 20000}, r"n_blocks=20000 is out of bounds"),
        ({"width": 64, "n_blocks": 20}, r"tensors do not fit 'resnet'.* missing"),
        ({"width": 1000, "n_blocks": 20}, r"declare [\d,]+ parameters \(limit"),
    ],
)
def test_a_tiny_file_declaring_a_huge_network_is_refused_before_building(
    tmp_path: Path, kwargs: dict[str, Any], match: str
) -> None:
    """A 100-byte checkpoint must not make the loader allocate gigabytes (checked in a fresh
    process by its peak memory)."""
    path = _write_raw(tmp_path / "evil.safetensors", "resnet", kwargs, {"x": torch.zeros(1)})
    code = (
        "import resource, sys\n"
        "from deblurgan.models import load_generator\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        f"    load_generator({str(path)!r})\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    message, rise_mib = result.stdout.strip().splitlines()
    assert str(path) in message
    assert re.search(match, message), message
    assert int(rise_mib) < 256, f"the load raised the peak memory by {rise_mib} MiB"


@pytest.mark.parametrize(
    ("broken", "match"),
    [
        (lambda t: torch.full_like(t, float("nan")), "NaN or infinite"),
        (lambda t: torch.full_like(t, float("inf")), "NaN or infinite"),
        (lambda t: t.to(torch.int64), "is int64, not floating point"),
        (lambda t: t.bool(), "is bool, not floating point"),
        (lambda t: t[:1], "has shape"),
    ],
)
def test_broken_weights_are_refused_at_load_naming_the_model(
    tmp_path: Path, broken: Any, match: str
) -> None:
    spec = {"name": "resnet", **TINY["resnet"]}
    state = build_generator(spec).state_dict()
    key = next(k for k, v in state.items() if v.is_floating_point() and v.ndim == 4)
    state = {k: v.contiguous() for k, v in state.items()}
    state[key] = broken(state[key]).contiguous()
    kwargs = {k: v for k, v in spec.items() if k != "name"}
    path = _write_raw(tmp_path / "broken.safetensors", "resnet", kwargs, state)
    with pytest.raises(ValueError, match=match) as info:
        load_generator(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_folder_or_an_unreadable_file_as_model_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "g.safetensors"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder, not a checkpoint file"):
        load_generator(folder)
    path = save_generator(build_generator(TINY_SPECS["resnet"]), tmp_path / "r.safetensors")
    # Root reads any file whatever its mode, so the permission check is simulated.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == path else real_access(p, mode)
    )
    with pytest.raises(ValueError, match=r"r.safetensors: cannot be read \(permission denied\)"):
        load_generator(path)
