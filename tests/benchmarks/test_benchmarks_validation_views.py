"""benchmarks/validation_views.py: pairing, the Lai shift, cache keys, crops and tables."""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.metrics import colour_shift
from script_loader import load_script

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "validation_views.py"


def _load() -> ModuleType:
    return load_script(SCRIPT, "validation_views")


vv = _load()


def test_the_docstring_examples_run() -> None:
    assert doctest.testmod(vv).failed == 0


def _save(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def _lai(root: Path, photos: int = 2) -> Path:
    """A Lai-style folder: 2 kernels (centroid 1 px and 3 px off centre), blurred pairs."""
    rng = np.random.default_rng(0)
    for k, column in ((1, 4), (2, 6)):
        kernel = np.zeros((7, 7), np.uint8)
        kernel[3, 3] = kernel[3, column] = 255  # centroid (column + 3) / 2 - 3 px off
        _save(root / "kernels" / f"kernel_0{k}.png", kernel)
        for i in range(photos):
            sharp = (rng.random((40, 48, 3)) * 255).astype(np.uint8)
            _save(root / "sharp" / f"p{i}_kernel_0{k}.png", sharp)
            _save(root / "blur" / f"p{i}_kernel_0{k}.png", np.roll(sharp, 1, axis=1))
    return root


def test_lai_pairs_pair_names_and_refuse_strays(tmp_path: Path) -> None:
    root = _lai(tmp_path / "lai")
    pairs = vv.lai_pairs(root)
    assert len(pairs) == 4 and all(b.name == s.name for b, s in pairs)
    assert {vv.kernel_id(b.name) for b, _ in pairs} == {"kernel_01", "kernel_02"}
    _save(root / "blur" / "stray.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"unpaired files: stray\.png"):
        vv.lai_pairs(root)


def test_lai_shift_covers_the_largest_kernel_centroid_offset(tmp_path: Path) -> None:
    shift, offset, sizes = vv.lai_shift(_lai(tmp_path / "lai") / "kernels")
    assert offset == pytest.approx(1.5)  # the kernel with a point at column 6: (3 + 6) / 2 - 3
    assert shift == 2 + 2 and sizes == {"kernel_01": 7, "kernel_02": 7}


def test_real_photos_and_cache_keys(tmp_path: Path) -> None:
    for folder, name in (("a", "x.jpg"), ("b", "x.png"), ("b", "notes.txt")):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_bytes(b"1")
    assert [n for n, _ in vv.real_photos(tmp_path)] == ["a__x", "b__x"]
    key = vv.cache_key("d" * 64, vv.CropSettings(640, 256), "maxim:abc")
    assert key == vv.cache_key("d" * 64, vv.CropSettings(640, 256), "maxim:abc")
    others = [
        vv.cache_key("e" * 64, vv.CropSettings(640, 256), "maxim:abc"),  # another photo
        vv.cache_key("d" * 64, vv.CropSettings(640, 128), "maxim:abc"),  # another crop
        vv.cache_key("d" * 64, vv.CropSettings(0, 256), "maxim:abc"),  # another scale
        vv.cache_key("d" * 64, vv.CropSettings(640, 256), "maxim:abd"),  # other weights
    ]
    assert key not in others and len(set(others)) == 4


def test_centre_crop_downscales_the_longer_side_and_quantises() -> None:
    rgb = torch.rand(3, 300, 900)
    crop = vv.centre_crop(rgb, vv.CropSettings(450, 64))  # 300x900 -> 150x450, then 64 px
    assert crop.shape == (3, 64, 64)
    assert torch.equal(crop, torch.round(crop * 255) / 255)
    same = vv.centre_crop(rgb, vv.CropSettings(0, 64))  # as shot: the exact centre pixels
    assert torch.allclose(same, torch.round(rgb[:, 118:182, 418:482] * 255) / 255)
    assert vv.centre_crop(torch.rand(3, 20, 30), vv.CropSettings(1000, 64)).shape == (3, 20, 20)


def test_format_view_shows_gains_over_input_and_baseline() -> None:
    summary = {
        "identity": {"psnr": 20.0, "ssim": 0.5, "count": 3},
        "default": {"psnr": 20.5, "ssim": 0.55, "count": 3},
        "run": {"psnr": 22.0, "ssim": 0.6, "count": 3},
    }
    text = vv.format_view("t", summary, ["psnr", "ssim"], labels={}, baseline="default")
    lines = text.splitlines()
    assert lines[2].split()[:2] == ["blurry", "input"]
    assert lines[4].split() == ["run", "3", "22.00", "0.6000", "+2.00", "+0.1000", "+1.50"]
    alone = vv.format_view("t", {k: summary[k] for k in ("identity", "default")}, ["psnr"],
                           labels={}, baseline="default", seconds=12.0)  # fmt: skip
    assert "vs default" not in alone and alone.startswith("t  [12 s]")
    # the same table in Markdown, for a model card: the same cells, no timing
    card = vv.format_view("t", summary, ["psnr", "ssim"], labels={}, baseline="default",
                          seconds=12.0, markdown=True).splitlines()  # fmt: skip
    assert card[0] == "**t  [12 s]**" and card[1] == ""
    assert card[2] == "| method | n | psnr | ssim | psnr gain | ssim gain | psnr vs default |"
    assert card[3] == "|---|---|---|---|---|---|---|"
    assert card[6] == "| run | 3 | 22.00 | 0.6000 | +2.00 | +0.1000 | +1.50 |"


def test_run_eval_reads_the_summary_and_rows_of_deblur_eval(tmp_path: Path) -> None:
    root = _lai(tmp_path / "lai", photos=1)
    code, summary, rows = vv.run_eval(
        ["--data", str(root), "--method", "identity", "--metrics", "psnr", "--shift", "1"],
        tmp_path / "work" if (tmp_path / "work").mkdir() is None else tmp_path,
    )
    assert code == 0
    assert summary["methods"]["identity"]["count"] == 2
    assert {r["name"] for r in rows} == {"p0_kernel_01", "p0_kernel_02"}
    assert all(r["shift_dx"] == "1" for r in rows)  # blur/ is sharp/ moved 1 px right


@pytest.mark.slow  # deblur eval counts the model's MACs: about 10 s of imports and tracing
def test_main_prints_the_lai_view_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = _lai(tmp_path / "lai")
    out = tmp_path / "views.json"
    card = tmp_path / "card" / "views.md"
    argv = ["--views", "lai", "--lai", str(root), "--baseline", "none", "--json", str(out)]
    assert vv.main([*argv, "--markdown", str(card)]) == 0
    printed = capsys.readouterr().out
    assert "(b) Lai" in printed and "by kernel" in printed and "kernel_02 (7 px)" in printed
    markdown = card.read_text()
    assert markdown.startswith("**(b) Lai") and "[" not in markdown.splitlines()[0]  # no timing
    assert "| method | n | psnr |" in markdown and "Settings: " in markdown
    assert "| by kernel | n | blurry input | default | gain |" in markdown
    assert "| kernel_02 (7 px) | 2 |" in markdown
    payload = json.loads(out.read_text())
    lai = payload["views"]["lai"]
    assert lai["settings"]["shift"] == 4 and set(lai["summary"]) == {"identity", "default"}
    assert lai["summary"]["identity"]["count"] == 4 and lai["error"] is None


def test_the_lai_oracle_deconvolves_with_each_pairs_true_kernel(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from deblurgan.blur import blur_image

    root = _lai(tmp_path / "lai", photos=1)
    for blurry in sorted((root / "blur").iterdir()):  # really blurred by the pair's kernel
        kernel = np.asarray(Image.open(root / "kernels" / f"{vv.kernel_id(blurry.name)}.png"))
        k = torch.from_numpy(kernel.astype(np.float64))
        sharp = np.asarray(Image.open(root / "sharp" / blurry.name))
        image = torch.from_numpy(sharp).permute(2, 0, 1)[None].double() / 255
        out = blur_image(image, k / k.sum())[0].permute(1, 2, 0).numpy()
        _save(blurry, np.round(out * 255).astype(np.uint8))
    summary = _lai_summary(root, tmp_path, capsys, "--lai-oracle", "1e-4", printed="wiener")
    assert set(summary) == {"identity", "wiener", "default"}
    assert summary["wiener"]["count"] == 2
    assert summary["wiener"]["psnr"] > summary["identity"]["psnr"] + 3


def _lai_summary(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture, *extra: str, printed: str
) -> dict[str, Any]:
    """Run the Lai view on ``root`` with ``extra`` options; check ``printed`` is in its table."""
    out = tmp_path / "views.json"
    argv = ["--views", "lai", "--lai", str(root), "--baseline", "none", "--json", str(out)]
    assert vv.main([*argv, *extra]) == 0
    assert printed in capsys.readouterr().out
    return json.loads(out.read_text())["views"]["lai"]["summary"]


def test_lai_blind_estimates_each_pairs_kernel(
    shaken_photo: dict[str, torch.Tensor], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = tmp_path / "lai"
    kernel = shaken_photo["kernel"]
    _save(
        root / "kernels" / "kernel_01.png",
        np.round(kernel / kernel.max() * 255).numpy().astype(np.uint8),
    )
    for key, folder in (("sharp", "sharp"), ("blurry", "blur")):
        image = shaken_photo[key][0].permute(1, 2, 0).numpy()
        _save(root / folder / "p0_kernel_01.png", np.round(image * 255).astype(np.uint8))
    summary = _lai_summary(root, tmp_path, capsys, "--lai-blind", "25", printed="blind")
    assert set(summary) == {"identity", "blind", "default"}
    assert summary["blind"]["psnr"] > summary["identity"]["psnr"] + 5


def _reference_and_photos(tmp_path: Path, names: tuple[str, ...], size: tuple[int, int]) -> Path:
    """A tiny reference model's weights, and random 'real' photos under tmp_path/real."""
    from deblurgan.models.weights import build_generator, save_generator

    reference = save_generator(
        build_generator({"name": "lite_unet", "width": 4, "blocks": 1}),
        tmp_path / "ref.safetensors",
    )
    rng = np.random.default_rng(0)
    for name in names:
        _save(tmp_path / "real" / name, (rng.random((*size, 3)) * 255).astype(np.uint8))
    return reference


def test_reference_outputs_are_made_once_and_found_again(tmp_path: Path) -> None:
    reference = _reference_and_photos(tmp_path, ("a/x.png", "b/y.png"), (30, 90))
    args = vv.build_parser().parse_args(
        ["--reference", str(reference), "--cache", str(tmp_path / "cache"), "--threads", "1"]
    )
    photos = vv.real_photos(tmp_path / "real")
    settings = vv.CropSettings(60, 16)  # 30x90 -> 20x60, then the centre 16 px
    files = vv.fill_reference_cache(photos, settings, args)
    assert set(files) == {"a__x", "b__y"}
    made = {name: (path.stat().st_mtime_ns, Image.open(path).size) for name, path in files.items()}
    assert {size for _, size in made.values()} == {(16, 16)}
    again = vv.fill_reference_cache(photos, settings, args)  # cached: nothing is recomputed
    assert {n: p.stat().st_mtime_ns for n, p in again.items()} == {
        n: t for n, (t, _) in made.items()
    }
    other = vv.fill_reference_cache(photos[:1], vv.CropSettings(0, 16), args)
    assert other["a__x"] != files["a__x"]  # other crop settings, another entry


def test_reference_detail_scores_the_reference_against_the_input(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    texture = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
    _save(tmp_path / "blur" / "a__x.png", texture)
    flat = np.empty_like(texture)
    flat[...] = (170, 128, 90)  # smooths everything and turns it orange
    _save(tmp_path / "sharp" / "a__x.png", flat)
    _save(tmp_path / "blur" / "a__y.png", texture)
    _save(tmp_path / "sharp" / "a__y.png", texture)  # changes nothing
    scores = vv.reference_detail([("a__x", Path()), ("a__y", Path())], tmp_path)
    recoloured = scores.pop("recoloured")
    assert scores == {"count": 2, "smoothed": 0.5, "sharpened": 0.0}
    as_tensor = [torch.from_numpy(a).permute(2, 0, 1)[None] / 255.0 for a in (flat, texture)]
    assert recoloured == pytest.approx(colour_shift(*as_tensor).item() / 2, rel=1e-4)
    assert recoloured > 5.0


@pytest.mark.slow  # two deblur eval runs, each counting the model's MACs
def test_main_prints_the_real_view_against_the_reference_and_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    reference = _reference_and_photos(tmp_path, ("a/x.png", "a/y.png"), (40, 60))
    out = tmp_path / "views.json"
    argv = ["--views", "real", "--real", str(tmp_path / "real"), "--reference", str(reference)]
    argv += ["--cache", str(tmp_path / "cache"), "--real-max-side", "0", "--real-crop", "32"]
    argv += ["--baseline", "none", "--json", str(out), "--threads", "1"]
    assert vv.main(argv) == 0
    printed = capsys.readouterr().out
    assert "smoothed" in printed and "ref (reference)" in printed
    summary = json.loads(out.read_text())["views"]["real"]["summary"]
    assert set(summary) == {"identity", "default", "ref (reference)"}
    assert summary["identity"]["smoothed"] == summary["identity"]["sharpened"] == 0.0
    for row in summary.values():
        assert 0.0 <= row["smoothed"] <= 1.0 and 0.0 <= row["sharpened"] <= 1.0
    assert {"psnr", "detail_lost", "detail_added", "colour_shift"} <= set(summary["default"])
    assert summary["identity"]["recoloured"] == 0.0 and summary["default"]["recoloured"] >= 0.0
    assert "recoloured" in printed and "colour_shift" in printed


def test_crop_size_zero_means_whole_photos_and_tiny_crops_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        vv.main(["--views", "synthetic", "--crop-size", "8", "--baseline", "none"])
    assert refused.value.code == 2
    assert "--crop-size 0 (whole photos) or at least 16" in capsys.readouterr().err
    missing = tmp_path / "no_photos"
    argv = ["--views", "synthetic", "--crop-size", "0", "--photos", str(missing)]
    vv.main([*argv, "--baseline", "none", "-m", "default"])  # 0 passes the check
    assert f"{missing}: no such folder" in capsys.readouterr().out
