"""``deblur eval`` through ``main(argv)``: tables, CSV and JSON, layouts, shifts, bad datasets."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio

from deblurgan.blur import BLUR_SAMPLERS, blur_image
from deblurgan.cli.main import main
from deblurgan.io import write_image
from deblurgan.models import build_generator, save_generator
from deblurgan.models.weights import shipped_weights_path

if TYPE_CHECKING:
    from conftest import LocalServer


def _photos(height: int = 48, width: int = 64) -> list[torch.Tensor]:
    from skimage import data

    out = []
    for array in (data.astronaut(), data.chelsea(), data.coffee()):
        photo = torch.from_numpy(array).permute(2, 0, 1).float()[None] / 255
        out.append(F.interpolate(photo, size=(height, width), mode="area")[0].clamp(0, 1))
    return out


def _write_pairs(folder: Path, *, kernels: bool = True, same: bool = False) -> None:
    """Real photos blurred by known kernels (``blur/``, ``sharp/``, ``kernel/``)."""
    sampler = BLUR_SAMPLERS.build("trajectory", kernel_size=7)
    for index, sharp in enumerate(_photos()):
        kernel = sampler.sample(1, generator=torch.Generator().manual_seed(index)).kernels[0]
        write_image(folder / "sharp" / f"{index:04d}.png", sharp)
        write_image(
            folder / "blur" / f"{index:04d}.png", sharp if same else blur_image(sharp, kernel)
        )
        if kernels:
            scaled = (kernel / kernel.max()).expand(3, -1, -1)
            write_image(folder / "kernel" / f"{index:04d}.png", scaled, bit_depth=16)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pairs")
    _write_pairs(root)
    return root


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny generators: an untrained lite_unet (exactly the identity) and a random resnet."""
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    same = save_generator(
        build_generator({"name": "lite_unet", "width": 4, "blocks": 1}), folder / "same.pt"
    )
    noisy = save_generator(
        build_generator({"name": "resnet", "width": 4, "n_blocks": 1}), folder / "noisy.pt"
    )
    return {"same": same, "noisy": noisy}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as file:
        return list(csv.DictReader(file))


def test_table_csv_and_json_of_several_methods(
    pairs: Path, checkpoints: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_csv, out_json = tmp_path / "rows.csv", tmp_path / "out" / "summary.json"
    argv = [
        "eval",
        "--data",
        str(pairs),
        "--model",
        str(checkpoints["noisy"]),
        "--method",
        "identity",
        "--method",
        "wiener",
        "--nsr",
        "1e-3",
        "--metrics",
        "psnr,ssim,psnr_y",
        "--device",
        "cpu",
        "--csv",
        str(out_csv),
        "--json",
        str(out_json),
        "-q",
    ]
    assert main(argv) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:5] == ["method", "images", "psnr", "psnr_y", "ssim"]
    assert [line.split()[0] for line in table[1:4]] == ["identity", "wiener", "noisy"]
    wiener = table[2].split()
    assert wiener[2].endswith("*") and wiener[4].endswith("*")  # the best PSNR and SSIM
    assert "best" in table[-1]

    rows = _rows(out_csv)
    assert len(rows) == 9  # 3 images x 3 methods
    assert {(r["method"], r["name"]) for r in rows} == {
        (m, f"{i:04d}") for m in ("identity", "wiener", "noisy") for i in range(3)
    }
    summary = json.loads(out_json.read_text())
    for method, entry in summary["methods"].items():
        mine = [r for r in rows if r["method"] == method]
        for metric in ("psnr", "psnr_y", "ssim"):
            assert entry[metric] == pytest.approx(np.mean([float(r[metric]) for r in mine]))
        assert set(entry) >= {"params", "gmacs", "latency_ms", "peak_memory_mb"}
    assert (
        summary["methods"]["noisy"]["params"] > 0 and summary["methods"]["wiener"]["gmacs"] is None
    )
    assert summary["protocol"]["dataset"]["format"] == "paired_folders"
    assert summary["protocol"]["methods"]["noisy"]["source"] == str(checkpoints["noisy"])

    # the identity row is the pair's own PSNR, computed here from the files with scikit-image
    for row in (r for r in rows if r["method"] == "identity"):
        sharp = np.asarray(Image.open(pairs / "sharp" / f"{row['name']}.png"))
        blurry = np.asarray(Image.open(pairs / "blur" / f"{row['name']}.png"))
        expected = peak_signal_noise_ratio(sharp, blurry, data_range=255)
        assert float(row["psnr"]) == pytest.approx(expected, abs=1e-4)


