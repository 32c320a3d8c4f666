"""``deblur blur`` through ``main(argv)``: GoPro layout, kernels, seeds, safety and bad inputs."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.cli.main import main
from deblurgan.io import read_image


def _rgb(height: int, width: int, seed: int) -> np.ndarray:
    """A smooth random picture (uint8), so blur changes it measurably."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BILINEAR))


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    Image.fromarray(_rgb(40, 48, 1)).save(root / "a.png")
    Image.fromarray(_rgb(44, 36, 2)).save(root / "b.jpg", quality=95)
    return root


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _png_bit_depth(path: Path) -> int:
    return path.read_bytes()[24]


@pytest.mark.parametrize(
    ("kind", "extra", "keys"),
    [
        ("trajectory", ["--length", "4", "8"], {"length", "exposure", "anxiety"}),
        ("linear", ["--length", "3", "6"], {"length", "angle"}),
        ("defocus", ["--radius", "1", "3"], {"radius"}),
        ("gaussian", ["--sigma", "0.5", "2", "--sigma-y", "0.5"], {"sigma_x", "sigma_y", "theta"}),
    ],
)
def test_kernel_kinds_write_a_gopro_layout(
    photos: Path, tmp_path: Path, capsys, kind: str, extra: list[str], keys: set[str]
) -> None:
    out = tmp_path / "out"
    argv = ["blur", str(photos), str(out), "--kind", kind, "--kernel-size", "9", *extra]
    assert main([*argv, "--noise-std", "0.01", "--jpeg-quality", "80", "95"]) == 0
    scene = out / "photos"
    assert sorted(p.name for p in (scene / "blur").iterdir()) == ["000000.png", "000001.png"]
    assert sorted(p.name for p in (scene / "sharp").iterdir()) == ["000000.png", "000001.png"]
    source = read_image(photos / "a.png").rgb
    sharp = read_image(scene / "sharp" / "000000.png").rgb
    blurry = read_image(scene / "blur" / "000000.png").rgb
    assert torch.equal(sharp, source)  # the sharp target is the input, pixel for pixel
    assert blurry.shape == sharp.shape and not torch.equal(blurry, sharp)
    record = json.loads((scene / "kernel" / "000000.json").read_text())
    assert record["kind"] == kind and record["kernel_size"] == 9
    assert keys <= set(record["kernel"])
    assert 80 <= record["camera"]["drawn"]["jpeg_quality"] <= 95
    kernel_png = scene / "kernel" / "000000.png"
    assert _png_bit_depth(kernel_png) == 16
    kernel = read_image(kernel_png).rgb[0]
    assert kernel.shape == (9, 9) and float(kernel.max()) == 1.0
    assert "2 pair(s) written" in capsys.readouterr().out


def test_same_seed_gives_byte_identical_files(photos: Path, tmp_path: Path) -> None:
    argv = ["--kind", "trajectory", "--kernel-size", "7", "--noise-std", "0", "0.02"]
    assert main(["blur", str(photos), str(tmp_path / "one"), *argv, "--seed", "5"]) == 0
    assert main(["blur", str(photos), str(tmp_path / "two"), *argv, "--seed", "5"]) == 0
    assert main(["blur", str(photos), str(tmp_path / "three"), *argv, "--seed", "6"]) == 0
    one, two, three = (_digests(tmp_path / n) for n in ("one", "two", "three"))
    assert one and one == two
    assert one["photos/sharp/000000.png"] == three["photos/sharp/000000.png"]
    assert one["photos/blur/000000.png"] != three["photos/blur/000000.png"]


