"""``deblur serve``'s HTTP API through FastAPI's test client: every route, every bad input, the
queue limit, the streamed upload limit, and the ``serve`` command itself (without a socket)."""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

pytest.importorskip("fastapi", reason="the web extra is not installed")
from fastapi.testclient import TestClient

from deblurgan.cli.main import main
from deblurgan.models import build_generator, save_generator
from deblurgan.web import ModelPool, create_app
from deblurgan.web.limits import too_large_message
from deblurgan.web.queue import ClientGoneError, JobQueue, QueueFullError


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    return str(save_generator(build_generator({"name": "resnet", "width": 4, "n_blocks": 1}), path))


@pytest.fixture(scope="module")
def client(tiny_model: str) -> TestClient:
    app = create_app(ModelPool({"tiny": tiny_model}, device="cpu"), device="cpu", max_pixels=5000)
    with TestClient(app) as test_client:
        yield test_client


def _photo(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (size[1], size[0], len(mode)), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels.squeeze(-1) if mode == "L" else pixels, mode).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "fmt", "media_type", "download"),
    [
        ("shot.jpg", "JPEG", "image/jpeg", "shot_deblurred.jpg"),
        ("IMG 1.JPG", "JPEG", "image/jpeg", "IMG 1_deblurred.JPG"),
        ("scan.png", "PNG", "image/png", "scan_deblurred.png"),
        ("web.webp", "WEBP", "image/webp", "web_deblurred.webp"),
        ("print.tif", "TIFF", "image/tiff", "print_deblurred.tif"),
        ("old.bmp", "BMP", "image/png", "old_deblurred.png"),  # unwritable: PNG, as the CLI
    ],
)
def test_deblur_answers_the_inputs_format_and_size(
    client: TestClient, name: str, fmt: str, media_type: str, download: str
) -> None:
    response = client.post("/api/deblur", files={"file": (name, _photo(fmt), "image/x")})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    assert (
        f"filename*=UTF-8''{download.replace(' ', '%20')}"
        in response.headers["content-disposition"]
    )
    restored = Image.open(io.BytesIO(response.content))
    assert restored.size == (40, 30)
    assert restored.format == ("PNG" if fmt == "BMP" else fmt)


def test_grey_upload_stays_grey_and_options_are_used(client: TestClient) -> None:
    response = client.post(
        "/api/deblur",
        files={"file": ("g.png", _photo("PNG", mode="L"), "image/png")},
        data={"model": "tiny", "tile_size": "16", "tile_overlap": "4", "quality": "80"},
    )
    assert response.status_code == 200, response.text
    assert Image.open(io.BytesIO(response.content)).mode == "L"
    assert response.headers["x-deblur-model"] == "tiny"


def _cli_problem(tmp_path: Path, model: str, name: str, data: bytes, *extra: str) -> str:
    """The problem the command line reports for the same bytes (after ``<path>: ``)."""
    source = tmp_path / name
    source.write_bytes(data)
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main([str(source), "-m", model, "-o", str(tmp_path / "out"), "-q", *extra]) == 1
    (line,) = [x for x in err.getvalue().splitlines() if x.startswith(str(source))]
    return line.removeprefix(f"{source}: ")


_JPEG = _photo("JPEG")
_PNG = _photo("PNG")


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("empty.jpg", b"", "file is empty"),
        ("notes.png", b"just some text, not pixels", "not an image"),
        ("cut.jpg", _JPEG[: len(_JPEG) // 2], "truncated"),
        ("cut.png", _PNG[:-20], "truncated"),
        ("huge.png", _photo("PNG", size=(100, 60)), "more than the limit of 5,000"),
    ],
)
def test_bad_images_get_the_command_lines_one_line_error(
    client: TestClient, tiny_model: str, tmp_path: Path, name: str, data: bytes, problem: str
) -> None:
    response = client.post("/api/deblur", files={"file": (name, data, "image/jpeg")})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith(f"{name}: ") and problem in detail and "\n" not in detail
    cli = _cli_problem(tmp_path, tiny_model, name, data, "--max-pixels", "5000")
    assert detail == f"{name}: {cli}"


