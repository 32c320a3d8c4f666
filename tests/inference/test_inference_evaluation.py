"""The evaluation protocol: scores against independent references, shifts, kernels, costs, files."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from deblurgan.blur import BLUR_SAMPLERS, blur_image
from deblurgan.data import DatasetError, check_dataset
from deblurgan.data.formats import resolve_format
from deblurgan.inference import (
    EvalItem,
    Method,
    align_by_shift,
    classical_method,
    evaluate,
    generator_method,
    identity_method,
    load_eval_dataset,
)
from deblurgan.inference.evaluation import BLUR_SIZE_BINS, DEGRADATION_COLUMNS, baseline_method
from deblurgan.io import read_kernel, write_image
from deblurgan.models import build_generator
from deblurgan.models.complexity import count_macs


def _photos(height: int = 48, width: int = 64) -> list[torch.Tensor]:
    from skimage import data

    out = []
    for array in (data.astronaut(), data.chelsea(), data.coffee()):
        photo = torch.from_numpy(array).permute(2, 0, 1).float()[None] / 255
        out.append(F.interpolate(photo, size=(height, width), mode="area")[0].clamp(0, 1))
    return out


def _kernel(seed: int, size: int = 7) -> torch.Tensor:
    sampler = BLUR_SAMPLERS.build("trajectory", kernel_size=size)
    return sampler.sample(1, generator=torch.Generator().manual_seed(seed)).kernels[0]


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three real photos blurred by known kernels, with ``kernel/`` files as ``deblur blur``."""
    root = tmp_path_factory.mktemp("pairs")
    for index, sharp in enumerate(_photos()):
        kernel = _kernel(index)
        write_image(root / "sharp" / f"{index}.png", sharp)
        write_image(root / "blur" / f"{index}.png", blur_image(sharp, kernel))
        write_image(
            root / "kernel" / f"{index}.png",
            (kernel / kernel.max()).expand(3, -1, -1),
            bit_depth=16,
        )
    return root


