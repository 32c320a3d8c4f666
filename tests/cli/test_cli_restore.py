"""The ``deblur`` command through ``main(argv)`` on files written here: outputs, safety, errors."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

from deblurgan.cli.main import main
from deblurgan.inference import Deblurrer
from deblurgan.io import read_image, tensor_to_array, write_image
from deblurgan.models import GENERATORS, build_generator, load_generator, save_generator

if TYPE_CHECKING:
    from conftest import LocalServer

TINY = {"name": "fpn_mobilenet", "width_mult": 0.25, "num_filters": 8, "num_filters_fpn": 16}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    return str(save_generator(build_generator(TINY), path))


def _rgb(height: int, width: int, seed: int, channels: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, channels), dtype=np.uint8)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _png_bit_depth(path: Path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return data[24]  # IHDR: width(4) height(4) bit depth(1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Five small images of different kinds."""
    root = tmp_path / "in"
    root.mkdir()
    Image.fromarray(_rgb(40, 50, 1)).save(root / "rgb.png")
    Image.fromarray(_rgb(36, 30, 2, channels=4), mode="RGBA").save(root / "rgba.png")
    Image.fromarray(_rgb(33, 47, 3)).save(root / "photo.jpg", quality=90)
    deep = torch.rand(3, 24, 40, generator=torch.Generator().manual_seed(4))
    write_image(root / "deep.png", deep, bit_depth=16)
    write_image(root / "deep.tif", deep, bit_depth=16)
    return root


def test_restores_a_folder_keeping_size_mode_depth_and_alpha(
    folder: Path, tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p.name: _sha(p) for p in folder.iterdir()}
    out = tmp_path / "out"
    code = main([str(folder), "-o", str(out), "--model", checkpoint])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "5 restored, 0 failed" in captured.out
    assert sorted(p.name for p in out.iterdir()) == sorted(before)
    assert {p.name: _sha(p) for p in folder.iterdir()} == before  # inputs untouched

    for name in before:
        with Image.open(folder / name) as src, Image.open(out / name) as dst:
            assert dst.size == src.size and dst.mode == src.mode and dst.format == src.format
    with Image.open(folder / "rgba.png") as src, Image.open(out / "rgba.png") as dst:
        assert np.array_equal(np.asarray(src)[..., 3], np.asarray(dst)[..., 3])  # alpha exact
    assert _png_bit_depth(out / "deep.png") == 16
    assert read_image(out / "deep.tif").bit_depth == 16
    with Image.open(out / "deep.tif") as tif:
        assert tif.tag_v2[258] == (16, 16, 16)  # BitsPerSample

    # the written pixels are the model's output on the decoded input, rounded to 8 bits
    deblurrer = Deblurrer(load_generator(checkpoint), device="cpu")
    expected = deblurrer(read_image(folder / "rgb.png").rgb)
    written = read_image(out / "rgb.png").rgb
    assert (written - expected).abs().max() <= 0.5 / 255 + 1e-6
    assert (written - read_image(folder / "rgb.png").rgb).abs().max() > 0.01  # it did something
    expected16 = deblurrer(read_image(folder / "deep.png").rgb)
    assert (read_image(out / "deep.png").rgb - expected16).abs().max() <= 0.5 / 65535 + 1e-6


