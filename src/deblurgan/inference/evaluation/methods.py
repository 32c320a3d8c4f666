"""The methods of a comparison: a generator, the blurry input, classical deconvolution.

Part of the evaluation protocol of :mod:`deblurgan.inference.evaluation`. A :class:`Method` is a
name and a ``restore(blurry, kernel)`` callable, plus what its costs are counted on (the network
for parameters and GMACs). ``identity`` is the floor every method must beat; the classical
non-blind deconvolutions of :mod:`deblurgan.blur.deconv` given the true kernel of each item are a
ceiling for what a known blur allows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from deblurgan.blur.deconv import DECONV_METHODS, method_options
from deblurgan.inference.deblurrer import Deblurrer, resolve_device
from deblurgan.models.complexity import count_macs, generator_macs
from deblurgan.models.generator import arch_name, arch_spec, size_multiple
from deblurgan.models.registries import GENERATORS
from deblurgan.models.weights import SHIPPED_WEIGHTS, load_generator

__all__ = [
    "BASELINE_METHODS",
    "CLASSICAL_METHODS",
    "Method",
    "baseline_method",
    "blind_method",
    "classical_method",
    "generator_method",
    "identity_method",
    "method_gmacs",
]

#: Non-blind deconvolutions that need each item's true kernel.
CLASSICAL_METHODS = tuple(DECONV_METHODS)
#: The methods that are not networks: the blurry input itself, the classical deconvolutions, and
#: blind deconvolution (the kernel estimated from each image, then Wiener).
BASELINE_METHODS = ("identity", *CLASSICAL_METHODS, "blind")


@dataclass
class Method:
    """One method of a comparison: its name, how it restores, and what it is made of.

    Args:
        name: the name in tables, CSV rows and the JSON summary (unique within an evaluation).
        restore: ``restore(blurry, kernel) -> restored`` on ``(1, 3, H, W)`` tensors on
            ``device``; ``kernel`` is the item's true kernel or ``None``.
        kind: ``"generator"``, ``"identity"`` or ``"classical"``.
        device: where the input is put before the timed call.
        model: the network, for parameters and MACs (``None`` for non-networks).
        needs_kernel: whether ``restore`` needs the true kernel.
        settings: what defines the method, for the protocol (source, options, precision).
        gmacs: a fixed GMAC count (0 for identity), or ``None`` to count ``model``'s (or to
            report none for a method without a model).

    Shape:
        - blurry: :math:`(1, 3, H, W)` in [0, 1]; output: same shape

    Example:
        >>> method = Method("negative", lambda blurry, kernel: 1 - blurry, kind="custom")
        >>> method.restore(torch.zeros(1, 3, 2, 2), None).mean().item()
        1.0
    """

    name: str
    restore: Callable[[Tensor, Tensor | None], Tensor]
    kind: str = "generator"
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    model: nn.Module | None = None
    needs_kernel: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    gmacs: float | None = None

    @property
    def params(self) -> int:
        """Parameter count of ``model`` (0 without one)."""
        if self.model is None:
            return 0
        return sum(p.numel() for p in self.model.parameters())


def identity_method() -> Method:
    """The blurry input itself, unchanged: the floor of every comparison.

    Example:
        >>> blurry = torch.rand(1, 3, 4, 4)
        >>> torch.equal(identity_method().restore(blurry, None), blurry)
        True
    """
    return Method(
        "identity",
        lambda blurry, kernel: blurry,
        kind="identity",
        settings={"source": "the blurry input"},
        gmacs=0.0,
    )


def classical_method(
    name: str,
    *,
    nsr: float | None = None,
    weight: float | None = None,
    iterations: int | None = None,
    boundary: str = "reflect",
    device: str | torch.device = "cpu",
) -> Method:
    """A classical non-blind deconvolution (:mod:`deblurgan.blur.deconv`) with the true kernel.

    The stored (encoded) pixel values are deconvolved, as ``deblur deconv`` does; the result is
    clipped to [0, 1].

    Args:
        name: ``"wiener"``, ``"tikhonov"``, ``"richardson_lucy"`` or ``"hyper_laplacian"``.
        nsr: Wiener's noise-to-signal ratio (``None``: the function's default, as below).
        weight: Tikhonov's Laplacian weight, or the hyper-Laplacian prior's.
        iterations: Richardson-Lucy's iterations.
        boundary: ``"reflect"`` (smooth periodic extension) or ``"periodic"``.
        device: where it runs.

    Shape:
        - blurry: :math:`(1, 3, H, W)`; kernel: :math:`(k_h, k_w)`; output: like blurry

    Example:
        >>> delta = torch.zeros(3, 3)
        >>> delta[1, 1] = 1.0
        >>> blurry = torch.rand(1, 3, 8, 8)
        >>> restored = classical_method("wiener", nsr=1e-9).restore(blurry, delta)
        >>> torch.allclose(restored, blurry, atol=1e-5)
        True
    """
    if name not in CLASSICAL_METHODS:
        raise ValueError(
            f"unknown classical method {name!r}; valid: {', '.join(CLASSICAL_METHODS)}"
        )
    options = method_options(name, nsr=nsr, weight=weight, iterations=iterations)
    deconvolve = DECONV_METHODS[name]
    resolved = resolve_device(device)

    def restore(blurry: Tensor, kernel: Tensor | None) -> Tensor:
        if kernel is None:
            raise ValueError(f"{name} needs the true blur kernel of each image")
        with torch.no_grad():
            restored = deconvolve(
                blurry, kernel.to(blurry.device), **options, boundary=boundary, clamp=True
            )
        return restored.float()

    return Method(
        name,
        restore,
        kind="classical",
        device=resolved,
        needs_kernel=True,
        settings={"source": "deblurgan.blur.deconv", "boundary": boundary, **options},
    )


def blind_method(
    *,
    kernel_size: int | None = None,
    nsr: float = 1e-2,
    device: str | torch.device = "cpu",
) -> Method:
    """Blind deconvolution (:mod:`deblurgan.blur.blind`): each image's kernel estimated, then
    Wiener; for uniform blur (camera shake without rotation). Needs no true kernel.

    Args:
        kernel_size: the estimated kernel's support in pixels (odd, at least the blur's extent);
            ``None``: :func:`~deblurgan.blur.blind.default_kernel_size` of each image.
        nsr: Wiener's noise-to-signal ratio.
        device: where it runs.

    Example:
        >>> method = blind_method(kernel_size=9)
        >>> method.kind, method.needs_kernel, method.settings["kernel_size"]
        ('classical', False, 9)
    """
    from deblurgan.blur.blind import blind_deconvolve, check_kernel_size, default_kernel_size

    if kernel_size is not None:
        check_kernel_size(kernel_size)
    resolved = resolve_device(device)

    def restore(blurry: Tensor, kernel: Tensor | None) -> Tensor:
        size = kernel_size or default_kernel_size(*blurry.shape[-2:])
        with torch.no_grad():
            restored, _ = blind_deconvolve(blurry, size, nsr=nsr)
        return restored.float()

    return Method(
        "blind",
        restore,
        kind="classical",
        device=resolved,
        settings={
            "source": "deblurgan.blur.blind",
            "kernel_size": kernel_size if kernel_size is not None else "auto",
            "nsr": float(nsr),
        },
    )


def baseline_method(
    name: str,
    *,
    nsr: float | None = None,
    weight: float | None = None,
    iterations: int | None = None,
    kernel_size: int | None = None,
    blind_nsr: float | None = None,
    device: str | torch.device = "cpu",
) -> Method:
    """A method of :data:`BASELINE_METHODS` by name: ``identity``, a classical deconvolution
    with the true kernel, or ``blind``.

    Args:
        name: ``"identity"``, ``"wiener"``, ``"tikhonov"``, ``"richardson_lucy"`` or ``"blind"``.
        nsr, weight, iterations, device: the options of :func:`classical_method` (unused by
            ``identity``).
        kernel_size: ``blind``'s kernel support (``None``: from each image's size).
        blind_nsr: ``blind``'s Wiener noise-to-signal (``None``: :func:`blind_method`'s).

    Example:
        >>> [baseline_method(name).kind for name in ("identity", "wiener", "blind")]
        ['identity', 'classical', 'classical']
    """
    if name == "identity":
        return identity_method()
    if name == "blind":
        options = {} if blind_nsr is None else {"nsr": blind_nsr}
        return blind_method(kernel_size=kernel_size, device=device, **options)
    if name not in CLASSICAL_METHODS:
        raise ValueError(f"unknown baseline {name!r}; valid: {', '.join(BASELINE_METHODS)}")
    return classical_method(name, nsr=nsr, weight=weight, iterations=iterations, device=device)


def generator_method(
    model: str | os.PathLike[str] | nn.Module,
    *,
    name: str | None = None,
    device: str | torch.device = "auto",
    precision: str = "fp32",
    tile_size: int = 1024,
    tile_overlap: int = 64,
    threads: int | None = None,
) -> Method:
    """A generator run through a :class:`~deblurgan.inference.Deblurrer` (padding, tiling).

    Args:
        model: a shipped weights name (``"default"``), a checkpoint path, or a module.
        name: the method's name; default the weights name, the checkpoint's stem or the
            module's ``arch_spec`` name.
        device: ``"auto"``, ``"cpu"``, ``"cuda[:N]"``.
        precision: ``"fp32"``, ``"fp16"`` or ``"bf16"``.
        tile_size: the largest side the model sees at once.
        tile_overlap: the overlap of neighbouring tiles.
        threads: CPU threads during each call (``None``: torch's setting).

    Raises:
        FileNotFoundError, ValueError: the weights cannot be loaded.

    Example:
        >>> method = generator_method(nn.Identity(), name="same", device="cpu")
        >>> blurry = torch.rand(1, 3, 8, 8)
        >>> torch.equal(method.restore(blurry, None), blurry), method.params
        (True, 0)
    """
    if isinstance(model, nn.Module):
        network = model
        source = arch_name(model)
    else:
        source = os.fspath(model)
        network = load_generator(source)
    if name is None:
        name = source if source in SHIPPED_WEIGHTS else Path(source).stem or source
    deblurrer = Deblurrer(
        network,
        device=device,
        precision=precision,
        tile_size=tile_size,
        tile_overlap=tile_overlap,
        threads=threads,
    )

    def restore(blurry: Tensor, kernel: Tensor | None) -> Tensor:
        return deblurrer(blurry)

    arch = arch_spec(network)
    return Method(
        name,
        restore,
        kind="generator",
        device=deblurrer.device,
        model=deblurrer.model,
        settings={
            "source": source,
            "arch": arch or type(network).__name__,
            "precision": deblurrer.precision,
            "tile_size": deblurrer.tile_size,
            "tile_overlap": deblurrer.tile_overlap,
            "size_multiple": deblurrer.size_multiple,
        },
    )


def method_gmacs(method: Method, height: int, width: int) -> float | None:
    """GMACs of one untiled forward pass at ``height x width`` padded to ``size_multiple``."""
    if method.gmacs is not None:
        return method.gmacs
    model = method.model
    if model is None:
        return None
    spec = arch_spec(model)
    if spec.get("name") in GENERATORS:
        kwargs = {k: v for k, v in spec.items() if k != "name"}
        macs = generator_macs(str(spec["name"]), kwargs, height=height, width=width)
    else:
        multiple = size_multiple(model)
        padded = (-(-height // multiple) * multiple, -(-width // multiple) * multiple)
        macs = count_macs(model, (1, 3, *padded))
    return macs / 1e9