def _uint8(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_identity_scores_the_pairs_own_psnr_and_ssim(pairs: Path) -> None:
    result = evaluate([identity_method()], load_eval_dataset(pairs), metrics=["psnr", "ssim"])
    assert [row.name for row in result.rows] == ["0", "1", "2"] and not result.skipped
    for row in result.rows:
        sharp, blurry = (
            _uint8(pairs / "sharp" / f"{row.name}.png"),
            _uint8(pairs / "blur" / f"{row.name}.png"),
        )
        expected = peak_signal_noise_ratio(sharp, blurry, data_range=255)
        assert row.scores["psnr"] == pytest.approx(expected, abs=1e-4)
        ssim = structural_similarity(
            sharp,
            blurry,
            channel_axis=2,
            data_range=255,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        assert row.scores["ssim"] == pytest.approx(ssim, abs=1e-4)
    summary = result.summaries["identity"]
    assert summary.scores["psnr"] == pytest.approx(np.mean([r.scores["psnr"] for r in result.rows]))
    assert summary.params == 0 and summary.gmacs == 0.0 and summary.count == 3


def test_a_perfect_method_scores_the_cap_and_ssim_one() -> None:
    photo = _photos()[0]
    items = [EvalItem("same", photo, photo.clone())]
    # an untrained lite_unet is exactly the identity: a perfect method on sharp == blurry data
    model = build_generator({"name": "lite_unet", "width": 4, "blocks": 1})
    result = evaluate([generator_method(model, name="net", device="cpu")], items)
    scores = result.summaries["net"].scores
    assert scores["psnr"] == 100.0 and scores["psnr_y"] == 100.0
    for name in ("ssim", "ssim_matlab", "ssim_matlab_y", "fsim", "vif"):
        assert scores[name] == pytest.approx(1.0, abs=1e-6), name
    assert "ms_ssim" not in scores and "lpips" not in scores  # too small; no network given
    assert any(n.startswith("ms_ssim: not scored") for n in result.notes)


def test_align_by_shift_finds_a_known_shift_and_crops_both() -> None:
    sharp = torch.rand(1, 3, 20, 24, generator=torch.Generator().manual_seed(0))
    moved = torch.roll(sharp, shifts=(2, -1), dims=(-2, -1))
    window, reference, found = align_by_shift(moved, sharp, 3)
    assert found == (2, -1)
    assert reference.shape == (1, 3, 14, 18) and torch.equal(reference, sharp[..., 3:17, 3:21])
    assert torch.equal(window, moved[..., 5:19, 2:20]) and torch.equal(window, reference)
    same = align_by_shift(sharp, sharp, 0)
    assert same[0] is sharp and same[2] == (0, 0)
    with pytest.raises(ValueError, match="larger than 6 px"):
        align_by_shift(sharp[..., :6, :6], sharp[..., :6, :6], 3)


def test_align_by_shift_matches_trying_every_window_ties_included() -> None:
    generator = torch.Generator().manual_seed(1)

    def brute_force(restored: torch.Tensor, sharp: torch.Tensor, k: int) -> tuple[int, int]:
        height, width = sharp.shape[-2:]
        target = sharp[..., k : height - k, k : width - k].double()
        offsets = sorted(
            ((dy, dx) for dy in range(-k, k + 1) for dx in range(-k, k + 1)),
            key=lambda d: (abs(d[0]) + abs(d[1]), abs(d[0]), d),
        )
        errors = {
            (dy, dx): float(
                (restored[..., k + dy : height - k + dy, k + dx : width - k + dx].double() - target)
                .square()
                .mean()
            )
            for dy, dx in offsets
        }
        return min(offsets, key=lambda d: errors[d])  # the first of the least, in that order

    for trial in range(12):
        k = 1 + trial % 4
        sharp = torch.rand(2, 3, 17 + trial, 23, generator=generator)
        noisy = sharp + 0.3 * torch.rand(sharp.shape, generator=generator)
        restored = torch.roll(noisy, shifts=(trial % 3 - 1, 1 - trial % 2), dims=(-2, -1))
        assert align_by_shift(restored, sharp, k)[2] == brute_force(restored, sharp, k)
    flat = torch.full((1, 3, 12, 12), 0.5)  # every window ties: the smallest displacement wins
    assert align_by_shift(flat, flat, 3)[2] == (0, 0)
    stripes = torch.arange(12.0).remainder(2).expand(1, 3, 12, 12) / 2  # ties between columns
    assert align_by_shift(stripes, stripes, 2)[2] == brute_force(stripes, stripes, 2)


def test_shift_tolerant_scoring_recovers_a_two_pixel_shift() -> None:
    sharp = _photos()[1]
    items = [EvalItem("moved", torch.roll(sharp, shifts=(2, 2), dims=(-2, -1)), sharp)]
    plain = evaluate([identity_method()], items, metrics=["psnr"])
    tolerant = evaluate([identity_method()], items, metrics=["psnr"], shift=3)
    assert plain.rows[0].scores["psnr"] < 30
    assert tolerant.rows[0].scores["psnr"] == 100.0 and tolerant.rows[0].shift == (2, 2)
    assert tolerant.protocol["shift"] == 3 and "dy" in tolerant.protocol["shift_convention"]


def test_read_kernel_recovers_the_kernel_from_a_scaled_16_bit_png(pairs: Path) -> None:
    kernel = read_kernel(pairs / "kernel" / "1.png").float()
    expected = _kernel(1)
    assert kernel.shape == expected.shape
    assert torch.allclose(kernel, expected / expected.sum(), atol=1e-4)


def test_classical_methods_with_true_kernels_beat_the_input(pairs: Path) -> None:
    data = load_eval_dataset(pairs, kernels=True)
    methods = [
        identity_method(),
        classical_method("wiener", nsr=1e-3),
        classical_method("richardson_lucy"),
    ]
    result = evaluate(methods, data, metrics=["psnr"])
    floor = result.summaries["identity"].scores["psnr"]
    for name in ("wiener", "richardson_lucy"):
        assert result.summaries[name].scores["psnr"] > floor + 3, name
        assert result.summaries[name].gmacs is None and result.summaries[name].params == 0
    assert result.best("psnr") in ("wiener", "richardson_lucy")


def test_classical_methods_need_kernels(pairs: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="true kernel"):
        evaluate([classical_method("wiener")], load_eval_dataset(pairs), metrics=["psnr"])
    for side in ("blur", "sharp"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "a.png").write_bytes((pairs / side / "0.png").read_bytes())
    with pytest.raises(DatasetError, match=r"a\.png: no kernel file"):
        load_eval_dataset(tmp_path, kernels=True)


def test_synthetic_data_carries_its_kernels(tmp_path: Path) -> None:
    for index, photo in enumerate(_photos(64, 64)):
        write_image(tmp_path / f"{index}.png", photo)
    with pytest.raises(ValueError, match="name the format"):
        load_eval_dataset(tmp_path)
    data = load_eval_dataset(
        tmp_path,
        format="synthetic",
        crop_size=40,
        kernels=True,
        limit=2,
        sampler={"name": "trajectory", "kernel_size": 9},
    )
    assert len(data) == 2 and data.info["items"] == 3
    item = data[0]
    assert item.blurry.shape == (3, 40, 40) and item.kernel is not None
    assert item.kernel.shape == (9, 9) and float(item.kernel.sum()) == pytest.approx(1.0)
    # the kernel is exactly the degradation of the stored values: away from the border (4 px,
    # where the convolution reaches outside the crop) blurring the sharp crop gives the input
    reblurred = blur_image(item.sharp, item.kernel)
    assert torch.allclose(reblurred[:, 4:-4, 4:-4], item.blurry[:, 4:-4, 4:-4], atol=1e-5)
    result = evaluate(
        [identity_method(), classical_method("wiener", nsr=1e-4)], data, metrics=["psnr"]
    )
    gain = result.summaries["wiener"].scores["psnr"] - result.summaries["identity"].scores["psnr"]
    assert gain > 2


def test_costs_parameters_macs_latency_memory() -> None:
    model = build_generator({"name": "resnet", "width": 4, "n_blocks": 1})
    items = [EvalItem(str(i), torch.rand(3, 20, 28), torch.rand(3, 20, 28)) for i in range(3)]
    method = generator_method(model, name="net", device="cpu")
    result = evaluate([method], items, metrics=["psnr"], warmup=2)
    summary = result.summaries["net"]
    assert summary.params == sum(p.numel() for p in model.parameters())
    multiple = model.size_multiple
    padded = (math.ceil(20 / multiple) * multiple, math.ceil(28 / multiple) * multiple)
    assert summary.gmacs == pytest.approx(count_macs(model, (1, 3, *padded)) / 1e9)
    latencies = sorted(row.latency_ms for row in result.rows)
    assert summary.latency_ms == latencies[1] and latencies[0] > 0
    assert summary.peak_memory_mb is not None and summary.peak_memory_mb >= 0
    declared = evaluate([method], items[:1], metrics=["psnr"], macs_size=(64, 64))
    assert declared.summaries["net"].gmacs == pytest.approx(count_macs(model, (1, 3, 64, 64)) / 1e9)


def test_lpips_runs_only_with_a_network() -> None:
    items = [EvalItem("a", torch.full((3, 16, 16), 0.25), torch.full((3, 16, 16), 0.5))]
    assert "lpips" not in evaluate([identity_method()], items).metric_names
    with pytest.raises(ValueError, match="needs a network"):
        evaluate([identity_method()], items, metrics=["lpips"])

    def mean_abs(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x - y).abs().mean(dim=(1, 2, 3))

    result = evaluate([identity_method()], items, metrics=["lpips"], lpips_network=mean_abs)
    assert result.summaries["identity"].scores["lpips"] == pytest.approx(0.25)


def test_an_unreadable_item_is_skipped_for_every_method(pairs: Path, tmp_path: Path) -> None:
    for side in ("blur", "sharp"):
        (tmp_path / side).mkdir()
        for name in ("0.png", "1.png", "2.png"):
            (tmp_path / side / name).write_bytes((pairs / side / name).read_bytes())
    truncated = tmp_path / "blur" / "1.png"
    truncated.write_bytes(truncated.read_bytes()[:-200])  # header intact, pixels cut
    data = load_eval_dataset(tmp_path)
    result = evaluate(
        [identity_method(), Method("neg", lambda b, k: 1 - b, kind="custom")],
        data,
        metrics=["psnr"],
    )
    assert {row.name for row in result.rows} == {"0", "2"}
    assert len(result.rows) == 4 and len(result.skipped) == 1
    assert str(truncated) in result.skipped[0]


def test_csv_and_json_agree(pairs: Path, tmp_path: Path) -> None:
    methods = [identity_method(), Method("neg", lambda b, k: 1 - b, kind="custom")]
    result = evaluate(methods, load_eval_dataset(pairs), metrics=["psnr", "ssim"], shift=1)
    result.to_csv(tmp_path / "rows.csv")
    result.to_json(tmp_path / "summary.json")
    with (tmp_path / "rows.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 6 and set(rows[0]) >= {"method", "name", "shift_dy", "psnr", "gmacs"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    for method in ("identity", "neg"):
        for metric in ("psnr", "ssim"):
            values = [float(r[metric]) for r in rows if r["method"] == method]
            assert summary["methods"][method][metric] == pytest.approx(np.mean(values), abs=1e-12)
        assert summary["methods"][method]["count"] == 3
    assert summary["protocol"]["shift"] == 1 and summary["protocol"]["dataset"]["scored"] == 3
    assert set(summary["protocol"]["metrics"]) == {"psnr", "ssim"}


def test_bad_arguments_are_refused() -> None:
    items = [EvalItem("a", torch.rand(3, 8, 8), torch.rand(3, 8, 8))]
    with pytest.raises(ValueError, match="distinct names"):
        evaluate([identity_method(), identity_method()], items)
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate([identity_method()], items, metrics=["sharpness"])
    with pytest.raises(ValueError, match="shift"):
        evaluate([identity_method()], items, shift=-1)
    with pytest.raises(ValueError, match="unknown classical"):
        classical_method("deconvnet")
    with pytest.raises(ValueError, match="unknown baseline 'deconvnet'; valid: identity, wiener"):
        baseline_method("deconvnet")
    with pytest.raises(ValueError, match="no such dataset folder"):
        load_eval_dataset("/nonexistent/data")


def test_eval_and_data_check_read_a_folder_through_one_format_rule(pairs: Path) -> None:
    assert load_eval_dataset(pairs).info["format"] == check_dataset(pairs).format
    assert resolve_format(pairs) == "paired_folders"
    for opener in (load_eval_dataset, check_dataset):
        with pytest.raises(ValueError, match=r"format must be 'auto' or one of \('gopro'"):
            opener(pairs, format="zip")


def test_realistic_synthetic_results_carry_their_scores_by_blur_size(tmp_path: Path) -> None:
    for index, photo in enumerate(_photos(48, 48)):
        write_image(tmp_path / f"{index}.png", photo)
    data = load_eval_dataset(tmp_path, format="synthetic", crop_size=24, length=4)
    result = evaluate([identity_method()], data, metrics=["psnr"])
    groups = result.by_blur_size
    assert groups is not None and sum(group["items"] for group in groups.values()) == 4
    labels = [label for _, _, label in BLUR_SIZE_BINS]
    assert list(groups) == [label for label in labels if label in groups]  # in the bins' order
    for label, group in groups.items():
        names = [name for name, params in data.item_params.items() if _bin(params) == label]
        psnrs = [row.scores["psnr"] for row in result.rows if row.name in names]
        assert group["items"] == len(names)
        assert group["methods"]["identity"]["psnr"] == pytest.approx(np.mean(psnrs))
    assert list(result.as_dict())[-1] == "by_blur_size"
    items = [data[i] for i in range(len(data))]  # the same pairs, without their parameters
    pairs_only = evaluate([identity_method()], items, metrics=["psnr"])
    assert pairs_only.by_blur_size is None and "by_blur_size" not in pairs_only.as_dict()


def test_synthetic_results_split_by_motion_and_averaging_and_carry_each_items_parameters(
    tmp_path: Path,
) -> None:
    for index, photo in enumerate(_photos(48, 48)):
        write_image(tmp_path / f"{index}.png", photo)
    data = load_eval_dataset(tmp_path, format="synthetic", crop_size=24, length=12)
    result = evaluate([identity_method()], data, metrics=["psnr"])
    params = data.item_params
    assert len(params) == 12
    kinds = {"camera shake" if p["kind"] == "shake" else "camera path" for p in params.values()}
    assert len(kinds) == 2 and {p["averaging"] for p in params.values()} == {"linear", "gamma"}

    def expected(label_of: Callable[[dict], str]) -> dict[str, float]:
        labels = {name: label_of(p) for name, p in params.items()}
        return {
            label: float(
                np.mean([r.scores["psnr"] for r in result.rows if labels[r.name] == label])
            )
            for label in set(labels.values())
        }

    def motion(p: dict) -> str:
        if p["kind"] == "shake":
            return "camera shake"
        return "camera path + objects" if p["moving_objects"] else "camera path"

    averaging = {"linear": "linear light", "gamma": "gamma space"}
    for groups, label_of in (
        (result.by_motion, motion),
        (result.by_averaging, lambda p: averaging[p["averaging"]]),
    ):
        assert groups is not None and sum(g["items"] for g in groups.values()) == 12
        means = {label: g["methods"]["identity"]["psnr"] for label, g in groups.items()}
        assert means == pytest.approx(expected(label_of))
    assert list(result.by_averaging or {}) == ["linear light", "gamma space"]  # in that order
    assert list(result.as_dict())[-3:] == ["by_motion", "by_averaging", "by_blur_size"]
    # the per-image CSV carries each item's parameters, after the scores and costs
    rows = list(csv.DictReader(result.csv_text().splitlines()))
    assert list(rows[0])[-len(DEGRADATION_COLUMNS) :] == list(DEGRADATION_COLUMNS)
    for row in rows:
        item = params[row["name"]]
        assert row["kind"] == item["kind"] and row["averaging"] == item["averaging"]
        assert float(row["blur_px"]) == item["blur_px"]  # repr: exact
        assert row["jpeg_quality"] == (
            "" if item["jpeg_quality"] is None else str(item["jpeg_quality"])
        )
        assert row["moving_objects"] == str(item.get("moving_objects", ""))
    # pairs without parameters: no groups, no parameter columns
    pairs_only = evaluate([identity_method()], [data[i] for i in range(2)], metrics=["psnr"])
    assert pairs_only.by_motion is None and pairs_only.by_averaging is None
    assert "kind" not in pairs_only.csv_text().splitlines()[0].split(",")


def _bin(params: dict[str, float]) -> str:
    size = float(params["blur_px"])
    return next(label for low, high, label in BLUR_SIZE_BINS if low <= size < high)