def test_grey_inputs_come_back_grey(tmp_path: Path, checkpoint: str) -> None:
    source = tmp_path / "in"
    source.mkdir()
    Image.fromarray(_rgb(30, 44, 6)[..., 0]).save(source / "grey.png")  # mode L
    Image.fromarray(_rgb(28, 36, 7, channels=2), mode="LA").save(source / "grey_alpha.png")
    grey16 = np.random.default_rng(8).integers(0, 65536, (26, 34), dtype=np.uint16)
    Image.fromarray(grey16).save(source / "grey16.png")  # 16-bit grey PNG
    out = tmp_path / "out"
    assert main([str(source), "-o", str(out), "--model", checkpoint, "--quiet"]) == 0
    for name in ("grey.png", "grey_alpha.png", "grey16.png"):
        with Image.open(source / name) as src, Image.open(out / name) as dst:
            assert dst.size == src.size and dst.mode == src.mode and src.mode != "RGB"
    assert _png_bit_depth(out / "grey16.png") == 16
    with Image.open(source / "grey_alpha.png") as src, Image.open(out / "grey_alpha.png") as dst:
        assert np.array_equal(np.asarray(src)[..., 1], np.asarray(dst)[..., 1])  # alpha exact

    # the written grey is the BT.601 luma of the model's output on the decoded input
    deblurrer = Deblurrer(load_generator(checkpoint), device="cpu")
    for name, levels in (("grey.png", 255), ("grey16.png", 65535)):
        blurry = read_image(source / name).rgb
        restored = deblurrer(blurry).clamp(0, 1).numpy().astype(np.float64)
        with Image.open(out / name) as dst:
            written = np.asarray(dst).astype(np.float64) / levels
        luma = 0.299 * restored[0] + 0.587 * restored[1] + 0.114 * restored[2]
        assert np.abs(written - luma).max() <= 0.5 / levels + 1e-6
        assert np.abs(written - blurry[0].numpy()).max() > 0.01  # it did something
    # independently: Pillow's own RGB -> L conversion of the restored picture, within a level
    restored8 = tensor_to_array(deblurrer(read_image(source / "grey.png").rgb))
    with Image.open(out / "grey.png") as dst:
        pillow_l = np.asarray(Image.fromarray(restored8).convert("L"), np.int16)
        assert np.abs(np.asarray(dst, np.int16) - pillow_l).max() <= 1


def test_keeps_exif_and_icc_profile(tmp_path: Path, checkpoint: str) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "TestMaker"  # Make
    exif[0x0110] = "TestCamera"  # Model
    source = tmp_path / "shot.jpg"
    Image.fromarray(_rgb(32, 48, 5)).save(source, exif=exif.tobytes(), icc_profile=icc)
    assert main([str(source), "--model", checkpoint, "--quiet"]) == 0
    with Image.open(tmp_path / "shot_deblurred.jpg") as out:
        assert out.info.get("icc_profile") == icc
        assert out.getexif().get(0x010F) == "TestMaker"
        assert out.getexif().get(0x0110) == "TestCamera"


def test_bad_files_fail_alone(
    folder: Path, tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "broken.png").write_bytes(b"this is not a png")
    (folder / "empty.jpg").write_bytes(b"")
    out = tmp_path / "out"
    code = main([str(folder), str(tmp_path / "missing.png"), "-o", str(out), "--model", checkpoint])
    captured = capsys.readouterr()
    assert code == 1
    assert "5 restored, 3 failed" in captured.out
    failures = captured.err.strip().splitlines()[-3:]
    assert any(line.startswith(str(folder / "broken.png") + ":") for line in failures)
    assert any(line.startswith(str(folder / "empty.jpg") + ":") for line in failures)
    assert any("missing.png" in line for line in failures)
    assert (out / "rgb.png").is_file() and (out / "deep.tif").is_file()
    assert not (out / "broken.png").exists()


