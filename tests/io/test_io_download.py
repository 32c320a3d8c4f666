"""The one downloader against a local HTTP server: cache keys, verification, limits, secrets."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from deblurgan.io import DownloadError, UnsafeURLError, cache_dir, download, redact_url
from deblurgan.io.download import (
    cached_download_path,
    check_file_kind,
    check_url,
    list_downloads,
)

if TYPE_CHECKING:
    from conftest import LocalServer

SAFETENSORS = b"\x0e\x00\x00\x00\x00\x00\x00\x00" + b'{"a":"b"}     ' + b"payload"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _leftovers(path: Path) -> list[Path]:
    """Everything in an entry's folder: a failed download must leave nothing there."""
    return sorted(path.parent.iterdir()) if path.parent.exists() else []


def test_cache_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path / "explicit"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("DEBLURGAN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "deblurgan"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "deblurgan"


def test_whole_url_keys_the_cache(http_server: LocalServer, tmp_path: Path) -> None:
    a = http_server.serve("/a/generator.pt", b"PK\x03\x04 model A")
    b = http_server.serve("/b/generator.pt", b"PK\x03\x04 model B")
    path_a, path_b = download(a, cache=tmp_path), download(b, cache=tmp_path)
    assert path_a != path_b and path_a.name == path_b.name == "generator.pt"
    assert path_a.read_bytes().endswith(b"A") and path_b.read_bytes().endswith(b"B")
    # Cached: a second call makes no request.
    assert download(a, cache=tmp_path) == path_a and download(b, cache=tmp_path) == path_b
    assert http_server.hits["/a/generator.pt"] == 1 and http_server.hits["/b/generator.pt"] == 1
    # A known sha256 is part of the key: its own entry, verified.
    with_sha = download(a, sha256=_sha(b"PK\x03\x04 model A"), cache=tmp_path)
    assert with_sha != path_a and with_sha.read_bytes() == path_a.read_bytes()
    assert {r["url"] for r in list_downloads(tmp_path)} == {a, b}


def test_sha256_mismatch_caches_nothing(http_server: LocalServer, tmp_path: Path) -> None:
    url = http_server.serve("/g.safetensors", SAFETENSORS)
    wrong = "0" * 64
    with pytest.raises(DownloadError, match=r"sha256 mismatch.*nothing was cached") as info:
        download(url, sha256=wrong, cache=tmp_path)
    assert "\n" not in str(info.value)
    assert _leftovers(cached_download_path(url, sha256=wrong, cache=tmp_path)) == []
    good = download(url, sha256="sha256:" + _sha(SAFETENSORS).upper(), cache=tmp_path)
    assert good.read_bytes() == SAFETENSORS
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        download(url, sha256="abc", cache=tmp_path)


def test_a_cut_transfer_never_stays_and_a_later_good_one_succeeds(
    http_server: LocalServer, tmp_path: Path
) -> None:
    url = http_server.serve("/g.safetensors", SAFETENSORS[:20], length=len(SAFETENSORS))
    with pytest.raises(DownloadError, match=f"transfer cut after 20 of {len(SAFETENSORS)} bytes"):
        download(url, cache=tmp_path)
    target = cached_download_path(url, cache=tmp_path)
    assert not target.exists() and _leftovers(target) == []
    http_server.serve("/g.safetensors", SAFETENSORS)  # the server is fixed
    assert download(url, cache=tmp_path).read_bytes() == SAFETENSORS


def test_an_html_error_page_is_refused(http_server: LocalServer, tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><body>Sign in to continue</body></html>"
    url = http_server.serve("/w.safetensors", page, content_type="text/html")
    with pytest.raises(DownloadError, match="an HTML page, not a safetensors file"):
        download(url, cache=tmp_path)
    assert _leftovers(cached_download_path(url, cache=tmp_path)) == []
    # Without a known kind the HTML check still holds; with one the magic bytes must match.
    url = http_server.serve("/w.bin", page)
    with pytest.raises(DownloadError, match="HTML page"):
        download(url, cache=tmp_path)
    url = http_server.serve("/x.safetensors", b"not a safetensors file at all")
    with pytest.raises(DownloadError, match="does not start like a safetensors file"):
        download(url, cache=tmp_path)


def test_http_errors_and_a_check_hook(http_server: LocalServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"/missing.pt: HTTP 404"):
        download(http_server.url + "/missing.pt", cache=tmp_path)
    url = http_server.serve("/g.pt", b"PK\x03\x04 zip")

    def refuse(path: Path) -> None:
        raise ValueError(f"{path.stat().st_size} bytes is not enough")

    with pytest.raises(DownloadError, match="8 bytes is not enough; nothing was cached"):
        download(url, check=refuse, cache=tmp_path)
    with pytest.raises(DownloadError, match="expected 99"):
        download(url, size=99, cache=tmp_path)
    assert download(url, size=8, cache=tmp_path).stat().st_size == 8


def _stall_before_headers(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    stop.wait(10)


def _stall_mid_body(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(b"PK\x03\x04")
    handler.wfile.flush()
    stop.wait(10)


def test_a_stalled_server_times_out(http_server: LocalServer, tmp_path: Path) -> None:
    http_server.routes["/before.pt"] = _stall_before_headers
    http_server.routes["/during.pt"] = _stall_mid_body
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"no response within 0.3 s \(read timeout\)"):
        download(http_server.url + "/before.pt", read_timeout=0.3, cache=tmp_path)
    with pytest.raises(DownloadError, match=r"stalled: no data for 0.3 s after 4 bytes"):
        download(http_server.url + "/during.pt", read_timeout=0.3, cache=tmp_path)
    assert time.monotonic() - start < 5
    assert _leftovers(cached_download_path(http_server.url + "/during.pt", cache=tmp_path)) == []


def _endless(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    handler.send_response(200)
    handler.end_headers()  # no Content-Length: the body ends when the connection does
    block = b"\x00" * 65536
    while not stop.is_set():
        handler.wfile.write(block)


def test_an_endless_stream_stops_at_the_size_limit(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.routes["/endless.pt"] = _endless
    url = http_server.url + "/endless.pt"
    with pytest.raises(DownloadError, match="more than the size limit of 300000 bytes"):
        download(url, max_bytes=300_000, cache=tmp_path)
    assert _leftovers(cached_download_path(url, cache=tmp_path)) == []
    # An announced size over the limit is refused before the body is read.
    big = http_server.serve("/big.pt", b"PK\x03\x04" + b"\x00" * 5000)
    with pytest.raises(DownloadError, match="5004 bytes, over the size limit of 1000"):
        download(big, max_bytes=1000, cache=tmp_path)
    assert download(big, max_bytes=10_000, cache=tmp_path).stat().st_size == 5004


def test_a_password_is_sent_but_never_shown(
    http_server: LocalServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def private(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        if handler.headers.get("Authorization") != "Basic YW5uOnMzY3JldA==":  # ann:s3cret
            handler.send_error(401, "Unauthorized")
            return
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(SAFETENSORS)))
        handler.end_headers()
        handler.wfile.write(SAFETENSORS)

    http_server.routes["/private/g.safetensors"] = private
    host = http_server.url.removeprefix("http://")
    url = f"http://ann:s3cret@{host}/private/g.safetensors"
    with caplog.at_level(logging.DEBUG, logger="deblurgan"):
        path = download(url, cache=tmp_path)
        assert path.read_bytes() == SAFETENSORS
        with pytest.raises(DownloadError) as info:
            download(f"http://ann:s3cret@{host}/private/other.pt", cache=tmp_path)
    assert "HTTP 404" in str(info.value) and "ann:***@" in str(info.value)
    on_disk = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*.json"))
    for text in (str(info.value), caplog.text, on_disk, str(path)):
        assert "s3cret" not in text
    assert redact_url(url) == f"http://ann:***@{host}/private/g.safetensors"
    with pytest.raises(UnsafeURLError) as refused:
        download("http://ann:s3cret@example.org/g.pt", cache=tmp_path)
    assert "s3cret" not in str(refused.value)


def test_only_https_and_loopback_http(http_server: LocalServer, tmp_path: Path) -> None:
    for url in ("http://example.org/g.pt", "http://10.0.0.1/g.pt", "http://[::ffff:8.8.8.8]/g"):
        with pytest.raises(UnsafeURLError, match="plain http is allowed only to a loopback"):
            download(url, cache=tmp_path)
    for url in ("file:///etc/passwd", "ftp://host/g.pt", "data:,x"):
        with pytest.raises(UnsafeURLError):
            check_url(url)
    check_url("https://example.org/g.pt")
    check_url("http://localhost:1/g.pt")
    check_url("http://[::1]:1/g.pt")
    check_url("http://example.org/g.pt", allow_http=True)
    assert not (tmp_path / "downloads").exists()  # refused before anything was written

    def redirect(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        handler.send_response(302)
        handler.send_header("Location", "http://example.org/g.pt")
        handler.end_headers()

    http_server.routes["/moved.pt"] = redirect
    with pytest.raises(UnsafeURLError, match="refused redirect"):
        download(http_server.url + "/moved.pt", cache=tmp_path)


def test_file_kinds(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(SAFETENSORS)
    check_file_kind(path, "safetensors")
    with pytest.raises(ValueError, match="does not start like a zip archive"):
        check_file_kind(path, "zip")
    path.write_bytes(b"\x80\x02}q\x00.")  # a legacy torch.save pickle
    check_file_kind(path, "torch")
    with pytest.raises(ValueError, match="unknown file kind"):
        check_file_kind(path, "exe")
