"""The page of ``deblur serve`` in a real browser: Playwright driving Debian's Chromium, headless,
against the real command started here on a free loopback port with the shipped model.

Run alone with ``pytest -m browser``. Chromium comes from ``make chromium`` (Debian's package;
Playwright's own browser download is not used), or from ``$DEBLURGAN_CHROMIUM``. Without it these
tests skip, except under CI, where they fail. Screenshots go to the test's tmp folder;
``DEBLURGAN_UPDATE_SCREENSHOT=1`` also copies the phone one to ``docs/images/serve.png``.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web extra is not installed")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "examples" / "chelsea_blurry.jpg"


def _chromium() -> str:
    found = os.environ.get("DEBLURGAN_CHROMIUM") or shutil.which("chromium")
    found = found or shutil.which("chromium-browser")
    if not found:
        message = "no Chromium: run 'make chromium' (or set DEBLURGAN_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``deblur serve`` in a child process; yields its address once /healthz answers."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env["DEBLURGAN_CACHE"] = str(tmp_path_factory.mktemp("cache"))  # offers the shipped model
    log = (tmp_path_factory.mktemp("server") / "serve.log").open("w+")
    command = [sys.executable, "-m", "deblurgan", "serve", "--port", str(port), "--device", "cpu"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"deblur serve did not start:\n{log.read()}")
            time.sleep(0.1)
        log.seek(0)
        assert f"open {url}/" in log.read()  # the command prints its address
        yield url
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real blurry photo, scaled down: the shipped model restores it in a fraction of a second."""
    path = tmp_path_factory.mktemp("photos") / "chelsea blurry.jpg"
    with Image.open(PHOTO) as image:
        image.resize((180, 120), Image.Resampling.LANCZOS).save(path, quality=92)
    return path


def _open_page(browser: Any, server: str, **context: Any) -> tuple[Any, list[str]]:
    page = browser.new_context(accept_downloads=True, **context).new_page()
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((server, "blob:", "data:"))
            else foreign.append(request.url)
        ),
    )
    page.goto(server)
    page.wait_for_selector("#model option", state="attached")
    return page, foreign


def test_page_restores_a_photo_with_slider_zoom_and_download(
    browser: Any, server: str, photo: Path, tmp_path: Path
) -> None:
    page, foreign = _open_page(browser, server, viewport={"width": 1100, "height": 900})
    assert page.locator("#model").input_value() == "default"
    page.set_input_files("#files", str(photo))
    item = page.locator(".item").first
    item.and_(page.locator("[data-state=done]")).wait_for(timeout=30_000)
    assert item.locator(".name").inner_text() == photo.name

    # The slider uncovers more or less of the original.
    item.locator(".slider").fill("20")
    clip = item.locator(".before").evaluate("img => getComputedStyle(img).clipPath")
    assert clip.replace("px", "") == "inset(0 80% 0 0)"
    # A tap on the picture magnifies that region of both images.
    box = item.locator(".compare").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75)
    assert item.get_attribute("data-zoom") == "0.250,0.750"
    painted = item.locator(".zoom-after").evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v > 0)"
    )
    assert painted
    page.screenshot(path=tmp_path / "desktop.png", full_page=True)

    with page.expect_download() as download_info:
        item.locator(".download").click()
    download = download_info.value
    assert download.suggested_filename == "chelsea blurry_deblurred.jpg"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with Image.open(saved) as restored, Image.open(photo) as original:
        assert restored.format == "JPEG" and restored.size == original.size
    assert foreign == []  # every script, style and request stays on this server


def test_broken_file_shows_its_error_beside_it(browser: Any, server: str, photo: Path) -> None:
    page, foreign = _open_page(browser, server)
    data = photo.read_bytes()
    page.set_input_files(
        "#files",
        [
            {
                "name": "<img src=x onerror=alert(1)>.jpg",
                "mimeType": "image/jpeg",
                "buffer": data[: len(data) // 2],
            },
            {"name": "notes.png", "mimeType": "image/png", "buffer": b"not pixels"},
        ],
    )
    errors = page.locator(".item[data-state=error] .error")
    errors.nth(1).wait_for(timeout=30_000)
    first, second = errors.all_inner_texts()
    assert first.startswith("<img src=x onerror=alert(1)>.jpg: ") and "truncated" in first
    assert second == "notes.png: not an image file, or an unsupported image format"
    assert page.locator(".item .name img").count() == 0  # the name is shown as text
    assert foreign == []


def test_phone_layout_fits_390_by_844(
    browser: Any, server: str, photo: Path, tmp_path: Path
) -> None:
    page, _ = _open_page(
        browser,
        server,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page.set_input_files("#files", str(photo))
    page.locator(".item[data-state=done]").wait_for(timeout=30_000)
    page.locator(".item .slider").fill("35")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    for selector in ("#drop", ".item .compare", ".item .download", ".item .slider", "#model"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
    shot = tmp_path / "phone.png"
    page.screenshot(path=shot, full_page=True)
    assert Image.open(io.BytesIO(shot.read_bytes())).size[0] == 390 * 2
    if os.environ.get("DEBLURGAN_UPDATE_SCREENSHOT"):
        target = ROOT / "docs" / "images" / "serve.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(shot) as image:  # 256 colours: a third of the size, same look
            image.convert("RGB").quantize(256).save(target, optimize=True)
