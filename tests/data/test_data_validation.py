"""Start-up validation: header sizes (EXIF-aware), every problem listed once, decode on demand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.data import DatasetError, PairedFolderDataset, SyntheticBlurDataset
from deblurgan.data.validation import check_image, check_min_size, image_size
from deblurgan.io import read_image


def _rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_header_size_follows_exif_orientation_like_read_image(tmp_path: Path) -> None:
    image = Image.fromarray(_rgb(10, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: shown 10 wide and 30 high
    path = tmp_path / "portrait.jpg"
    image.save(path, exif=exif.tobytes())
    decoded = read_image(path).rgb
    assert image_size(path) == (30, 10) == tuple(decoded.shape[-2:])
    assert image_size(path, decode=True) == (30, 10)


def test_truncated_files_pass_the_header_check_but_not_decoding(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(_rgb(64, 64)).save(path)
    path.write_bytes(path.read_bytes()[:200])
    problems: list[str] = []
    assert check_image(path, problems) == (64, 64) and problems == []
    assert check_image(path, problems, decode=True) is None
    assert len(problems) == 1 and problems[0].startswith(f"{path}: unreadable")


def test_problem_lines_name_the_file(tmp_path: Path) -> None:
    problems: list[str] = []
    (tmp_path / "junk.png").write_bytes(b"junk")
    assert check_image(tmp_path / "junk.png", problems) is None
    assert check_image(tmp_path, problems) is None
    assert not check_min_size("x.png", (6, 9), (7, 4), problems)
    assert check_min_size("x.png", (6, 9), None, problems)
    assert [p.split(":")[0] for p in problems] == [
        str(tmp_path / "junk.png"),
        str(tmp_path),
        "x.png",
    ]
    assert "9x6 is smaller than the crop size 4x7" in problems[2]
    error = DatasetError("dataset d", problems)
    assert isinstance(error, ValueError) and error.problems == problems
    assert str(error).splitlines()[0] == "3 problem(s) in dataset d:"


def test_datasets_raise_one_dataset_error_with_every_problem(tmp_path: Path) -> None:
    for side in ("blur", "sharp"):
        (tmp_path / "pairs" / side).mkdir(parents=True)
    Image.fromarray(_rgb(20, 20)).save(tmp_path / "pairs" / "blur" / "a.png")
    Image.fromarray(_rgb(20, 24)).save(tmp_path / "pairs" / "sharp" / "a.png")
    (tmp_path / "pairs" / "blur" / "b.png").write_bytes(b"junk")
    Image.fromarray(_rgb(20, 20)).save(tmp_path / "pairs" / "sharp" / "b.png")
    with pytest.raises(DatasetError) as info:
        PairedFolderDataset(tmp_path / "pairs")
    assert len(info.value.problems) == 2
    (tmp_path / "photos").mkdir()
    Image.fromarray(_rgb(20, 20)).save(tmp_path / "photos" / "small.png")
    (tmp_path / "photos" / "junk.jpg").write_bytes(b"junk")
    # The old chain needs the crop plus its kernel margin; the realistic pipeline the crop only.
    old_chain = {"crop_size": 16, "sampler": {"name": "trajectory", "kernel_size": 31}}
    for cache, settings in ((True, old_chain), (False, old_chain), (True, {"crop_size": 24})):
        with pytest.raises(DatasetError) as info:
            SyntheticBlurDataset(tmp_path / "photos", cache=cache, **settings)  # type: ignore[arg-type]
        assert [Path(p.split(":")[0]).name for p in info.value.problems] == [
            "junk.jpg",
            "small.png",
        ]
