"""The one downloader of the package: a verified, size-limited, time-limited fetch into a cache.

Everything the package fetches by URL (``load_generator(URL)``, ``deblur --model URL``, backbone
weights by URL) goes through :func:`download`. Its guarantees:

- **The cache is keyed by the whole source**: the URL (less its password) and the expected
  sha256 when one is known, never by the file name alone, so ``http://a/x/g.pt`` and
  ``http://a/y/g.pt`` are two entries. An entry is ``<cache>/downloads/<key>/<file name>``.
- **Nothing unverified enters the cache**: the body goes to a temporary file in the entry's
  folder; its size (the ``Content-Length``, an expected size, the size limit), its sha256 (when
  given), its header (an HTML page where a weights file is expected is refused; a known kind is
  checked by its magic bytes) and an optional check hook are verified before an atomic rename
  to the final name. A cut transfer, an error page or a refused file leaves nothing behind.
- **Bounded**: a connect timeout, a read timeout (the longest wait for the next bytes, which
  catches a stalled server) and a size limit (an endless stream stops there).
- **Only https, and http to a loopback host**, unless ``allow_http=True``; redirects obey the
  same rule. A password in a URL is sent as HTTP basic authentication, never forwarded on a
  redirect, and never appears in a log line or an error (see :func:`redact_url`).

Errors are one line: :class:`UnsafeURLError` (a ``ValueError``) for a source refused before any
connection, :class:`DownloadError` (an ``OSError``) for a failed transfer or verification. Only
the standard library is used.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.client
import ipaddress
import json
import logging
import os
import re
import socket
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from deblurgan.io.atomic import atomic_write_text
from deblurgan.io.errors import one_line

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "FILE_KINDS",
    "DownloadError",
    "UnsafeURLError",
    "cache_dir",
    "cached_download_path",
    "check_file_kind",
    "check_url",
    "download",
    "file_kind_for_name",
    "is_url",
    "list_downloads",
    "redact_url",
    "sha256_file",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 * 1024**3
"""The default size limit of one download (2 GiB); ``max_bytes`` raises it."""
DEFAULT_CONNECT_TIMEOUT = 20.0
"""Seconds to wait for a connection (TCP and TLS handshake)."""
DEFAULT_READ_TIMEOUT = 60.0
"""Seconds to wait for the next bytes of the response before giving up on a stalled server."""

_CHUNK = 1 << 20
_STALE_TEMP_SECONDS = 24 * 3600
_SIDECAR = ".source.json"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class DownloadError(OSError):
    """A transfer that failed or a file that failed verification; the message is one line.

    Example:
        >>> str(DownloadError("https://host/g.pt: HTTP 404 Not Found"))
        'https://host/g.pt: HTTP 404 Not Found'
    """

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))

    def __str__(self) -> str:
        return str(self.args[0])


class UnsafeURLError(ValueError):
    """A source refused before any connection: scheme, host or form; the message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def is_url(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` is a URL (``scheme://...``) rather than a path.

    Example:
        >>> is_url("https://host/g.pt"), is_url("runs/g.pt"), is_url("C:/g.pt")
        (True, False, False)
    """
    return isinstance(source, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source) is not None


def redact_url(url: str) -> str:
    """``url`` with the password of its user info replaced by ``***`` (for logs and messages).

    Example:
        >>> redact_url("https://ann:s3cret@host:8443/a/g.pt?x=1")
        'https://ann:***@host:8443/a/g.pt?x=1'
        >>> redact_url("https://host/g.pt")
        'https://host/g.pt'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed URL>"
    if parts.password is None and "@" not in parts.netloc:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{user}:***@{host}" if parts.password is not None else f"{user}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _scrub(text: str, url: str) -> str:
    """``text`` with any copy of ``url``'s password (raw or %-decoded) replaced by ``***``."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    for secret in {password, unquote(password)} if password else ():
        if secret:
            text = text.replace(secret, "***")
    return text


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_http: bool = False) -> None:
    """Refuse a URL the downloader must not fetch.

    Allowed: ``https://``; ``http://`` to a loopback host (``localhost``, ``127.0.0.0/8``,
    ``::1``), or to any host with ``allow_http``. Every other scheme (``file``, ``ftp``, ...) is
    refused.

    Raises:
        UnsafeURLError: the URL is malformed, has no host or uses a refused scheme or host.

    Example:
        >>> check_url("http://127.0.0.1:8000/g.pt")
        >>> check_url("http://example.org/g.pt")
        Traceback (most recent call last):
        ...
        deblurgan.io.download.UnsafeURLError: http://example.org/g.pt: plain http is allowed only \
to a loopback host; use https (or allow http explicitly)
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise UnsafeURLError(f"{shown}: malformed URL ({_scrub(str(exc), url)})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURLError(f"{shown}: only https (and loopback http) URLs are fetched")
    if not host:
        raise UnsafeURLError(f"{shown}: the URL names no host")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UnsafeURLError(f"{shown!r}: the URL contains whitespace or control characters")
    if scheme == "http" and not allow_http and not _is_loopback(host):
        raise UnsafeURLError(
            f"{shown}: plain http is allowed only to a loopback host; use https "
            "(or allow http explicitly)"
        )


def cache_dir() -> Path:
    """The package's cache folder (downloads and fetched weights); it may not exist yet.

    ``$DEBLURGAN_CACHE`` if set, else ``$XDG_CACHE_HOME/deblurgan``, else
    ``~/.cache/deblurgan``.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"DEBLURGAN_CACHE": "/tmp/dg-cache"}):
        ...     str(cache_dir())
        '/tmp/dg-cache'
    """
    explicit = os.environ.get("DEBLURGAN_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "deblurgan"
    return Path.home() / ".cache" / "deblurgan"


def _key_url(url: str) -> str:
    """The URL the cache key is made of: the whole URL less the password (kept out of disk)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def _file_name(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    name = _SAFE_NAME.sub("_", name).strip("._")[-120:]
    return name or "download"


def _normalise_sha256(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    text = sha256.strip().lower()
    text = text.removeprefix("sha256:")
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    return text


def cached_download_path(
    url: str, *, sha256: str | None = None, cache: str | os.PathLike[str] | None = None
) -> Path:
    """Where :func:`download` keeps ``url`` (with this expected ``sha256``); it may not exist.

    The folder name is a digest of the whole URL (less its password) and the sha256, so two
    URLs that end with the same file name never share an entry.

    Example:
        >>> a = cached_download_path("https://h/a/g.pt", cache="/c")
        >>> b = cached_download_path("https://h/b/g.pt", cache="/c")
        >>> a.name == b.name == "g.pt", a != b, a.parent.parent == Path("/c/downloads")
        (True, True, True)
    """
    digest = _normalise_sha256(sha256)
    key = hashlib.sha256(f"{_key_url(url)}\n{digest or ''}".encode()).hexdigest()[:24]
    root = Path(cache) if cache is not None else cache_dir()
    return root / "downloads" / key / _file_name(url)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file, as 64 lower-case hexadecimal digits.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "x"
        >>> _ = path.write_bytes(b"abc")
        >>> sha256_file(path)[:16]
        'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


FILE_KINDS: dict[str, str] = {
    "safetensors": "a safetensors file (8-byte header length, then a JSON header)",
    "torch": "a PyTorch file (a zip archive or a pickle)",
    "zip": "a zip archive",
    "gzip": "a gzip file (.gz, .tgz, .tar.gz)",
    "tar": "a tar archive",
}
"""The kinds :func:`check_file_kind` recognises by their first bytes."""


def file_kind_for_name(name: str) -> str | None:
    """The kind of file a name announces, or ``None`` when its extension says nothing.

    Example:
        >>> file_kind_for_name("g.safetensors"), file_kind_for_name("v.tar.gz")
        ('safetensors', 'gzip')
        >>> file_kind_for_name("notes.txt") is None
        True
    """
    lower = name.lower()
    if lower.endswith(".safetensors"):
        return "safetensors"
    if lower.endswith((".pt", ".pth", ".ckpt")):
        return "torch"
    if lower.endswith(".zip"):
        return "zip"
    if lower.endswith((".gz", ".tgz")):
        return "gzip"
    if lower.endswith(".tar"):
        return "tar"
    return None


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml"))


def check_file_kind(path: str | os.PathLike[str], kind: str | None) -> None:
    """Refuse a file whose first bytes are not what ``kind`` promises, or that is an HTML page.

    An HTML page (a login or error page served with status 200) is refused for every kind,
    ``None`` included.

    Args:
        path: the file.
        kind: a key of :data:`FILE_KINDS`, or ``None`` for the HTML check alone.

    Raises:
        ValueError: the file is an HTML page or does not start like ``kind``.

    Example:
        >>> import tempfile
        >>> page = Path(tempfile.mkdtemp()) / "g.safetensors"
        >>> _ = page.write_bytes(b"<!DOCTYPE html><title>404</title>")
        >>> check_file_kind(page, "safetensors")
        Traceback (most recent call last):
        ...
        ValueError: got an HTML page, not a safetensors file (8-byte header length, then a JSON \
header)
    """
    if kind is not None and kind not in FILE_KINDS:
        raise ValueError(f"unknown file kind {kind!r}; valid: {', '.join(FILE_KINDS)}")
    with open(path, "rb") as file:
        head = file.read(512)
    expected = FILE_KINDS[kind] if kind is not None else "the expected file"
    if _looks_like_html(head):
        raise ValueError(f"got an HTML page, not {expected}")
    ok = True
    if kind == "safetensors":
        size = Path(path).stat().st_size
        length = int.from_bytes(head[:8], "little") if len(head) >= 8 else -1
        ok = 0 < length <= size - 8 and head[8:9] == b"{"
    elif kind == "torch":
        ok = head.startswith(b"PK\x03\x04") or (len(head) >= 2 and head[0] == 0x80)
    elif kind == "zip":
        ok = head.startswith(b"PK\x03\x04")
    elif kind == "gzip":
        ok = head.startswith(b"\x1f\x8b")
    elif kind == "tar":
        with open(path, "rb") as file:
            file.seek(257)
            ok = file.read(5) == b"ustar"
    if not ok:
        raise ValueError(f"the file does not start like {expected}")


# --- the transfer -------------------------------------------------------------------------------


class _ReadTimeoutMixin:
    """A connection that waits ``connect_timeout`` to connect and ``read_timeout`` per read."""

    sock: socket.socket | None

    def __init__(self, *args: Any, read_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timeout = read_timeout

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        if self.sock is not None:
            self.sock.settimeout(self._read_timeout)


class _HTTPConnection(_ReadTimeoutMixin, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_ReadTimeoutMixin, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, read_timeout: float) -> None:
        super().__init__()
        self._read_timeout = read_timeout

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_HTTPConnection, read_timeout=self._read_timeout)
        return self.do_open(connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, read_timeout: float) -> None:
        self._ssl_context = ssl.create_default_context()
        super().__init__(context=self._ssl_context)
        self._read_timeout = read_timeout

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_HTTPSConnection, read_timeout=self._read_timeout)
        return self.do_open(connection, req, context=self._ssl_context)


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL :func:`check_url` accepts."""

    def __init__(self, allow_http: bool) -> None:
        super().__init__()
        self._allow_http = allow_http

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        try:
            check_url(newurl, allow_http=self._allow_http)
        except UnsafeURLError as exc:
            raise UnsafeURLError(f"refused redirect: {exc}") from None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@functools.cache
def _user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"deblurgan/{version('deblurgan')}"
    except PackageNotFoundError:
        return "deblurgan"


def _request(url: str) -> tuple[urllib.request.Request, bool]:
    """The request for ``url``: credentials moved from the URL into an unredirected header."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    request = urllib.request.Request(urlunsplit(parts._replace(netloc=host)))
    request.add_header("User-Agent", _user_agent())
    request.add_header("Accept-Encoding", "identity")
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        token = base64.b64encode(pair.encode()).decode()
        # Unredirected: the credentials never follow a redirect to another host.
        request.add_unredirected_header("Authorization", f"Basic {token}")
    return request, _is_loopback(parts.hostname or "")


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporary files of transfers killed more than a day ago (never a complete download)."""
    now = time.time()
    for path in folder.glob(".*.part"):
        try:
            if now - path.stat().st_mtime > _STALE_TEMP_SECONDS:
                path.unlink()
        except OSError:
            pass


def _transfer(
    url: str,
    file: Any,
    *,
    max_bytes: int,
    size: int | None,
    connect_timeout: float,
    read_timeout: float,
    allow_http: bool,
    progress: Callable[[int, int | None], None] | None,
) -> int:
    """Stream ``url``'s body into ``file``; returns the byte count. One-line errors."""
    shown = redact_url(url)
    request, loopback = _request(url)
    handlers: list[Any] = [
        _HTTPHandler(read_timeout),
        _HTTPSHandler(read_timeout),
        _CheckedRedirects(allow_http),
    ]
    if loopback:
        handlers.append(urllib.request.ProxyHandler({}))  # never send loopback to a proxy
    opener = urllib.request.build_opener(*handlers)
    try:
        response = opener.open(request, timeout=connect_timeout)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{shown}: HTTP {exc.code} {_scrub(str(exc.reason), url)}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise DownloadError(
                f"{shown}: timed out ({connect_timeout:g} s to connect, {read_timeout:g} s to "
                "start the response)"
            ) from None
        raise DownloadError(f"{shown}: cannot connect ({_scrub(str(reason), url)})") from None
    except TimeoutError:
        raise DownloadError(
            f"{shown}: no response within {read_timeout:g} s (read timeout)"
        ) from None
    except http.client.InvalidURL as exc:
        raise UnsafeURLError(f"{shown}: malformed URL ({_scrub(str(exc), url)})") from None
    except (http.client.HTTPException, OSError) as exc:
        raise DownloadError(f"{shown}: {_scrub(one_line(exc), url)}") from None
    with response:
        length_text = response.headers.get("Content-Length")
        try:
            length = int(length_text) if length_text is not None else None
        except ValueError:
            length = None
        if length is not None and length > max_bytes:
            raise DownloadError(
                f"{shown}: the file is {length} bytes, over the size limit of {max_bytes} "
                "bytes (raise the limit to fetch it)"
            )
        if length is not None and size is not None and length != size:
            raise DownloadError(f"{shown}: the server sends {length} bytes, expected {size}")
        received = 0
        while True:
            try:
                block = response.read1(min(_CHUNK, max_bytes + 1 - received))
            except TimeoutError:
                raise DownloadError(
                    f"{shown}: stalled: no data for {read_timeout:g} s after {received} bytes "
                    "(read timeout)"
                ) from None
            except http.client.IncompleteRead as exc:
                received += len(exc.partial)
                raise DownloadError(
                    f"{shown}: transfer cut after {received} of {length} bytes"
                ) from None
            except (http.client.HTTPException, OSError) as exc:
                raise DownloadError(
                    f"{shown}: transfer failed after {received} bytes ({_scrub(str(exc), url)})"
                ) from None
            if not block:
                break
            received += len(block)
            if received > max_bytes:
                raise DownloadError(
                    f"{shown}: more than the size limit of {max_bytes} bytes; stopped "
                    "(raise the limit to fetch it)"
                )
            file.write(block)
            if progress is not None:
                progress(received, length)
    if length is not None and received != length:
        raise DownloadError(f"{shown}: transfer cut after {received} of {length} bytes")
    return received


def download(
    url: str,
    *,
    sha256: str | None = None,
    size: int | None = None,
    kind: str | None = None,
    check: Callable[[Path], None] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    allow_http: bool = False,
    cache: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Fetch ``url`` once into the cache, verified, and return the cached file.

    A cached entry is returned without a request (re-hashed first when ``sha256`` is given; a
    damaged entry is fetched again). Otherwise the body is written to a temporary file beside the
    entry, verified, and renamed into place; on any failure the temporary file is removed.

    Args:
        url: an https URL, or an http URL to a loopback host (any host with ``allow_http``).
            ``https://user:password@host/...`` sends basic authentication.
        sha256: the expected sha256 (64 hex digits, ``sha256:`` prefix allowed); part of the
            cache key.
        size: the expected size in bytes.
        kind: what the file must start like (a key of :data:`FILE_KINDS`); default: from the
            URL's file name (:func:`file_kind_for_name`). HTML pages are always refused.
        check: a further check of the temporary file; it raises ``ValueError`` to refuse it.
        max_bytes: the size limit (default :data:`DEFAULT_MAX_BYTES`).
        connect_timeout: seconds to wait for the connection.
        read_timeout: seconds to wait for each next part of the response.
        allow_http: allow plain http to any host.
        cache: the cache folder (default :func:`cache_dir`).
        force: fetch again even when the entry exists.
        progress: called with ``(bytes received, total or None)`` after each block.

    Returns:
        The cached file, ``<cache>/downloads/<key>/<file name>``.

    Raises:
        UnsafeURLError: the URL is refused (scheme, host, form) or redirects to a refused one.
        DownloadError: HTTP error, timeout, cut transfer, size limit, sha256 mismatch, wrong kind.
        ValueError: a malformed ``sha256`` or ``kind``.

    Example:
        >>> download("ftp://host/g.pt")
        Traceback (most recent call last):
        ...
        deblurgan.io.download.UnsafeURLError: ftp://host/g.pt: only https (and loopback http) \
URLs are fetched
    """
    check_url(url, allow_http=allow_http)
    expected = _normalise_sha256(sha256)
    if kind is None:
        kind = file_kind_for_name(_file_name(url))
    elif kind not in FILE_KINDS:
        raise ValueError(f"unknown file kind {kind!r}; valid: {', '.join(FILE_KINDS)}")
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    shown = redact_url(url)
    target = cached_download_path(url, sha256=expected, cache=cache)
    if target.is_file() and not force:
        if expected is None or sha256_file(target) == expected:
            logger.info("using the cached download of %s: %s", shown, target)
            return target
        logger.warning("cached %s does not match its sha256; fetching it again", target)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache folder {folder}: {exc.strerror}") from None
    _remove_stale_temporaries(folder)
    handle, temporary_name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")
    temporary = Path(temporary_name)
    logger.info("downloading %s to %s", shown, target)
    try:
        with os.fdopen(handle, "wb") as file:
            received = _transfer(
                url,
                file,
                max_bytes=max_bytes,
                size=size,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                allow_http=allow_http,
                progress=progress,
            )
            file.flush()
            os.fsync(file.fileno())
        if size is not None and received != size:
            raise DownloadError(f"{shown}: received {received} bytes, expected {size}")
        if expected is not None:
            actual = sha256_file(temporary)
            if actual != expected:
                raise DownloadError(
                    f"{shown}: sha256 mismatch: expected {expected}, got {actual}; "
                    "nothing was cached"
                )
        try:
            check_file_kind(temporary, kind)
            if check is not None:
                check(temporary)
        except ValueError as exc:
            raise DownloadError(f"{shown}: {one_line(exc)}; nothing was cached") from None
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        record = {
            "url": shown,
            "sha256": expected or sha256_file(temporary),
            "sha256_given": expected is not None,
            "size": received,
            "file": target.name,
            "fetched": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        atomic_write_text(folder / _SIDECAR, json.dumps(record, indent=2) + "\n")
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    logger.info("downloaded %s (%d bytes) to %s", shown, received, target)
    return target


def list_downloads(cache: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The complete downloads in the cache: ``{url, sha256, size, file, fetched, path}`` each.

    ``url`` is the redacted source. Entries without their file (never complete) are left out.

    Example:
        >>> import tempfile
        >>> list_downloads(tempfile.mkdtemp())
        []
    """
    root = (Path(cache) if cache is not None else cache_dir()) / "downloads"
    found = []
    for sidecar in sorted(root.glob(f"*/{_SIDECAR}")):
        try:
            record = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or not isinstance(record.get("file"), str):
            continue
        path = sidecar.parent / record["file"]
        if path.is_file():
            found.append({**record, "path": str(path)})
    return found
