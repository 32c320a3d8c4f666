"""A burst of the default model's training on a lent GPU machine, continued on the CPU after.

Issue 12 §4: where a GPU is available for a few minutes, train ``make train-default``'s current
run (the stage of ``scripts/train_default.sh``'s chain that it would train next, as
``train_default.sh --next`` says; or ``--stage``) for as many steps as fit in ``--minutes``
there, bring the whole Lightning checkpoint back (generator, EMA, optimiser, step), and let the
CPU run continue from it. Three steps, the middle one on the GPU machine:

    python scripts/gpu_burst.py pack                  # here: fills .gpu_burst/ (carried)
    # on the GPU machine (the `device` tool's `run`, carry [".gpu_burst"], timeout_s 600):
    python3 scripts/gpu_burst.py device --minutes 9   # writes $OUT/last.ckpt.part* + log
    python scripts/gpu_burst.py unpack FILES_AT       # here: installs it as the run's last.ckpt

``pack`` copies the run's ``last.ckpt`` (the stage must have begun: a checkpoint to start from)
and wheels of what the GPU image lacks (Hydra and OmegaConf; the image has PyTorch, Lightning,
TensorBoard) into ``.gpu_burst/``, then as many of the training photos as fit in what is left of
the 64 MiB the machine takes (a seeded random choice, named in ``.gpu_burst/MANIFEST.json`` with
the stage and its run: about 30 MB of the 46 MB, so the burst sees a random part of the photos,
each degraded afresh by the same pipeline). ``device`` runs
``scripts/train_default.sh`` with the same recipe, the GPU, more loader workers and no
validation (the CPU run validates), stops cleanly after ``--minutes``, and splits the
checkpoint into parts under the 16 MiB a returned file may have. ``unpack`` joins and checks
them (sha256, a loadable checkpoint of the same generator, a later step), keeps the CPU's
checkpoint as ``last.before_gpu.ckpt`` and the burst's training log as
``gpu_bursts/step_N/metrics.csv``, and refuses while a training of the run is running.
After it, ``make train-default`` (or ``bash scripts/train_default.sh``) continues from the
GPU's step.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARRY = ROOT / ".gpu_burst"
PHOTOS = ROOT / "data" / "train_photos" / "train"
CARRY_LIMIT = 64 * 2**20  # what a device call takes: working tree plus carried paths
MARGIN = 2 * 2**20  # room for the working tree to grow a little
PART_SIZE = 15 * 2**20  # returned files: at most 16 MiB each, 8 files
WHEELS = ("hydra-core==1.3.8", "omegaconf==2.3.1")
SDISTS = ("antlr4-python3-runtime==4.9.3",)  # omegaconf's parser: published as an sdist only
GPU_OVERRIDES = (
    "trainer.accelerator=gpu",
    "trainer.devices=1",
    "data.num_workers=14",
    "trainer.val_every=1000000000",  # no validation on the GPU: the CPU run validates
    "trainer.num_sanity_val_steps=0",
    "trainer.checkpoint_every=5000",
    "trainer.sample_every=0",
)


def _sha256(path: Path) -> str:
    sys.path.insert(0, str(ROOT / "src"))  # also on the GPU machine, where nothing is installed
    from deblurgan.io.download import sha256_file

    return sha256_file(path)


def _tree_bytes() -> int:
    """Bytes of the working tree a device call sends (tracked and untracked-not-ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    return sum((ROOT / os.fsdecode(name)).stat().st_size for name in listed if name)


def _fail(message: str) -> int:
    print(f"gpu_burst: error: {message}", file=sys.stderr)
    return 1


def _stage_and_run(stage: str | None) -> tuple[str, Path] | None:
    """The stage ``make train-default`` trains next (or ``stage``), and its run; None: done."""
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("RUN", None)
    if stage is None:
        env.pop("STAGE", None)
    else:
        env["STAGE"] = stage
    said = subprocess.run(
        ["bash", str(ROOT / "scripts" / "train_default.sh"), "--next"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return None if said == ["done"] else (said[0], ROOT / said[1])


def _manifest() -> dict[str, object]:
    path = CARRY / "MANIFEST.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def pack(args: argparse.Namespace) -> int:
    found = _stage_and_run(args.stage)
    if found is None:
        return _fail("the chain of scripts/train_default.sh is done: nothing to continue")
    stage, run = found
    checkpoint = run / "checkpoints" / "last.ckpt"
    if not checkpoint.is_file():
        return _fail(
            f"{checkpoint}: no checkpoint to start from (stage {stage} has not begun: "
            "run make train-default until it writes one)"
        )
    photos = sorted(p for p in Path(args.photos).iterdir() if p.is_file())
    if not photos:
        return _fail(f"{args.photos}: no training photos (run make data first)")
    if CARRY.exists():
        shutil.rmtree(CARRY)
    (CARRY / "wheels").mkdir(parents=True)
    pip = [sys.executable, "-m", "pip", "-q"]
    download = [*pip, "download", "--no-deps", "--only-binary=:all:", "-d", str(CARRY / "wheels")]
    subprocess.run(
        [*download, *WHEELS],
        check=True,
    )
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(CARRY / "wheels"), *SDISTS], check=True)
    shutil.copyfile(checkpoint, CARRY / "start.ckpt")
    used = _tree_bytes() + sum(p.stat().st_size for p in CARRY.rglob("*") if p.is_file())
    budget = args.limit - MARGIN - used
    chosen: list[str] = []
    (CARRY / "photos").mkdir()
    order = list(photos)
    random.Random(args.seed).shuffle(order)
    for photo in order:
        size = photo.stat().st_size
        if size <= budget:
            shutil.copyfile(photo, CARRY / "photos" / photo.name)
            chosen.append(photo.name)
            budget -= size
    manifest = {
        "stage": stage,
        "run": str(run.relative_to(ROOT)),
        "checkpoint_sha256": _sha256(CARRY / "start.ckpt"),
        "photos": sorted(chosen),
        "photos_total": len(photos),
    }
    (CARRY / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in CARRY.rglob("*") if p.is_file())
    print(
        f"gpu_burst: packed {CARRY.relative_to(ROOT)}: stage {stage}'s checkpoint, "
        f"{len(chosen)} of {len(photos)} photos, {total / 2**20:.1f} MiB "
        f"(+ {_tree_bytes() / 2**20:.1f} MiB tree)"
    )
    return 0


def device(args: argparse.Namespace) -> int:
    out = Path(args.out or os.environ.get("OUT", ""))
    if not str(out):
        return _fail("no output folder: set OUT or pass --out")
    if not (CARRY / "start.ckpt").is_file():
        return _fail(f"{CARRY}: not packed (run `python scripts/gpu_burst.py pack` first)")
    env = dict(os.environ)
    if not args.no_install:
        site = Path(args.site)
        wheels = sorted(str(p) for p in (CARRY / "wheels").glob("*.whl"))
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
             "--no-compile", "--no-cache-dir", "--upgrade", "--target", str(site), *wheels],
            check=True,
        )  # fmt: skip
        env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT / "src")])
    env["PYTHONUNBUFFERED"] = "1"
    env["RUN"] = str(Path(args.run_dir))
    env["STAGE"] = str(_manifest()["stage"])  # the recipe that the run folder holds
    env["DEBLUR"] = f"{sys.executable} -m deblurgan"
    overrides = [
        f"resume={CARRY / 'start.ckpt'}",
        f"data.root={CARRY / 'photos'}",
        f"data.val_root={CARRY / 'photos'}",
        f"trainer.max_time={args.minutes}",
        *(GPU_OVERRIDES if args.accelerator == "gpu" else ()),
        *args.overrides,
    ]
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "train.log", "wb") as log:
        code = subprocess.call(
            ["bash", str(ROOT / "scripts" / "train_default.sh"), *overrides],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    run_dir = Path(args.run_dir)
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    for metrics in sorted(run_dir.glob("csv/version_*/metrics.csv"))[-1:]:
        shutil.copyfile(metrics, out / "metrics.csv")
    if code != 0 or not checkpoint.is_file():
        print(f"gpu_burst: training ended with code {code}; see {out / 'train.log'}")
        return code or 1
    parts = []
    with open(checkpoint, "rb") as fh:
        for index, block in enumerate(iter(lambda: fh.read(PART_SIZE), b"")):
            part = out / f"last.ckpt.part{index}"
            part.write_bytes(block)
            parts.append(part.name)
    (out / "SHA256").write_text(f"{_sha256(checkpoint)}  last.ckpt {' '.join(parts)}\n")
    print(f"gpu_burst: wrote {len(parts)} parts of {checkpoint} to {out}")
    return 0


def _training_running(run: Path) -> list[int]:
    """Process ids of `deblur train` processes writing into ``run`` (however they name it)."""
    found = []
    target = run.resolve()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            words = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            cwd = (entry / "cwd").resolve()
        except OSError:
            continue
        if "train" not in words:
            continue
        # run_dir=RUN, or resume=RUN/checkpoints/last.ckpt, relative to the process's folder
        named = [(cwd / w[8:]).resolve() for w in words if w.startswith("run_dir=")]
        named += [(cwd / w[7:]).resolve().parents[1] for w in words if w.startswith("resume=")]
        if target in named:
            found.append(int(entry.name))
    return found


def unpack(args: argparse.Namespace) -> int:
    folder = Path(args.files_at)
    record = folder / "SHA256"
    if not record.is_file():
        return _fail(f"{record}: missing (was the device step's $OUT fetched?)")
    expected, _, names = record.read_text().partition("  ")
    parts = names.split()[1:]
    if args.run is None:
        packed = _manifest().get("run")
        if packed is None:
            return _fail(f"{CARRY / 'MANIFEST.json'}: missing; name the run with --run")
        args.run = str(ROOT / str(packed))
    run = Path(args.run)
    busy = _training_running(run)
    if busy:
        return _fail(f"{run}: a training is running (pid {busy[0]}); stop it first")
    target = run / "checkpoints" / "last.ckpt"
    joined = target.with_name("last.from_gpu.ckpt.tmp")
    with open(joined, "wb") as fh:
        for name in parts:
            fh.write((folder / name).read_bytes())
    if _sha256(joined) != expected:
        joined.unlink()
        return _fail(f"{folder}: the joined checkpoint does not match its sha256")
    sys.path.insert(0, str(ROOT / "src"))
    from deblurgan.training.fit import read_training_checkpoint

    new = read_training_checkpoint(joined)
    if target.is_file():
        old = read_training_checkpoint(target)
        if set(new["state_dict"]) != set(old["state_dict"]):
            joined.unlink()
            return _fail(f"{folder}: the checkpoint is of another model than {target}")
        if new["global_step"] <= old["global_step"]:
            joined.unlink()
            return _fail(
                f"{folder}: step {new['global_step']} is not past the run's {old['global_step']}"
            )
        os.replace(target, target.with_name("last.before_gpu.ckpt"))
    os.replace(joined, target)
    if (folder / "metrics.csv").is_file():
        logs = run / "gpu_bursts" / f"step_{new['global_step']}"
        logs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / "metrics.csv", logs / "metrics.csv")
    step = new["global_step"]
    print(f"gpu_burst: {target} is now at step {step}; continue with make train-default")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("pack", help="here: fill .gpu_burst/ for the device call")
    p.add_argument("--stage", help="a stage of train_default.sh (default: the chain's next)")
    p.add_argument("--photos", default=str(PHOTOS), help="training photos")
    p.add_argument("--limit", type=int, default=CARRY_LIMIT, help="bytes a device call takes")
    p.add_argument("--seed", type=int, default=0, help="the choice of photos")
    p.set_defaults(func=pack)
    d = sub.add_parser("device", help="on the GPU machine: train, split the checkpoint to $OUT")
    d.add_argument("--minutes", type=float, default=9.0, help="training wall time (9)")
    d.add_argument("--out", help="output folder (default $OUT)")
    d.add_argument("--run-dir", default="/tmp/gpu_burst_run", help="the burst's run folder")
    d.add_argument("--site", default="/tmp/gpu_burst_site", help="where the wheels go")
    d.add_argument("--accelerator", choices=("gpu", "cpu"), default="gpu", help="cpu: a dry run")
    d.add_argument("--no-install", action="store_true", help="Hydra is installed already")
    d.add_argument("overrides", nargs="*", help="more deblur train overrides")
    d.set_defaults(func=device)
    u = sub.add_parser("unpack", help="here: install the returned checkpoint into the run")
    u.add_argument("files_at", help="the folder the device call's files came back to")
    u.add_argument("--run", help="run folder (default: the packed one, MANIFEST.json)")
    u.set_defaults(func=unpack)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