def test_gopro_kind_crops_the_margin_and_records_the_path(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["blur", str(photos / "a.png"), str(out), "--kind", "gopro", "--frames", "5"]
    argv += ["--translation", "3", "--rotation", "0.5", "--zoom", "0", "--scene", "shots"]
    assert main([*argv, "--moving-objects", "1", "--bit-depth", "16"]) == 0
    scene = out / "shots"
    record = json.loads((scene / "params" / "000000.json").read_text())
    margin = record["path"]["margin"]
    assert record["path"]["num_frames"] == 5 and len(record["path"]["translation"]) == 5
    assert record["path"]["translation"][2] == [0.0, 0.0]
    assert "object_center" in record["path"]
    blurry = read_image(scene / "blur" / "000000.png")
    assert blurry.bit_depth == 16 and blurry.rgb.shape == (3, 40 - 2 * margin, 48 - 2 * margin)
    assert not (scene / "kernel").exists()


def test_frames_kind_from_a_video_and_from_a_folder(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    frames = [_rgb(32, 32, seed) for seed in range(12)]
    video = tmp_path / "clip.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for array in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    out = tmp_path / "out"
    assert main(["blur", str(video), str(out), "--kind", "frames", "--frames", "3"]) == 0
    assert len(list((out / "clip" / "blur").iterdir())) == 4
    record = json.loads((out / "clip" / "params" / "000001.json").read_text())
    assert (record["start"], record["middle"], record["num_frames"]) == (3, 4, 3)

    folder = tmp_path / "seq"
    folder.mkdir()
    for i, array in enumerate(frames[:7]):
        Image.fromarray(array).save(folder / f"f{i:03d}.png")
    assert (
        main(["blur", str(folder), str(out), "--kind", "frames", "--frames", "3", "--limit", "1"])
        == 0
    )
    sharp = read_image(out / "seq" / "sharp" / "000000.png").rgb
    assert torch.equal(sharp, read_image(folder / "f001.png").rgb)
    assert len(list((out / "seq" / "blur").iterdir())) == 1


def test_bad_files_are_reported_and_the_rest_written(photos: Path, tmp_path: Path, capsys) -> None:
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (photos / "loop.png").symlink_to("loop.png")
    out = tmp_path / "out"
    assert main(["blur", str(photos), str(out), "-q"]) == 1  # the default kind, realistic
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "2 pair(s) written" in captured.out
    assert f"{photos / 'loop.png'}: symbolic link loop" in captured.err
    assert len(list((out / "photos" / "blur").iterdir())) == 2


def test_existing_outputs_need_force_and_inputs_are_never_overwritten(
    photos: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    argv = ["blur", str(photos), str(out), "--kind", "trajectory", "--kernel-size", "7", "-q"]
    assert main(argv) == 0
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0
    # Feeding the sharp folder back in must not write over it, even with --force.
    sharp_dir = out / "photos" / "sharp"
    before = _digests(sharp_dir)
    again = ["blur", str(sharp_dir), str(out), "--scene", "photos", "--force", "-q"]
    assert main(again) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert _digests(sharp_dir) == before


@pytest.mark.parametrize(
    "extra",
    [
        ["--kind", "wobble"],
        ["--kernel-size", "8"],
        ["--radius", "2"],  # defocus only
        ["--translation", "3"],  # gopro only
        ["--noise-std", "0.1", "0.01"],
        ["--jpeg-quality", "101"],
        ["--gamma", "bright"],
        ["--kind", "linear", "--kernel-size", "7", "--length", "9"],
    ],
)
def test_usage_errors_exit_2(photos: Path, tmp_path: Path, extra: list[str]) -> None:
    assert main(["blur", str(photos), str(tmp_path / "out"), *extra]) == 2
    assert not (tmp_path / "out").exists()


def test_limit_and_missing_input(photos: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["blur", str(photos), str(out), "--limit", "1", "-q"]) == 0
    assert len(list((out / "photos" / "blur").iterdir())) == 1
    assert main(["blur", str(tmp_path / "nothing"), str(out)]) == 2
    assert "nothing" in capsys.readouterr().err


def test_valid_crops_the_kernel_border(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["blur", str(photos / "a.png"), str(out), "--kernel-size", "9", "--valid", "-q"]
    assert main([*argv, "--kind", "defocus", "--clip-highlights"]) == 0
    sharp = read_image(out / "a" / "sharp" / "000000.png").rgb
    blurry = read_image(out / "a" / "blur" / "000000.png").rgb
    assert sharp.shape == blurry.shape == (3, 40 - 8, 48 - 8)
    assert torch.equal(sharp, read_image(photos / "a.png").rgb[:, 4:-4, 4:-4])


def test_a_bad_frame_cuts_the_sequence(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "seq"
    folder.mkdir()
    for i in range(7):
        Image.fromarray(_rgb(24, 24, i)).save(folder / f"f{i:03d}.png")
    (folder / "f003.png").write_bytes(b"broken")
    out = tmp_path / "out"
    assert main(["blur", str(folder), str(out), "--kind", "frames", "--frames", "3", "-q"]) == 1
    assert "f003.png" in capsys.readouterr().err
    starts = [
        json.loads((out / "seq" / "params" / f"00000{i}.json").read_text())["start"]
        for i in range(2)
    ]
    assert starts == [0, 4]  # no window spans the broken frame
    assert not (out / "seq" / "params" / "000002.json").exists()


def test_too_few_frames_is_a_failure(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "short"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(_rgb(16, 16, i)).save(folder / f"{i}.png")
    argv = ["blur", str(folder), str(tmp_path / "out"), "--kind", "frames", "--frames", "5"]
    assert main(argv) == 1
    assert "fewer frames than one window" in capsys.readouterr().err


def test_realistic_is_the_default_kind_and_deblur_eval_sees_the_same_pixels(
    photos: Path, tmp_path: Path
) -> None:
    from deblurgan.inference.evaluation import load_eval_dataset
    from deblurgan.metrics import psnr

    out = tmp_path / "out"
    assert main(["blur", str(photos), str(out), "--crop-size", "24", "--seed", "7", "-q"]) == 0
    scene = out / "photos"
    record = json.loads((scene / "params" / "000001.json").read_text())
    assert record["kind"] == "realistic" and record["input_index"] == 1
    assert record["params"]["kind"] in ("camera_path", "shake") and "blur_px" in record["params"]
    assert record["settings"]["frame_width"] == 1280
    # The same items through deblur eval --format synthetic: the same pixels, the same scores.
    rows = tmp_path / "rows.csv"
    argv = ["eval", "--data", str(photos), "--format", "synthetic", "--crop-size", "24"]
    argv += ["--seed", "7", "--method", "identity", "--metrics", "psnr", "--csv", str(rows), "-q"]
    assert main(argv) == 0
    data = load_eval_dataset(photos, format="synthetic", crop_size=24, seed=7)
    with rows.open() as handle:
        scores = [float(row["psnr"]) for row in csv.DictReader(handle)]
    for index in range(2):
        blurry = read_image(scene / "blur" / f"{index:06d}.png").rgb
        sharp = read_image(scene / "sharp" / f"{index:06d}.png").rgb
        item = data[index]
        assert torch.equal(blurry, item.blurry) and torch.equal(sharp, item.sharp)
        assert float(psnr(blurry[None], sharp[None])) == pytest.approx(scores[index], abs=1e-9)


def test_realistic_whole_photos_and_its_options(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["blur", str(photos), str(out), "--frame-width", "0", "--blur-size", "0.05", "-q"]
    assert main(argv) == 0
    blurry = read_image(out / "photos" / "blur" / "000000.png").rgb
    assert blurry.shape == read_image(photos / "a.png").rgb.shape  # whole photos keep their size
    record = json.loads((out / "photos" / "params" / "000000.json").read_text())
    assert record["params"]["blur_px"] == pytest.approx(0.05 * 48)  # of the photo's own width
    for extra in (["--gamma", "none"], ["--noise-std", "0.01"], ["--kernel-size", "7"]):
        assert main(["blur", str(photos), str(tmp_path / "bad"), *extra]) == 2
    assert (
        main(["blur", str(photos), str(tmp_path / "bad"), "--kind", "linear", "--crop-size", "8"])
        == 2
    )
    assert not (tmp_path / "bad").exists()


def test_a_video_without_pyav_is_one_line_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "av", None)  # `import av` now raises ImportError
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    out = tmp_path / "out"
    assert main(["blur", str(clip), str(out), "--kind", "frames", "-q"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert str(clip) in err and "'video' extra" in err and "deblurgan[video]" in err
    assert not out.exists()  # refused before any folder is made


def test_a_file_another_run_writes_meanwhile_is_not_replaced(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from deblurgan.io import image as image_module

    out = tmp_path / "out"
    real = image_module.atomic_write

    def racing(path, write, *, replace=True):  # the other run finishes its file first
        if Path(path).name == "000000.png" and Path(path).parent.name == "blur":
            Path(path).write_bytes(b"the other run's file")
        return real(path, write, replace=replace)

    monkeypatch.setattr(image_module, "atomic_write", racing)
    argv = ["blur", str(photos), str(out), "--kind", "trajectory", "--kernel-size", "7", "-q"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "000000.png: output exists" in err and "not replaced" in err
    assert (out / "photos" / "blur" / "000000.png").read_bytes() == b"the other run's file"
    assert not list((out / "photos" / "blur").glob(".*.tmp"))  # no temporary file left