def test_client_file_names_are_never_paths_and_are_escaped(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    evil = "../../x\x1b[2J1 restored<script>.png"
    response = client.post("/api/deblur", files={"file": (evil, b"", "image/png")})
    assert response.status_code == 422
    assert response.json()["detail"] == "x\\x1b[2J1 restored<script>.png: file is empty"
    ok = client.post("/api/deblur", files={"file": ("../../etc/\x1bowned.png", _PNG, "image/png")})
    assert ok.status_code == 200
    assert 'filename="owned_deblurred.png"' in ok.headers["content-disposition"]
    assert list(private.iterdir()) == []  # the private folder of each request is gone
    assert not (tmp_path.parent / "owned.png").exists()


def test_unknown_model_missing_file_and_bad_options_are_4xx(client: TestClient) -> None:
    files = {"file": ("a.png", _PNG, "image/png")}
    response = client.post("/api/deblur", files=files, data={"model": "nope"})
    assert response.status_code == 400
    assert response.json()["detail"] == "unknown model 'nope'; this server offers: tiny"
    response = client.post("/api/deblur")
    assert response.status_code == 422 and response.json()["detail"] == "file: Field required"
    response = client.post("/api/deblur", files=files, data={"tile_size": "8"})
    assert response.status_code == 422 and response.json()["detail"].startswith("tile_size: ")
    response = client.post(
        "/api/deblur", files=files, data={"tile_size": "32", "tile_overlap": "40"}
    )
    assert response.status_code == 422 and "tile_overlap" in response.json()["detail"]


def test_upload_over_the_limit_is_refused_before_it_is_read(tiny_model: str) -> None:
    app = create_app(ModelPool({"tiny": tiny_model}, device="cpu"), device="cpu", max_upload=4096)
    with TestClient(app) as test_client:
        declared = test_client.post(
            "/api/deblur", files={"file": ("big.png", b"x" * 5000, "image/png")}
        )
        fine = test_client.post("/api/deblur", files={"file": ("a.png", _PNG, "image/png")})
    assert declared.status_code == 413
    assert declared.json() == {"detail": too_large_message(4096)}
    assert fine.status_code == 200

    # A chunked body (no Content-Length) driven through the whole ASGI stack by hand, since the
    # test client reads a streamed body whole before the app sees it.
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
    pulled: list[int] = []
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        pulled.append(1)
        return {
            "type": "http.request",
            "body": head if len(pulled) == 1 else b"x" * 1024,
            "more_body": len(pulled) < 1000,
        }

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/deblur",
        "raw_path": b"/api/deblur",
        "root_path": "",
        "query_string": b"",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "headers": [(b"content-type", b"multipart/form-data; boundary=b")],
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert b"larger than the limit" in sent[1]["body"]  # type: ignore[operator]
    assert len(pulled) <= 6  # cut at the 5th KiB, not after 1000


def test_models_health_docs_and_page_routes(client: TestClient) -> None:
    models = client.get("/api/models").json()
    assert models["default"] == "tiny"
    assert models["models"][0]["name"] == "tiny" and models["models"][0]["default"] is True
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["queue"]["workers"] == 1
    schema = client.get("/openapi.json").json()
    assert {"/api/deblur", "/api/models", "/healthz"} <= set(schema["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
    for html in (docs.text, client.get("/").text):
        urls = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
        assert urls and all(u.startswith("/") or u == "#" for u in urls), urls
    for asset in re.findall(r"""(?:src|href)=["'](/[^"']+)""", docs.text + client.get("/").text):
        assert client.get(asset).status_code == 200, asset
    page = client.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert (
        client.get("/static/app.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )


class _GatedModel(nn.Module):
    """Identity that waits for ``gate``: holds the single worker busy while the test looks."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        assert self.gate.wait(10)
        return x


def _wait_until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_full_queue_answers_503_with_retry_after() -> None:
    model = _GatedModel()
    pool = ModelPool({"gated": "(in memory)"}, loaded={"gated": model})
    app = create_app(pool, device="cpu", workers=1, max_waiting=1, retry_after=7)
    queue = app.state.queue
    files = {"file": ("a.png", _PNG, "image/png")}
    results: dict[str, int] = {}
    with TestClient(app) as test_client:

        def post(key: str) -> None:
            results[key] = test_client.post("/api/deblur", files=files).status_code

        first = threading.Thread(target=post, args=("first",))
        first.start()
        _wait_until(lambda: queue.stats()["running"] == 1)
        second = threading.Thread(target=post, args=("second",))
        second.start()
        _wait_until(lambda: queue.stats()["waiting"] == 1)
        refused = test_client.post("/api/deblur", files=files)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "7"
        assert refused.json()["detail"].startswith("server busy: 1 job(s) running and 1 waiting")
        model.gate.set()
        first.join(10)
        second.join(10)
    assert results == {"first": 200, "second": 200}
    assert model.calls == 2 and queue.stats()["refused"] == 1


def test_queue_drops_a_job_whose_client_left() -> None:
    queue = JobQueue(workers=1, max_waiting=2, poll_seconds=0.01)
    gate = threading.Event()
    ran: list[str] = []

    def job(name: str) -> str:
        ran.append(name)
        gate.wait(5)
        return name

    async def scenario() -> None:
        first = asyncio.ensure_future(queue.run(job, "first"))
        while queue.stats()["running"] == 0:
            await asyncio.sleep(0.005)
        gone = False

        async def is_gone() -> bool:
            return gone

        second = asyncio.ensure_future(queue.run(job, "second", is_gone=is_gone))
        await asyncio.sleep(0.05)
        assert queue.stats()["waiting"] == 1
        gone = True
        with pytest.raises(ClientGoneError):
            await second
        assert queue.stats()["waiting"] == 0
        queue.max_waiting = 0
        with pytest.raises(QueueFullError):
            await queue.run(job, "third")
        gate.set()
        assert await first == "first"

    asyncio.run(scenario())
    assert ran == ["first"]
    assert queue.stats() | {"max_waiting": 2} == {
        "running": 0,
        "waiting": 0,
        "workers": 1,
        "max_waiting": 2,
        "done": 1,
        "dropped": 1,
        "refused": 1,
    }


def test_serve_command_loads_first_prints_address_and_runs_uvicorn(
    tiny_model: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch
    import uvicorn

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    threads = torch.get_num_threads()
    monkeypatch.setattr(torch, "set_num_threads", lambda n: started.update(threads=n))
    argv = ["serve", "-m", tiny_model, "--port", "8123", "--device", "cpu", "--threads", "1"]
    assert main(argv) == 0
    assert started["threads"] == 1 and torch.get_num_threads() == threads
    out = capsys.readouterr().out
    assert "open http://127.0.0.1:8123/" in out and "tiny, default" in out
    assert started["host"] == "127.0.0.1" and started["port"] == 8123
    pool = started["app"].state.pool  # type: ignore[attr-defined]
    assert pool.names() == ["tiny", "default"] and pool.is_loaded("tiny")
    assert not pool.is_loaded("default")  # loaded on its first request only


def test_serve_command_refuses_a_bad_model_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "-m", str(tmp_path / "missing.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deblur serve: error: cannot load model 'missing'") and "\n" not in err
    assert main(["serve", "--tile-size", "32", "--tile-overlap", "32"]) == 2