def test_never_overwrites_an_input_even_with_force(
    folder: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = folder / "rgb.png"
    digest = _sha(source)
    code = main([str(source), "-o", str(source), "--force", "--model", checkpoint])
    assert code == 1
    err = capsys.readouterr().err
    assert "input" in err and str(source) in err
    # the input folder as the output folder: every output would be an input
    code = main([str(folder), "-o", str(folder), "--force", "--model", checkpoint])
    captured = capsys.readouterr()
    assert code == 1 and "0 restored, 5 failed" in captured.out
    # a path that reaches the input through a link, and a relative spelling of it
    links = folder.parent / "links"
    links.mkdir()
    (links / "rgb.png").symlink_to(source)
    code = main([str(source), "-o", str(links), "--force", "--model", checkpoint])
    assert code == 1
    os.link(source, links / "hard.png")
    code = main([str(links / "hard.png"), "-o", str(source), "--force", "--model", checkpoint])
    assert code == 1
    assert _sha(source) == digest


def test_existing_output_needs_force(
    folder: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = folder / "rgb.png"
    target = folder / "rgb_deblurred.png"
    target.write_bytes(b"old")
    assert main([str(source), "--model", checkpoint]) == 1
    captured = capsys.readouterr()
    assert "exists" in captured.err and "--force" in captured.err
    assert target.read_bytes() == b"old"
    assert main([str(source), "--model", checkpoint, "--force"]) == 0
    with Image.open(target) as image:
        assert image.size == (50, 40)


def test_default_outputs_sit_beside_inputs_and_are_not_restored_again(
    folder: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(folder), "--model", checkpoint, "--quiet"]) == 0
    assert (folder / "rgb_deblurred.png").is_file()
    assert (folder / "photo_deblurred.jpg").is_file()
    capsys.readouterr()
    # a second run over the folder skips the first run's outputs (and has nothing else to write)
    assert main([str(folder), "--model", checkpoint]) == 1
    captured = capsys.readouterr()
    assert "skipped 5 earlier output" in captured.err
    assert not list(folder.glob("*_deblurred_deblurred*"))


def test_glob_patterns(folder: Path, tmp_path: Path, checkpoint: str) -> None:
    out = tmp_path / "out"
    assert main([str(folder / "*.png"), "-o", str(out), "--model", checkpoint, "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["deep.png", "rgb.png", "rgba.png"]


def test_output_file_for_one_input(
    folder: Path, tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "result.png"
    assert main([str(folder / "photo.jpg"), "-o", str(target), "--model", checkpoint, "-q"]) == 0
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == (47, 33)
    # one file name for many inputs is a usage error
    assert main([str(folder), "-o", str(tmp_path / "x.png"), "--model", checkpoint]) == 2
    assert "one file" in capsys.readouterr().err
    assert (
        main([str(folder / "rgb.png"), "-o", str(tmp_path / "x.bmp"), "--model", checkpoint]) == 2
    )


def test_alpha_dropped_for_jpeg_output_with_a_warning(
    folder: Path, tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "flat.jpg"
    assert main([str(folder / "rgba.png"), "-o", str(target), "--model", checkpoint]) == 0
    assert "alpha" in capsys.readouterr().err
    with Image.open(target) as image:
        assert image.mode == "RGB"


def test_unwritable_formats_come_back_as_png(tmp_path: Path, checkpoint: str) -> None:
    Image.fromarray(_rgb(20, 30, 6)).save(tmp_path / "scan.bmp")
    assert main([str(tmp_path / "scan.bmp"), "--model", checkpoint, "-q"]) == 0
    with Image.open(tmp_path / "scan_deblurred.png") as image:
        assert image.format == "PNG" and image.size == (30, 20)


def test_recursive_folders_keep_their_tree(tmp_path: Path, checkpoint: str) -> None:
    root = tmp_path / "shots"
    (root / "day1").mkdir(parents=True)
    Image.fromarray(_rgb(20, 20, 7)).save(root / "a.png")
    Image.fromarray(_rgb(20, 20, 8)).save(root / "day1" / "a.png")
    out = tmp_path / "out"
    assert main([str(root), "-r", "-o", str(out), "--model", checkpoint, "-q"]) == 0
    assert (out / "a.png").is_file() and (out / "day1" / "a.png").is_file()


def test_max_pixels_guard(folder: Path, tmp_path: Path, checkpoint: str, capsys) -> None:
    args = [str(folder / "rgb.png"), "--model", checkpoint, "-o", str(tmp_path / "o")]
    assert main([*args, "--max-pixels", "100"]) == 1
    assert "100" in capsys.readouterr().err
    assert main([*args, "--no-max-pixels"]) == 0
    assert main([*args, "--no-max-pixels", "--max-pixels", "5"]) == 2


def test_tiling_options_reach_the_deblurrer(folder: Path, tmp_path: Path, checkpoint: str) -> None:
    whole, tiled = tmp_path / "whole.png", tmp_path / "tiled.png"
    source = str(folder / "rgb.png")
    assert main([source, "-o", str(whole), "--model", checkpoint, "-q"]) == 0
    options = ["--tile-size", "32", "--tile-overlap", "8", "--threads", "1"]
    assert main([source, "-o", str(tiled), "--model", checkpoint, "-q", *options]) == 0
    assert read_image(whole).rgb.shape == read_image(tiled).rgb.shape
    assert main([source, "--model", checkpoint, "--tile-size", "32", "--tile-overlap", "40"]) == 2


def test_unknown_model_is_one_line_and_exit_2(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([str(folder / "rgb.png"), "--model", "no-such-model"])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "no-such-model" in lines[0]
    assert not (folder / "rgb_deblurred.png").exists()


@pytest.mark.parametrize(
    "argv",
    [[], ["x.png", "--tile-size", "0"], ["x.png", "--precision", "fp8"], ["x.png", "--bogus"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_cuda_without_cuda_is_a_usage_error(
    folder: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(folder / "rgb.png"), "--model", checkpoint, "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    import deblurgan

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"deblur {deblurgan.__version__}"
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "deblur models" in out and "--tile-size" in out


@pytest.mark.slow  # counts the MACs of every generator at paper size: about 18 s
def test_models_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    table = capsys.readouterr().out
    for name in GENERATORS:
        assert name in table
    assert "default" in table
    assert main(["models", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    rows = {row["name"]: row for row in info["generators"]}
    assert set(rows) == set(GENERATORS)
    for name, row in rows.items():
        model = GENERATORS.build(name)
        assert row["parameters"] == sum(p.numel() for p in model.parameters()) > 0
        assert row["size_multiple"] == model.size_multiple
    weights = {row["name"]: row for row in info["weights"]}
    assert "default" in weights and isinstance(weights["default"]["available"], bool)
    if weights["default"]["available"]:
        assert "default" in rows[weights["default"]["generator"]]["shipped_weights"]


def test_train_subcommand_passes_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def train_main(argv: list[str]) -> int:
        seen.append(argv)
        return 3

    fake = types.ModuleType("deblurgan.training.cli")
    fake.train_main = train_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "deblurgan.training.cli", fake)
    assert main(["train", "experiment=x", "trainer.max_steps=1"]) == 3
    assert seen == [["experiment=x", "trainer.max_steps=1"]]


def test_a_file_named_like_a_subcommand_needs_a_path(
    tmp_path: Path, checkpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Image.fromarray(_rgb(16, 16, 9)).save(tmp_path / "models", format="PNG")
    assert main(["./models", "-o", "out.png", "--model", checkpoint, "-q"]) == 0
    assert (tmp_path / "out.png").is_file()


def test_default_model_is_the_shipped_file(
    folder: Path, checkpoint: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import deblurgan.models.weights as weights

    monkeypatch.setattr(weights, "shipped_weights_path", lambda name: Path(checkpoint))
    assert main([str(folder / "rgb.png"), "-q"]) == 0  # --model default
    assert (folder / "rgb_deblurred.png").is_file()
    assert main(["models", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    default = next(w for w in info["weights"] if w["name"] == "default")
    assert default["available"] and default["generator"] == "fpn_mobilenet"
    assert default["parameters"] == sum(p.numel() for p in build_generator(TINY).parameters())
    fpn = next(g for g in info["generators"] if g["name"] == "fpn_mobilenet")
    assert fpn["shipped_weights"] == ["default"]


def test_model_url_with_sha256_says_which_cached_file_it_used(
    tmp_path: Path, checkpoint: str, http_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb(32, 40, 5)).save(photo)
    data = Path(checkpoint).read_bytes()
    url = http_server.serve("/models/tiny.safetensors", data)
    out = tmp_path / "out.png"
    argv = ["--model", url, "--sha256", _sha(Path(checkpoint)), str(photo), "-o", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "using" in x)
    cached = Path(line.split("using ")[1].split(" (")[0])
    assert "downloaded now, sha256 checked" in line and cached.read_bytes() == data
    expected = np.asarray(Image.open(out))
    assert main([*argv, "--force"]) == 0  # the cache answers: no second request
    assert "cached earlier" in capsys.readouterr().err
    assert http_server.hits["/models/tiny.safetensors"] == 1
    assert np.array_equal(np.asarray(Image.open(out)), expected)


def test_model_url_failures_are_one_line_without_the_password(
    tmp_path: Path, checkpoint: str, http_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb(32, 40, 5)).save(photo)
    url = http_server.serve("/m/tiny.safetensors", Path(checkpoint).read_bytes())
    secret = url.replace("http://", "http://ann:hunter2@")
    cases = [
        ([secret, "--sha256", "0" * 64], "sha256 mismatch"),
        ([secret.replace("tiny", "gone")], "HTTP 404"),
        (["http://example.org/m.safetensors"], "plain http is allowed only to a loopback host"),
        ([url, "--sha256", "xyz"], "64 hexadecimal digits"),
    ]
    for model, message in cases:
        assert main(["--model", *model, str(photo), "-o", str(tmp_path / "o.png")]) == 2
        captured = capsys.readouterr()
        assert message in captured.err and "Traceback" not in captured.err
        assert "hunter2" not in captured.err + captured.out
        lines = [x for x in captured.err.splitlines() if not x.startswith(("usage:", " "))]
        assert len(lines) == 1 and lines[0].startswith("deblur: error: ")
    assert not (tmp_path / "o.png").exists()


def test_fetched_weights_name_their_fetch_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(_rgb(32, 40, 5)).save(photo)
    assert main(["-m", "maxim", str(photo)]) == 2
    err = capsys.readouterr().err
    assert "run 'deblur weights fetch maxim'" in err and err.count("\n") == 1


def test_a_model_that_outputs_nan_is_blamed_once_not_each_image(
    folder: Path,
    tmp_path: Path,
    checkpoint: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class NaNOut(torch.nn.Module):  # finite weights can still overflow: any NaN output
        def __init__(self) -> None:
            super().__init__()
            self.arch_spec = {"name": "nan_maker"}

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * float("nan")

    import deblurgan.models as models

    monkeypatch.setattr(models, "load_generator", lambda *a, **k: NaNOut())
    out = tmp_path / "out"
    code = main([str(folder), "-o", str(out), "--model", checkpoint])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("produced NaN or infinite values") == 1 and "(nan_maker)" in err
    assert "not the image" in err
    assert not out.exists() or not any(out.iterdir())


def test_deblurrer_refuses_non_finite_images() -> None:
    deblurrer = Deblurrer(torch.nn.Identity(), device="cpu")
    image = torch.rand(1, 3, 8, 8)
    image[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        deblurrer(image)


def test_a_symlink_loop_in_a_folder_is_one_bad_input(
    folder: Path, tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "loop.png").symlink_to("loop.png")
    out = tmp_path / "out"
    for extra in ([], ["-r"]):
        code = main([str(folder), *extra, "-o", str(out), "--model", checkpoint, "--force"])
        captured = capsys.readouterr()
        assert code == 1
        assert f"{folder / 'loop.png'}: symbolic link loop" in captured.err
        assert "5 restored, 1 failed" in captured.out
        assert "Traceback" not in captured.err


def test_a_file_name_with_a_newline_cannot_forge_report_lines(
    tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad\n5 restored, 0 failed\nx.png").write_bytes(b"not an image")
    (folder / "\x1b[2Jclear.png").write_bytes(b"not an image")
    code = main([str(folder), "-o", str(tmp_path / "out"), "--model", checkpoint])
    captured = capsys.readouterr()
    assert code == 1
    lines = [line for line in captured.err.splitlines() if "failed" in line or ".png" in line]
    assert len(lines) == 2, captured.err
    assert "bad\\n5 restored, 0 failed\\nx.png: " in captured.err
    assert "\\x1b[2Jclear.png: " in captured.err and "\x1b" not in captured.err


@pytest.mark.parametrize("force", [False, True])
def test_an_output_another_run_writes_meanwhile_is_kept_without_force(
    folder: Path,
    checkpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    force: bool,
) -> None:
    import deblurgan.cli.restore as restore

    source = folder / "rgb.png"
    target = folder / "rgb_deblurred.png"
    real_plan = restore.plan_jobs

    def plan_then_race(*args, **kwargs):  # the other run writes the output after the check
        jobs = real_plan(*args, **kwargs)
        target.write_bytes(b"the other run's output")
        return jobs

    monkeypatch.setattr(restore, "plan_jobs", plan_then_race)
    code = main([str(source), "--model", checkpoint, *(["--force"] if force else [])])
    captured = capsys.readouterr()
    assert not list(folder.glob(".*.tmp"))
    if force:
        assert code == 0
        with Image.open(target) as image:
            assert image.size == (50, 40)
    else:
        assert code == 1
        assert f"{target}: output exists (another run may have written it meanwhile)" in (
            captured.err
        )
        assert target.read_bytes() == b"the other run's output"


def test_temporary_files_of_a_killed_run_are_not_inputs_and_stale_ones_go(
    folder: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = folder / ".rgb_deblurred.png.k1ll3d.tmp"  # a run killed long ago
    live = folder / ".photo_deblurred.jpg.w0rk1n.tmp"  # a run writing right now
    stale.write_bytes(b"\x89PNG\r\n\x1a\n torn")
    live.write_bytes(b"\xff\xd8 half")
    os.utime(stale, (1, 1))
    assert main([str(folder), "--model", checkpoint]) == 0
    assert "5 restored, 0 failed" in capsys.readouterr().out
    assert not stale.exists() and live.exists()
    assert main([str(folder / ".*"), "--model", checkpoint]) == 1  # not even by a dot pattern
    assert "pattern matches no image files" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("anim.gif", {}),
        ("anim.webp", {"lossless": True}),
        ("anim.png", {}),  # APNG
        ("pages.tif", {}),
    ],
)
def test_animated_and_multi_page_files_say_only_frame_1_was_restored(
    tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str], name: str, options: dict
) -> None:
    frames = [Image.fromarray(_rgb(20, 24, seed)) for seed in range(3)]
    source = tmp_path / name
    frames[0].save(source, save_all=True, append_images=frames[1:], **options)
    with Image.open(source) as check:
        assert check.n_frames == 3  # the encoder wrote every frame
    out = tmp_path / f"out{Path(name).suffix if name != 'anim.gif' else '.png'}"
    assert main([str(source), "-o", str(out), "--model", checkpoint]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "frames" in line]
    assert lines == [
        f"deblur: warning: {source}: has 3 frames (animated or multi-page); only frame 1 was "
        "restored"
    ]
    with Image.open(out) as written:
        assert getattr(written, "n_frames", 1) == 1 and written.size == (24, 20)


def test_python_warnings_are_one_line_naming_the_file(
    tmp_path: Path, checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # An EXIF block whose directory promises an entry past its end: Pillow warns while parsing.
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\x00" + b"\x12\x01\x03\x00\x01\x00\x00\x00"
    source = tmp_path / "bad exif.jpg"
    Image.fromarray(_rgb(16, 16, 0)).save(source, exif=exif)
    assert main([str(source), "-o", str(tmp_path / "out.jpg"), "--model", checkpoint]) == 0
    err = capsys.readouterr().err.splitlines()
    warned = [line for line in err if "EXIF" in line]
    assert warned and all(line.startswith("deblur: warning: ") for line in warned), err
    assert f"deblur: warning: {source}: Corrupt EXIF data" in warned[0]
    assert not [line for line in err if ".py:" in line or "warnings.warn" in line], err


def test_a_raw_warning_during_a_command_is_one_line(
    folder: Path,
    checkpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import warnings

    import deblurgan.cli.restore as restore

    real_load = restore.load_deblurrer_auto

    def noisy_load(args, prog, megapixels):
        warnings.warn("a pickle protocol note\n  spread over lines", UserWarning, stacklevel=1)
        return real_load(args, prog, megapixels)

    monkeypatch.setattr(restore, "load_deblurrer_auto", noisy_load)
    assert main([str(folder / "rgb.png"), "-o", str(folder / "x.png"), "--model", checkpoint]) == 0
    err = capsys.readouterr().err
    assert "deblur: warning: a pickle protocol note spread over lines\n" in err
    assert "spread over lines" not in err.replace("note spread over lines", "")
    assert warnings.showwarning.__module__ == "warnings"  # restored after the command


def test_backend_auto_weighs_a_folder_in_pixels(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    auto_onnx_lite_unet: str,
) -> None:
    checkpoint = auto_onnx_lite_unet
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(30):
        Image.fromarray(_rgb(24, 32, seed=i)).save(photos / f"p{i:02d}.png")
    (photos / "broken.png").write_bytes(b"not an image")  # counts 0, reported in its turn
    argv = [str(photos), "-m", checkpoint, "--device", "cpu"]
    assert main([*argv, "-o", str(tmp_path / "onnx")]) == 1
    captured = capsys.readouterr()
    assert "backend onnxruntime" in captured.err and "30 restored, 1 failed" in captured.out
    assert main([*argv, "-o", str(tmp_path / "eager"), "--backend", "eager"]) == 1
    assert "backend eager" in capsys.readouterr().err
    for i in (0, 29):
        onnx = read_image(tmp_path / "onnx" / f"p{i:02d}.png").rgb
        eager = read_image(tmp_path / "eager" / f"p{i:02d}.png").rgb
        assert (onnx - eager).abs().max() <= 1 / 255  # within 1e-3, then 8-bit rounding
    few = tmp_path / "few"
    few.mkdir()
    for i in range(3):
        Image.fromarray(_rgb(24, 32, seed=i)).save(few / f"p{i}.png")
    assert main([str(few), "-m", checkpoint, "--device", "cpu", "-o", str(tmp_path / "f")]) == 0
    # Three photos do not pay for an export; lite_unet runs faster channels-last (measured).
    assert "backend eager (channels-last);" in capsys.readouterr().err
    eager = read_image(tmp_path / "eager" / "p00.png").rgb
    assert (read_image(tmp_path / "f" / "p0.png").rgb - eager).abs().max() <= 1 / 255


def test_backend_auto_keeps_eager_where_onnxruntime_does_not_pay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import deblurgan.inference.backends as backends

    # However much work: an architecture that is not listed as repaying its export runs eager.
    monkeypatch.setattr(backends, "ONNX_AUTO_MARGIN", 0.0)
    model = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
    checkpoint = str(save_generator(model, tmp_path / "resnet.safetensors"))
    Image.fromarray(_rgb(24, 32, seed=0)).save(tmp_path / "a.png")
    assert main([str(tmp_path / "a.png"), "-m", checkpoint, "--device", "cpu"]) == 0
    assert "backend eager;" in capsys.readouterr().err
