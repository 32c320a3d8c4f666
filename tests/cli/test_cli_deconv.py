"""``deblur deconv`` through ``main(argv)``: recovery, kernel files, safety, bad inputs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from deblurgan.blur import BLUR_SAMPLERS, blur_image
from deblurgan.cli.main import main
from deblurgan.inference.evaluation.alignment import align_by_shift
from deblurgan.io import read_image, read_kernel, write_image
from deblurgan.metrics import psnr


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real photo blurred by a known kernel (saved as an 8-bit grey PNG) and saved in 16 bits."""
    from skimage import data

    root = tmp_path_factory.mktemp("deconv")
    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float()[None] / 255
    big = F.interpolate(photo, size=(112, 112), mode="bilinear", antialias=True).clamp(0, 1)
    sampler = BLUR_SAMPLERS.build("trajectory", kernel_size=11)
    kernel = sampler.sample(1, generator=torch.Generator().manual_seed(2)).kernels[0]
    levels = (kernel / kernel.max() * 255).round()  # what a PSF image file holds
    Image.fromarray(levels.numpy().astype(np.uint8), mode="L").save(root / "kernel.png")
    kernel = levels / levels.sum()
    inner = slice(8, 104)
    write_image(root / "sharp.png", big[0, :, inner, inner], bit_depth=16)
    write_image(root / "blurry.png", blur_image(big, kernel)[0, :, inner, inner], bit_depth=16)
    return {"root": root, "blurry": root / "blurry.png", "kernel": root / "kernel.png"}


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("wiener", ["--nsr", "1e-3"]),
        ("tikhonov", ["--weight", "1e-3"]),
        ("richardson_lucy", []),
        ("hyper_laplacian", []),
        ("hyper_laplacian", ["--weight", "1e-4", "--alpha", "1"]),
    ],
)
def test_each_method_restores_a_blurred_photo(
    scene: dict[str, Path], tmp_path: Path, method: str, options: list[str]
) -> None:
    out = tmp_path / "restored.png"
    argv = ["deconv", str(scene["blurry"]), "--kernel", str(scene["kernel"]), "--method", method]
    assert main([*argv, *options, "-o", str(out), "-q"]) == 0
    restored, sharp = read_image(out), read_image(scene["root"] / "sharp.png").rgb
    assert restored.bit_depth == 16 and restored.rgb.shape == sharp.shape
    before = psnr(read_image(scene["blurry"]).rgb[None], sharp[None]).item()
    after = psnr(restored.rgb[None], sharp[None]).item()
    assert after > before + 4, (before, after)


def test_kernel_images_become_grey_odd_and_normalised(tmp_path: Path) -> None:
    colour = np.zeros((4, 6, 3), dtype=np.uint8)
    colour[1, 2] = (255, 0, 0)
    colour[2, 3] = (0, 0, 255)
    Image.fromarray(colour).save(tmp_path / "k.png")
    kernel = read_kernel(tmp_path / "k.png")
    assert kernel.shape == (5, 7) and kernel.sum().item() == pytest.approx(1.0)
    assert kernel[1, 2].item() == pytest.approx(0.299 / (0.299 + 0.114))
    assert kernel[4].abs().sum() == 0 and kernel[:, 6].abs().sum() == 0  # padding at the end
    Image.new("L", (3, 3), 0).save(tmp_path / "black.png")
    with pytest.raises(ValueError, match=r"black\.png: the kernel is all zeros \(an all-black"):
        read_kernel(tmp_path / "black.png")


