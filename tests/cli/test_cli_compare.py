"""``deblur compare`` through ``main(argv)``: layout, crops, labels, metrics, safety."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from deblurgan.cli.compare import (
    GAP,
    LABEL_HEIGHT,
    METRICS_HEIGHT,
    auto_crop,
    layout_size,
)
from deblurgan.cli.main import main
from deblurgan.io import write_image
from deblurgan.models import build_generator, save_generator

if TYPE_CHECKING:
    from conftest import LocalServer


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from skimage import data

    root = tmp_path_factory.mktemp("compare")
    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float()[None] / 255
    sharp = F.interpolate(photo, size=(48, 64), mode="area")[0].clamp(0, 1)
    blurry = F.avg_pool2d(sharp[None], 5, stride=1, padding=2, count_include_pad=False)[0]
    write_image(root / "sharp.png", sharp)
    write_image(root / "blurry.png", blurry)
    same = build_generator({"name": "lite_unet", "width": 4, "blocks": 1})  # the identity
    other = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
    return {
        "root": root,
        "sharp": root / "sharp.png",
        "blurry": root / "blurry.png",
        "same": save_generator(same, root / "same.pt"),
        "other": save_generator(other, root / "other.pt"),
    }


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def test_layout_labels_crop_box_and_zoom(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "figure.png"
    argv = [
        "compare",
        str(files["blurry"]),
        "-m",
        str(files["same"]),
        "-m",
        str(files["other"]),
        "--sharp",
        str(files["sharp"]),
        "--crop",
        "20,10,16,8",
        "-o",
        str(out),
        "--device",
        "cpu",
    ]
    assert main(argv) == 0
    picture = _pixels(out)
    # 4 panels (blurry, same, other, sharp) of 64x48, a crop of 16x8 zoomed to 64x32
    width = GAP + 4 * (64 + GAP)
    height = GAP + LABEL_HEIGHT + 48 + METRICS_HEIGHT + GAP + 32 + GAP
    assert (
        (picture.shape[1], picture.shape[0])
        == (width, height)
        == layout_size(4, (64, 48), (16, 8), with_metrics=True)
    )
    blurry = _pixels(files["blurry"])
    top = GAP + LABEL_HEIGHT
    zoom_top = top + 48 + METRICS_HEIGHT + GAP
    for panel in (0, 1):  # the identity generator's panel shows the blurry image itself
        left = GAP + panel * (64 + GAP)
        inside = picture[top + 20 : top + 30, left + 40 : left + 60]
        assert np.array_equal(inside, blurry[20:30, 40:60])  # away from the box: the image
        assert tuple(picture[top + 10, left + 25]) == (255, 40, 40)  # the box's top edge
        zoom = picture[zoom_top : zoom_top + 32, left : left + 64]
        expected = np.repeat(np.repeat(blurry[10:18, 20:36], 4, axis=0), 4, axis=1)
        assert np.array_equal(zoom, expected)  # nearest-neighbour x4
    label_band = picture[GAP : GAP + LABEL_HEIGHT, GAP : GAP + 64]
    assert (label_band < 128).any()  # a label is drawn
    metrics_band = picture[top + 48 : top + 48 + METRICS_HEIGHT, GAP : GAP + 64]
    assert (metrics_band < 128).any()


def test_without_sharp_there_is_no_metrics_band(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "figure.png"
    argv = [
        "compare",
        str(files["blurry"]),
        "-m",
        str(files["same"]),
        "--crop",
        "auto",
        "--crop-size",
        "16",
        "-o",
        str(out),
        "--max-width",
        "32",
    ]
    assert main(argv) == 0
    height, width = _pixels(out).shape[:2]
    assert (width, height) == layout_size(2, (32, 24), (16, 16), with_metrics=False)


def test_auto_crop_matches_a_brute_force_search() -> None:
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(3, 1, 1, generator=generator).expand(3, 24, 30).clone()
    image[:, 14:20, 3:9] = torch.rand(3, 6, 6, generator=generator)  # the only texture
    x, y, w, h = auto_crop(image, 8)
    luma = (image.double() * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0).numpy()
    energy = np.zeros_like(luma)
    energy[:, :-1] += np.diff(luma, axis=1) ** 2
    energy[:-1, :] += np.diff(luma, axis=0) ** 2
    sums = {(r, c): energy[r : r + 8, c : c + 8].sum() for r in range(17) for c in range(23)}
    best = max(sums.values())
    assert (w, h) == (8, 8) and sums[(y, x)] == pytest.approx(best, rel=1e-12)
    assert 12 <= y <= 13 and 1 <= x <= 2  # the windows holding the texture and its edges


def test_outputs_inputs_and_bad_files_are_refused(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["compare", str(files["blurry"]), "-m", str(files["same"])]
    before = files["blurry"].read_bytes()
    assert main([*base, "-o", str(files["blurry"]), "--force"]) == 1
    assert files["blurry"].read_bytes() == before and "never overwritten" in capsys.readouterr().err
    existing = tmp_path / "fig.png"
    existing.write_bytes(b"keep")
    assert main([*base, "-o", str(existing)]) == 1
    assert existing.read_bytes() == b"keep" and "--force" in capsys.readouterr().err
    assert main([*base, "-o", str(existing), "--force"]) == 0
    assert existing.read_bytes()[:4] == b"\x89PNG"
    default = files["root"] / "blurry_compare.png"
    assert main(base) == 0 and default.is_file()
    default.unlink()
    assert main([*base, "--crop", "60,40,16,16", "-o", str(tmp_path / "x.png")]) == 2
    assert main([*base, "--crop", "1,2,3", "-o", str(tmp_path / "x.png")]) == 2
    small = tmp_path / "small.png"
    write_image(small, torch.rand(3, 8, 8))
    assert main([*base, "--sharp", str(small), "-o", str(tmp_path / "x.png")]) == 1
    assert "differs" in capsys.readouterr().err
    assert main(["compare", str(files["blurry"]), "-m", str(tmp_path / "nope.pt")]) == 2
    assert not (files["root"] / "blurry_compare.png").exists()


def test_model_urls_are_fetched_once_and_verified(
    files: dict[str, Path],
    tmp_path: Path,
    http_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import hashlib

    data = files["other"].read_bytes()
    url = http_server.serve("/zoo/other.pt", data)
    out = tmp_path / "figure.png"
    base = ["compare", str(files["blurry"]), "-m", str(files["same"]), "-m", url, "-o", str(out)]
    assert main([*base, "--sha256", "f" * 64]) == 2
    assert "sha256 mismatch" in capsys.readouterr().err and not out.exists()
    assert main([*base, "--sha256", hashlib.sha256(data).hexdigest()]) == 0
    assert f"model {url}: using " in capsys.readouterr().err and out.is_file()
