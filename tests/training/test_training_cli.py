"""`deblur train` through Hydra: single runs, sweeps, resume, errors, and every shipped config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from deblurgan.data import DATASETS
from deblurgan.losses import ADVERSARIAL_LOSSES, CONTENT_LOSSES, WeightedLoss
from deblurgan.models import DISCRIMINATORS, GENERATORS, load_generator
from deblurgan.training import CONFIG_DIR, train_main

TINY = [
    "generator.width_mult=0.25",
    "generator.num_filters=8",
    "generator.num_filters_fpn=16",
    "discriminator=patchgan",
    "discriminator.width=4",
    "discriminator.depth=2",
    "data.crop_size=32",
    "data.batch_size=2",
    "data.val_batch_size=2",
    "data.num_workers=0",
    "data.train.length=4",
    "data.val.length=2",
    "data.degradation.frame_width=128",  # blur of 0.3-10 px on 64 px photos: a fast tiny run
    "trainer.val_every=2",
    "trainer.checkpoint_every=2",
    "trainer.log_every=1",
    "trainer.num_sanity_val_steps=0",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
]


def test_train_main_single_run(tmp_path: Path, photo_dir: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    code = train_main(
        [*TINY, f"data.root={photo_dir}", "trainer.max_steps=2", f"run_dir={run_dir}"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert f"generator written to {run_dir / 'generator.safetensors'}" in out
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert (run_dir / "train.log").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    model = load_generator(run_dir / "generator.safetensors")
    assert model.checkpoint_meta["recipe"]["data"]["root"] == str(photo_dir)

    # The same run_dir again without resume= is refused in one line, the run left as it was.
    exported = (run_dir / "generator.safetensors").read_bytes()
    code = train_main([*TINY, f"data.root={photo_dir}", f"run_dir={run_dir}"])
    assert code == 1
    assert "holds an earlier run" in capsys.readouterr().err
    assert (run_dir / "generator.safetensors").read_bytes() == exported

    # resume=PATH continues in the checkpoint's own run folder.
    last = run_dir / "checkpoints" / "last.ckpt"
    code = train_main([*TINY, f"data.root={photo_dir}", "trainer.max_steps=3", f"resume={last}"])
    assert code == 0
    assert torch.load(last, weights_only=True)["deblurgan"]["gan_step"] == 3


def test_train_main_multirun(tmp_path: Path, photo_dir: Path) -> None:
    sweep = tmp_path / "sweep"
    code = train_main(
        [
            "-m",
            *[o for o in TINY if not o.startswith("discriminator")],
            "discriminator=none",
            f"data.root={photo_dir}",
            "trainer.max_steps=1",
            "optim.lr_g=1e-4,1e-3",
            f"run_dir={sweep}",
        ]
    )
    assert code == 0
    for job in ("0", "1"):
        assert (sweep / job / "generator.safetensors").is_file()
    lrs = [
        load_generator(sweep / job / "generator.safetensors").checkpoint_meta["recipe"]["optim"][
            "lr_g"
        ]
        for job in ("0", "1")
    ]
    assert lrs == [1e-4, 1e-3]


def test_train_main_reports_errors_in_one_line(tmp_path: Path, capsys) -> None:
    assert train_main([f"run_dir={tmp_path / 'a'}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "deblur train: error: missing required setting(s) data.root; set them, e.g. "
        "data.root=/path/to/photos"
    ]

    assert train_main([f"data.root={tmp_path / 'nowhere'}", f"run_dir={tmp_path / 'b'}"]) == 1
    assert "no such file or folder" in capsys.readouterr().err

    assert train_main(["--help"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("generator=nope", "Could not find 'generator/nope' Available options in 'generator':"),
        ("foo=bar", "Could not override 'foo'. To append to your config use +foo=bar (Key 'foo'"),
        ("data.rooot=x", "Could not override 'data.rooot'."),
        ("trainer==", "Error parsing override 'trainer=='"),
    ],
)
def test_a_bad_override_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], override: str, expected: str
) -> None:
    assert train_main([override, f"run_dir={tmp_path / 'run'}"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("deblur train: error: ") and expected in err[0], err
    assert "full_key" not in err[0] and "HYDRA_FULL_ERROR" not in err[0]
    assert "Config search path" not in err[0]
    assert not (tmp_path / "run").exists()  # nothing written


def _all_choices() -> list[list[str]]:
    groups = {
        group: sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
        for group in ("generator", "discriminator", "adversarial", "content", "data")
    }
    return [[f"{group}={choice}"] for group, choices in groups.items() for choice in choices]


@pytest.mark.parametrize("overrides", _all_choices(), ids=lambda o: o[0])
def test_every_shipped_config_composes_into_valid_specs(overrides: list[str]) -> None:
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose("train", overrides=[*overrides, "++data.root=/photos"])
    assert cfg.generator.name in GENERATORS
    if cfg.discriminator is not None:
        assert cfg.discriminator.name in DISCRIMINATORS
        DISCRIMINATORS.from_spec(dict(cfg.discriminator))
    assert cfg.adversarial.name in ADVERSARIAL_LOSSES
    WeightedLoss(dict(cfg.content))
    assert set(cfg.content) <= set(CONTENT_LOSSES)
    train = OmegaConf.to_container(cfg.data.train, resolve=True)
    assert isinstance(train, dict) and train["name"] in DATASETS
    if train["name"] != "dead_leaves":  # the one source without photos
        assert "/photos" in str(train)
    assert cfg.trainer.max_steps > 0


@pytest.mark.parametrize("name", ["fpn_mobilenet", "resnet"])
def test_generator_configs_build(name: str) -> None:
    from deblurgan.models import build_generator

    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose("train", overrides=[f"generator={name}", "data.root=/photos"])
    assert build_generator(dict(cfg.generator)).arch_spec["name"] == name


def test_fit_sees_the_real_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lightning's multi-GPU launcher re-runs sys.argv; Hydra's patched argv must not leak to it.
    import importlib
    import sys

    fit_module = importlib.import_module("deblurgan.training.fit")
    seen: list[list[str]] = []

    def fake_fit(cfg) -> Path:
        seen.append(list(sys.argv))
        return tmp_path / "generator.safetensors"

    monkeypatch.setattr(fit_module, "fit", fake_fit)
    monkeypatch.setattr(sys, "argv", ["/usr/bin/deblur", "train", "data.root=/photos"])
    assert train_main(["data.root=/photos", f"run_dir={tmp_path / 'r'}"]) == 0
    assert seen == [["/usr/bin/deblur", "train", "data.root=/photos"]]
    assert sys.argv == ["/usr/bin/deblur", "train", "data.root=/photos"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"hello", "not a PyTorch checkpoint"),
        (b"", "empty file"),
        (None, "truncated or corrupt"),  # half of a real checkpoint
        (b"\x80\x04cos\nsystem\n(S'touch PWNED'\ntR.", "safe load refuses"),
    ],
)
def test_a_bad_resume_checkpoint_is_one_line_and_writes_nothing(
    tmp_path: Path, photo_dir: Path, capsys, content: bytes | None, match: str
) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    last = run / "checkpoints" / "last.ckpt"
    if content is None:
        torch.save({"state_dict": {"w": torch.zeros(1000)}}, last)
        content = last.read_bytes()[: last.stat().st_size // 2]
    last.write_bytes(content)
    before = sorted(p.name for p in run.rglob("*"))
    code = train_main([*TINY, f"data.root={photo_dir}", f"resume={last}"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and match in err, err
    assert "weights_only=False" not in err
    assert sorted(p.name for p in run.rglob("*")) == before  # no .hydra, no train.log
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