def test_bad_inputs_do_not_stop_the_run_and_are_named(
    scene: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rgba = torch.rand(4, 30, 20, generator=torch.Generator().manual_seed(0))
    write_image(folder / "a.png", rgba[:3], alpha=rgba[3:])
    (folder / "broken.png").write_bytes(b"not an image")
    (folder / "loop.png").symlink_to("loop.png")
    kernel = folder / "psf.png"
    kernel.write_bytes(scene["kernel"].read_bytes())  # a kernel among the inputs is skipped
    code = main(
        ["deconv", str(folder), "-k", str(kernel), "-m", "tikhonov", "-o", str(tmp_path / "out")]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "1 deconvolved, 2 failed" in captured.out
    assert f"{folder / 'broken.png'}:" in captured.err
    assert f"{folder / 'loop.png'}: symbolic link loop" in captured.err
    written = read_image(tmp_path / "out" / "a.png")
    assert written.alpha is not None and written.rgb.shape == (3, 30, 20)
    assert not (tmp_path / "out" / "psf.png").exists()


def test_inputs_and_the_kernel_are_never_overwritten(
    scene: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blurry = tmp_path / "b.png"
    blurry.write_bytes(scene["blurry"].read_bytes())
    kernel = tmp_path / "k.png"
    kernel.write_bytes(scene["kernel"].read_bytes())
    before = (_sha(blurry), _sha(kernel))
    assert main(["deconv", str(blurry), "-k", str(kernel), "-o", str(blurry), "--force"]) == 1
    assert "never overwritten" in capsys.readouterr().err
    assert main(["deconv", str(blurry), "-k", str(kernel), "-o", str(kernel), "--force"]) == 1
    assert "kernel" in capsys.readouterr().err
    assert (_sha(blurry), _sha(kernel)) == before
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    assert main(["deconv", str(blurry), "-k", str(kernel), "-o", str(out), "-q"]) == 1
    assert "use --force" in capsys.readouterr().err and out.read_bytes() == b"old"
    assert main(["deconv", str(blurry), "-k", str(kernel), "-o", str(out), "-q", "--force"]) == 0
    assert read_image(out).rgb.shape == read_image(blurry).rgb.shape


def test_unusable_kernels_and_options_are_usage_errors(
    scene: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Image.new("L", (4, 4), 0).save(tmp_path / "black.png")
    out = str(tmp_path / "o.png")
    assert main(["deconv", str(scene["blurry"]), "-k", str(tmp_path / "black.png"), "-o", out]) == 2
    assert "black.png: the kernel is all zeros" in capsys.readouterr().err
    assert main(["deconv", str(scene["blurry"]), "-k", str(tmp_path / "none.png"), "-o", out]) == 2
    assert "none.png" in capsys.readouterr().err
    assert (
        main(["deconv", str(scene["blurry"]), "-k", str(scene["kernel"]), "-o", out, "--nsr", "0"])
        == 2
    )
    assert (
        main(["deconv", str(scene["blurry"]), "-k", str(scene["kernel"]), "-o", out, "-m", "x"])
        == 2
    )
    alpha = ["-k", str(scene["kernel"]), "-m", "hyper_laplacian", "--alpha", "1.5"]
    assert main(["deconv", str(scene["blurry"]), *alpha, "-o", out]) == 2
    assert "--alpha must be in (0, 1], got 1.5" in capsys.readouterr().err
    assert not Path(out).exists()


_GOOD = np.array([[0.0, 0.2, 0.0], [0.2, 0.2, 0.2], [0.0, 0.2, 0.0]], dtype=np.float32)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (-_GOOD, "the kernel is all negative or zero (min -0.2); a blur kernel's weights are >= 0"),
        (np.where(_GOOD > 0, np.nan, 0).astype(np.float32), "the kernel has 5 NaN and 0 infinite"),
        (np.where(_GOOD > 0, np.inf, 0).astype(np.float32), "the kernel has 0 NaN and 5 infinite"),
        (np.zeros((3, 3), np.float32), "the kernel is all zeros"),
        (_GOOD - 0.05, "the kernel has 4 negative values (as low as -0.05) among positive ones"),
    ],
    ids=["negative", "nan", "inf", "zeros", "mixed-sign"],
)
@pytest.mark.parametrize("suffix", [".tif", ".npy"])
def test_a_kernel_that_is_not_a_blur_kernel_is_named_exactly(
    scene: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    values: np.ndarray,
    problem: str,
    suffix: str,
) -> None:
    kernel = tmp_path / f"k{suffix}"
    if suffix == ".npy":
        np.save(kernel, values)
    else:
        Image.fromarray(values, mode="F").save(kernel)  # a float TIFF holds any value
    out = tmp_path / "out"
    argv = ["deconv", str(scene["blurry"]), "-k", str(kernel), "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"kernel {kernel}: {problem}" in err, err
    assert "all black" not in err or "zeros" in problem
    assert not out.exists()


def test_a_float_kernel_keeps_its_raw_values(tmp_path: Path) -> None:
    weights = _GOOD * 7.5  # beyond 1: read_image would clip these to 1 and lose their ratio
    weights[1, 1] = 3.0
    Image.fromarray(weights, mode="F").save(tmp_path / "k.tif")
    np.save(tmp_path / "k.npy", weights.astype(np.float64))
    expected = torch.from_numpy(weights / weights.sum()).double()
    assert torch.allclose(read_kernel(tmp_path / "k.tif"), expected)
    assert torch.allclose(read_kernel(tmp_path / "k.npy"), expected)


def test_an_output_another_run_writes_meanwhile_is_kept_without_force(
    scene: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import deblurgan.cli.restore as restore

    out = tmp_path / "out.png"
    real_plan = restore.plan_jobs

    def plan_then_race(*args, **kwargs):  # the other run writes the output after the check
        jobs = real_plan(*args, **kwargs)
        out.write_bytes(b"the other run's output")
        return jobs

    monkeypatch.setattr(restore, "plan_jobs", plan_then_race)
    assert main(["deconv", str(scene["blurry"]), "-k", str(scene["kernel"]), "-o", str(out)]) == 1
    assert f"{out}: output exists" in capsys.readouterr().err
    assert out.read_bytes() == b"the other run's output"


def test_blind_estimates_each_kernel_and_saves_it(
    shaken_photo: dict[str, torch.Tensor],
    kernel_correlation: Callable[..., float],
    tmp_path: Path,
) -> None:
    inputs = tmp_path / "in"
    write_image(inputs / "blurry.png", shaken_photo["blurry"][0], bit_depth=16)
    (inputs / "broken.png").write_bytes(b"not a png")
    before = {p.name: _sha(p) for p in inputs.iterdir()}
    out = tmp_path / "out"
    argv = ["deconv", str(inputs), "--blind", "--kernel-size", "25", "--save-kernels"]
    assert main([*argv, "-o", str(out), "-q"]) == 1  # the broken file fails, the other is done
    assert {p.name: _sha(p) for p in inputs.iterdir()} == before  # inputs untouched
    restored = read_image(out / "blurry.png")
    assert restored.bit_depth == 16
    sharp, blurry = shaken_photo["sharp"], shaken_photo["blurry"]
    before_db = psnr(*align_by_shift(blurry, sharp, 4)[:2]).item()
    after_db = psnr(*align_by_shift(restored.rgb[None], sharp, 4)[:2]).item()
    assert after_db > before_db + 6, (before_db, after_db)
    # The saved estimate reads back as a kernel and resembles the true one.
    estimate = read_kernel(out / "blurry.kernel.png").float()
    assert estimate.shape == (25, 25)
    assert kernel_correlation(estimate, shaken_photo["kernel"]) > 0.7
    assert not (out / "broken.png").exists()


def test_blind_refuses_what_it_cannot_do(
    scene: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    blurry, kernel = str(scene["blurry"]), str(scene["kernel"])
    usage = [
        (["--blind", "--kernel", kernel], "not allowed with argument"),
        (["--kernel", kernel, "--kernel-size", "9"], "apply to --blind only"),
        (["--kernel", kernel, "--save-kernels"], "apply to --blind only"),
        (["--blind", "--kernel-size", "10"], "must be odd"),
    ]
    for options, message in usage:
        assert main(["deconv", blurry, *options, "-o", str(out)]) == 2, options
        assert message in capsys.readouterr().err, options
    # A kernel too large for the 96 px image is that file's failure, named, not a crash.
    assert main(["deconv", blurry, "--blind", "--kernel-size", "61", "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "blurry.png" in err and "at least twice the kernel size" in err
    assert not out.exists() or not any(out.iterdir())