def test_a_perfect_generator_on_sharp_data_scores_the_cap(
    checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    _write_pairs(tmp_path / "data", kernels=False, same=True)
    out_json = tmp_path / "summary.json"
    argv = [
        "eval",
        "--data",
        str(tmp_path / "data"),
        "--model",
        str(checkpoints["same"]),
        "--device",
        "cpu",
        "--json",
        str(out_json),
        "-q",
    ]
    assert main(argv) == 0
    scores = json.loads(out_json.read_text())["methods"]["same"]
    assert scores["psnr"] == 100.0 and scores["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert scores["count"] == 3


def test_shift_tolerant_scoring_forgives_a_two_pixel_shift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for index, sharp in enumerate(_photos()[:2]):
        write_image(tmp_path / "data" / "sharp" / f"{index}.png", sharp)
        moved = torch.roll(sharp, shifts=(2, -2), dims=(-2, -1))
        write_image(tmp_path / "data" / "blur" / f"{index}.png", moved)
    scores = {}
    for shift in ("0", "3"):
        out = tmp_path / f"shift{shift}.csv"
        argv = [
            "eval",
            "--data",
            str(tmp_path / "data"),
            "--method",
            "identity",
            "--shift",
            shift,
            "--metrics",
            "psnr",
            "--csv",
            str(out),
            "-q",
        ]
        assert main(argv) == 0
        scores[shift] = [float(r["psnr"]) for r in _rows(out)]
    assert all(s < 30 for s in scores["0"]) and scores["3"] == [100.0, 100.0]
    rows = _rows(tmp_path / "shift3.csv")
    assert [(r["shift_dy"], r["shift_dx"]) for r in rows] == [("2", "-2"), ("2", "-2")]


def test_gopro_layout_is_detected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_pairs(tmp_path / "GOPRO" / "test" / "GOPR0001_00", kernels=False)
    out = tmp_path / "rows.csv"
    argv = [
        "eval",
        "--data",
        str(tmp_path / "GOPRO"),
        "--method",
        "identity",
        "--metrics",
        "psnr",
        "--csv",
        str(out),
        "--limit",
        "2",
        "-q",
    ]
    assert main(argv) == 0
    assert [r["name"] for r in _rows(out)] == ["GOPR0001_00/0000", "GOPR0001_00/0001"]


def test_classical_methods_read_kernel_files(
    pairs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "eval",
        "--data",
        str(pairs),
        "--method",
        "identity",
        "--method",
        "richardson_lucy",
        "--method",
        "hyper_laplacian",
        "--metrics",
        "psnr",
        "-q",
    ]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    psnr = {line.split()[0]: float(line.split()[2].rstrip("*")) for line in lines[1:4]}
    assert psnr["richardson_lucy"] > psnr["identity"] + 3
    assert psnr["hyper_laplacian"] > psnr["identity"] + 3


def test_default_methods_are_identity_and_the_shipped_model(
    pairs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shipped_weights_path("default").is_file()  # a missing file is a packaging regression
    assert main(["eval", "--data", str(pairs), "--metrics", "psnr", "--device", "cpu", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:3]] == ["identity", "default"]


def _copy_pairs(source: Path, target: Path) -> None:
    for side in ("blur", "sharp"):
        (target / side).mkdir(parents=True)
        for path in sorted((source / side).iterdir()):
            (target / side / path.name).write_bytes(path.read_bytes())


@pytest.mark.parametrize("problem", ["missing_pair", "corrupt", "no_folder", "empty", "kernels"])
def test_an_unusable_dataset_fails_with_one_line(
    pairs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    root = tmp_path / "data"
    method = "identity"
    if problem == "no_folder":
        expected = "no such dataset folder"
    elif problem == "empty":
        (root / "blur").mkdir(parents=True)
        (root / "sharp").mkdir()
        expected = "no image pairs"
    else:
        _copy_pairs(pairs, root)
        if problem == "missing_pair":
            (root / "sharp" / "0001.png").unlink()
            expected = f"{root / 'blur' / '0001.png'}: no sharp partner"
        elif problem == "corrupt":
            (root / "blur" / "0002.png").write_bytes(b"not a picture at all")
            expected = str(root / "blur" / "0002.png")
        else:
            method, expected = "wiener", "no kernel file"
    assert main(["eval", "--data", str(root), "--method", method, "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("deblur eval: error: ") and expected in err[0]


def test_an_image_that_fails_midway_is_skipped_and_reported(
    pairs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "data"
    _copy_pairs(pairs, root)
    truncated = root / "sharp" / "0001.png"
    truncated.write_bytes(truncated.read_bytes()[:-300])  # a valid header, cut pixels
    out = tmp_path / "rows.csv"
    argv = [
        "eval",
        "--data",
        str(root),
        "--method",
        "identity",
        "--metrics",
        "psnr",
        "--csv",
        str(out),
        "-q",
    ]
    assert main(argv) == 1
    assert [r["name"] for r in _rows(out)] == ["0000", "0002"]
    captured = capsys.readouterr()
    assert "identity" in captured.out and "1 image(s) skipped" in captured.err
    assert str(truncated) in captured.err


def test_outputs_and_models_are_checked_first(
    pairs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "rows.csv"
    existing.write_text("keep me")
    base = ["eval", "--data", str(pairs), "--method", "identity", "--metrics", "psnr", "-q"]
    assert main([*base, "--csv", str(existing)]) == 2
    assert existing.read_text() == "keep me" and "--force" in capsys.readouterr().err
    assert main([*base, "--csv", str(existing), "--force"]) == 0
    assert existing.read_text().startswith("method,name")
    inside = pairs / "blur" / "0000.png"
    assert main([*base, "--json", str(inside), "--force"]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert main(["eval", "--data", str(pairs), "--model", str(tmp_path / "none.pt"), "-q"]) == 2
    assert "cannot load model" in capsys.readouterr().err
    assert main([*base, "--lpips-weights", "x.pth"]) == 2


def test_lpips_is_scored_with_given_weights(pairs: Path, tmp_path: Path) -> None:
    from deblurgan.io import read_image
    from deblurgan.models.lpips import LPIPSNetwork

    # stand-in weight files in the lpips/torchvision key layout (random values: a wiring test)
    source = LPIPSNetwork("alex")
    lin = {k: v for k, v in source.state_dict().items() if k.startswith("lin")}
    torch.save(lin, tmp_path / "alex.pth")
    torch.save(source.net.state_dict(), tmp_path / "alexnet.pth")
    out = tmp_path / "rows.csv"
    argv = [
        "eval",
        "--data",
        str(pairs),
        "--method",
        "identity",
        "--metrics",
        "psnr,lpips",
        "--lpips-net",
        "alex",
        "--lpips-weights",
        str(tmp_path / "alex.pth"),
        "--lpips-backbone",
        str(tmp_path / "alexnet.pth"),
        "--csv",
        str(out),
        "-q",
    ]
    assert main(argv) == 0
    network = LPIPSNetwork(
        "alex", lin_weights=tmp_path / "alex.pth", backbone_weights=tmp_path / "alexnet.pth"
    )
    for row in _rows(out):
        blurry = read_image(pairs / "blur" / f"{row['name']}.png").rgb[None]
        sharp = read_image(pairs / "sharp" / f"{row['name']}.png").rgb[None]
        assert float(row["lpips"]) == pytest.approx(network(blurry, sharp).item(), rel=1e-5)
        assert float(row["lpips"]) > 0


def test_lpips_needs_no_options_after_a_fetch(
    pairs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from safetensors.torch import save_file

    from deblurgan.io import read_image
    from deblurgan.models.fetch import lpips_weight_files, weights_dir
    from deblurgan.models.lpips import LPIPSNetwork

    base = ["eval", "--data", str(pairs), "--method", "identity", "--lpips-net", "alex", "-q"]
    assert main([*base, "--metrics", "psnr,lpips"]) == 2
    assert "run 'deblur weights fetch lpips'" in capsys.readouterr().err
    # What 'deblur weights fetch lpips' leaves in the cache (random values: a wiring test).
    source = LPIPSNetwork("alex")
    lin = {k: v for k, v in source.state_dict().items() if k.startswith("lin")}
    weights_dir().mkdir(parents=True)
    save_file(lin, weights_dir() / "lpips_alex_v0.1.safetensors")
    save_file(source.net.state_dict(), weights_dir() / "alexnet_imagenet.safetensors")
    assert lpips_weight_files("alex") is not None
    out = tmp_path / "rows.csv"
    assert main([*base, "--metrics", "psnr,lpips", "--csv", str(out)]) == 0
    network = LPIPSNetwork.pretrained("alex")
    for row in _rows(out):
        blurry = read_image(pairs / "blur" / f"{row['name']}.png").rgb[None]
        sharp = read_image(pairs / "sharp" / f"{row['name']}.png").rgb[None]
        assert float(row["lpips"]) == pytest.approx(network(blurry, sharp).item(), rel=1e-5)
    # All metrics that apply now include lpips.
    assert main([*base, "--csv", str(out), "--force"]) == 0
    assert "lpips" in _rows(out)[0]


def test_model_urls_are_named_by_their_url(
    pairs: Path, tmp_path: Path, http_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import hashlib

    data = [
        save_generator(
            build_generator({"name": "resnet", "width": 4, "n_blocks": n}), tmp_path / f"{n}.pt"
        ).read_bytes()
        for n in (1, 2)
    ]
    url_a = http_server.serve("/a/generator.pt", data[0])
    url_b = http_server.serve("/b/generator.pt", data[1])
    sha_b = hashlib.sha256(data[1]).hexdigest()
    base = ["eval", "--data", str(pairs), "--metrics", "psnr", "--json", str(tmp_path / "s.json")]
    argv = [*base, "--model", url_a, "--model", url_b, "--sha256", "0" * 64, "--sha256", sha_b]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "sha256 mismatch" in err and err.count("\n") == 1
    argv[-3] = hashlib.sha256(data[0]).hexdigest()
    assert main(argv) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert set(summary["methods"]) == {"a", "b"}  # B is not A under B's name (issue 13)
    assert summary["methods"]["a"]["params"] != summary["methods"]["b"]["params"]
    capsys.readouterr()
    two_for_one = ["--model", url_a, "--sha256", "0" * 64, "--sha256", "1" * 64]
    assert main(["eval", "--data", str(pairs), *two_for_one]) == 2
    assert "one per URL" in capsys.readouterr().err


def test_synthetic_data_goes_through_the_realistic_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for index, photo in enumerate(_photos(64, 80)):
        write_image(tmp_path / "photos" / f"{index}.png", photo)
    summary = tmp_path / "summary.json"
    argv = ["eval", "--data", str(tmp_path / "photos"), "--format", "synthetic", "--items", "5"]
    argv += ["--crop-size", "32", "--method", "identity", "--metrics", "psnr", "-q"]
    assert main([*argv, "--json", str(summary)]) == 0
    out = capsys.readouterr().out
    assert "blur size" in out and "identity psnr" in out
    assert "\nmotion " in out and "\naveraging " in out  # the other two splits' tables
    record = json.loads(summary.read_text())
    protocol = record["protocol"]["dataset"]
    assert protocol["degradation"]["name"] == "realistic" and protocol["items"] == 5
    assert protocol["degradation"]["frame_width"] == 1280 and protocol["crop_size"] == 32
    assert sum(group["items"] for group in record["by_blur_size"].values()) == 5
    for split in ("by_motion", "by_averaging"):
        assert sum(group["items"] for group in record[split].values()) == 5
    # Classical methods need the true kernel: only the known-kernel protocol has one.
    assert main([*argv, "--method", "wiener"]) == 2
    assert "--degradation kernel" in capsys.readouterr().err
    kernel = [*argv, "--method", "wiener", "--degradation", "kernel", "--kernel-size", "9"]
    assert main([*kernel, "--json", str(tmp_path / "kernel.json")]) == 0
    protocol = json.loads((tmp_path / "kernel.json").read_text())["protocol"]["dataset"]
    assert protocol["degradation"] == "kernel" and "by_blur_size" not in protocol
    assert main([*argv, "--kernel-size", "8"]) == 2
    assert main([*argv, "--degradation", "kernel", "--frame-width", "640"]) == 2


def test_blind_needs_no_kernel_files(
    shaken_photo: dict[str, torch.Tensor], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_image(tmp_path / "data" / "sharp" / "0.png", shaken_photo["sharp"][0], bit_depth=16)
    write_image(tmp_path / "data" / "blur" / "0.png", shaken_photo["blurry"][0], bit_depth=16)
    summary = tmp_path / "summary.json"
    argv = ["eval", "--data", str(tmp_path / "data"), "--method", "identity", "--method"]
    argv += ["blind", "--blind-kernel-size", "25", "--shift", "4", "--metrics", "psnr"]
    assert main([*argv, "--json", str(summary), "-q"]) == 0
    methods = json.loads(summary.read_text())["methods"]
    assert methods["blind"]["psnr"] > methods["identity"]["psnr"] + 6, methods
    capsys.readouterr()
    assert main([*argv[:8], "12"]) == 2
    assert "--blind-kernel-size must be odd" in capsys.readouterr().err
    assert main([*argv[:5], "--blind-kernel-size", "13"]) == 2
    assert "applies to --method blind only" in capsys.readouterr().err
