"""Shared fixtures: seeded tiny images and real photos, all made locally (nothing downloads)."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch

from deblurgan.io.download import cache_dir

# The cache this machine fetches into (make weights), read before any test redirects it.
REAL_CACHE = cache_dir()


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def real_weights_cache() -> Callable[[str], Path]:
    """``real_weights_cache(name)``: the real cache folder when it holds the fetched ``name``.

    Outside CI a missing fetch skips the test; with ``CI`` set it fails, so CI always runs it
    (``make test`` fetches first). Session-scoped, so module fixtures can use it too.
    """
    from deblurgan.models.fetch import is_fetched

    def find(name: str) -> Path:
        if is_fetched(name, cache=REAL_CACHE):
            return REAL_CACHE
        message = (
            f"the {name} weights are not fetched in {REAL_CACHE}: run 'deblur weights fetch {name}'"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    return find


Route = Callable[[BaseHTTPRequestHandler, threading.Event], None]


@dataclass
class LocalServer:
    """A running HTTP server on 127.0.0.1: ``routes`` maps a path to its handler."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    headers: list[dict[str, str]] = field(default_factory=list)

    def serve(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "application/octet-stream",
        length: int | None = None,
    ) -> str:
        """Answer ``path`` with ``body`` (a ``length`` other than its size cuts or pads the
        announced length); returns the URL."""

        def route(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body) if length is None else length))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = route
        return self.url + path


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A threaded HTTP server on a free loopback port, stopped (and its handlers released) after
    the test."""
    stop = threading.Event()
    server_state = LocalServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            server_state.hits[path] += 1
            server_state.headers.append(dict(self.headers.items()))
            route = server_state.routes.get(path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            try:
                route(self, stop)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server_state
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)


@pytest.fixture
def make_image() -> Callable[..., torch.Tensor]:
    """Factory for smooth, seeded test images ``(B, 3, H, W)`` in [0, 1].

    Smooth (low-frequency sinusoids plus an edge), so blur changes them measurably.
    """

    def factory(
        batch: int = 1, height: int = 64, width: int = 64, *, seed: int = 0
    ) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        ys = torch.linspace(0, 1, height).view(1, 1, height, 1)
        xs = torch.linspace(0, 1, width).view(1, 1, 1, width)
        freq = torch.rand(batch, 3, 1, 1, generator=g) * 6 + 1
        phase = torch.rand(batch, 3, 1, 1, generator=g) * 6.28
        img = 0.5 + 0.25 * torch.sin(freq * (xs + 0.7 * ys) * 6.28 + phase)
        img = img + 0.2 * (xs > 0.5).float() - 0.1
        return img.clamp(0, 1)

    return factory


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real photo (scikit-image's bundled astronaut, 512x512 RGB uint8)."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def photos() -> list[np.ndarray]:
    """A few real RGB photos bundled with scikit-image (uint8, HxWx3)."""
    from skimage import data

    return [data.astronaut(), data.chelsea(), data.coffee()]


def _shake_stroke(size: int = 17) -> torch.Tensor:
    """A camera-shake-like kernel: a bent stroke of varying speed, 13 px across, 1 px wide."""
    t = torch.linspace(0, 1, 400)
    x = 2 + 12 * t
    y = 3 + 10 * (2 * t - 1) ** 2 - 3 * t  # a bent "V", slower at the turn
    kernel = torch.zeros(size, size)
    for yy, xx in zip(y.tolist(), x.tolist(), strict=True):
        i, j = int(yy), int(xx)
        fy, fx = yy - i, xx - j
        kernel[i, j] += (1 - fy) * (1 - fx)
        kernel[i + 1, j] += fy * (1 - fx)
        kernel[i, j + 1] += (1 - fy) * fx
        kernel[i + 1, j + 1] += fy * fx
    return kernel / kernel.sum()


@pytest.fixture(scope="session")
def shaken_photo(photo: np.ndarray) -> dict[str, torch.Tensor]:
    """A real photo blurred by one camera-shake-like kernel (uniform blur), 224 px, blurred with
    the scene around it, plus Gaussian noise of std 0.003: ``sharp``, ``blurry`` ``(1, 3, H, W)``
    and ``kernel`` ``(17, 17)`` (13 px across)."""
    import torch.nn.functional as F

    from deblurgan.blur import add_gaussian_noise, blur_image

    size, margin = 224, 24
    image = torch.from_numpy(photo).permute(2, 0, 1).float()[None] / 255
    side = size + 2 * margin
    big = F.interpolate(image, size=(side, side), mode="bilinear", antialias=True).clamp(0, 1)
    kernel = _shake_stroke()
    inner = slice(margin, margin + size)
    blurry = blur_image(big, kernel)[..., inner, inner]
    noisy = add_gaussian_noise(blurry, 0.003, generator=torch.Generator().manual_seed(1))
    return {"sharp": big[..., inner, inner], "blurry": noisy.clamp(0, 1), "kernel": kernel}


@pytest.fixture(scope="session")
def kernel_correlation() -> Callable[[torch.Tensor, torch.Tensor], float]:
    """Normalised cross-correlation of an estimated and a true kernel at their best relative
    shift (1 for the same shape anywhere in the support)."""
    import torch.nn.functional as F

    def correlation(estimate: torch.Tensor, truth: torch.Tensor) -> float:
        a = estimate.double() - estimate.double().mean()
        b = truth.double() - truth.double().mean()
        pad = b.shape[-1]
        scores = F.conv2d(F.pad(a[None, None], (pad,) * 4), b[None, None])
        return float(scores.max() / (a.norm() * b.norm()))

    return correlation


@pytest.fixture
def auto_onnx_lite_unet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A tiny lite_unet checkpoint (not the identity) whose ONNX export ``--backend auto`` takes
    to be repaid after 15 frames of 32x24, so it exports for 30 of them (twice that)."""
    import deblurgan.inference.backends as backends
    from deblurgan.models import build_generator, save_generator

    monkeypatch.setitem(backends.ONNX_BREAK_EVEN_FRAMES, "lite_unet", 15 * 32 * 24 / (1280 * 720))
    torch.manual_seed(0)
    model = build_generator({"name": "lite_unet", "width": 4, "blocks": 1})
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return str(save_generator(model, tmp_path / "lite.safetensors"))
