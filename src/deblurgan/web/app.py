"""``deblur serve``'s web application: the page, the HTTP API and its OpenAPI docs (FastAPI).

Routes:

- ``GET /``: the page (``static/index.html``, ``app.js``, ``style.css``; no external resource).
- ``POST /api/deblur``: a multipart upload in the field ``file`` (plus optional form fields
  ``model``, ``tile_size``, ``tile_overlap``, ``quality``); answers the restored image in the
  upload's format with ``Content-Disposition: attachment; filename=<stem>_deblurred<ext>``.
- ``GET /api/models``: the offered models, the default first.
- ``GET /healthz``: liveness, with the queue's counters.
- ``GET /docs`` and ``GET /openapi.json``: the API described, with Swagger UI's scripts served
  from the installed ``swagger-ui-bundle-v2`` wheel (a plain page without it).

Errors are JSON ``{"detail": "<one line>"}``: the command line's ``<name>: <problem>`` for a bad
image (422), an oversized upload (413, refused while it streams: :mod:`deblurgan.web.limits`), an
unknown model (400), a full queue (503 with ``Retry-After``).
"""

from __future__ import annotations

import html
import logging
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from deblurgan.inference.deblurrer import ModelOutputError
from deblurgan.io import DEFAULT_MAX_PIXELS, ImageError
from deblurgan.io.errors import one_line
from deblurgan.web.limits import UploadLimit
from deblurgan.web.queue import ClientGoneError, JobQueue, QueueFullError
from deblurgan.web.service import (
    ModelLoadError,
    ModelPool,
    RestoreOptions,
    UnknownModelError,
    restore_upload,
)

__all__ = ["DEFAULT_MAX_UPLOAD", "STATIC_DIR", "create_app"]

logger = logging.getLogger(__name__)

#: The page's files, served under ``/static``.
STATIC_DIR = Path(__file__).parent / "static"

#: Default upload limit in bytes (50 MB): a 200-megapixel JPEG is well under it.
DEFAULT_MAX_UPLOAD = 50 * 2**20

#: The page may load its own files and show the images it made (blob: URLs), nothing else.
_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": one_line(detail)}, status_code=status, headers=headers)


def _attachment(filename: str) -> str:
    """A ``Content-Disposition`` value for ``filename``: an ASCII fallback plus RFC 5987 UTF-8.

    Example:
        >>> _attachment('café "1".jpg')
        'attachment; filename="caf_ _1_.jpg"; filename*=UTF-8\\'\\'caf%C3%A9%20%221%22.jpg'
    """
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _docs_page(app: FastAPI) -> HTMLResponse:
    """Swagger UI from the installed ``swagger_ui_bundle`` wheel, or a plain list of routes."""
    if getattr(app.state, "swagger_assets", None) is not None:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title}: API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )
    rows = []
    for path, operations in app.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            summary = html.escape(operation.get("summary", ""))
            rows.append(f"<li><code>{method.upper()} {html.escape(path)}</code>: {summary}</li>")
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(app.title)}: API"
        "</title></head><body><h1>API</h1><p>The full description is "
        "<a href='/openapi.json'>/openapi.json</a>; install <code>swagger-ui-bundle-v2</code> "
        f"(the <code>web</code> extra) for the interactive page.</p><ul>{''.join(rows)}</ul>"
        "</body></html>"
    )
    return HTMLResponse(body)


def create_app(
    pool: ModelPool,
    *,
    device: str = "auto",
    precision: str = "fp32",
    tile_size: int = 1024,
    tile_overlap: int = 64,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    workers: int = 1,
    max_waiting: int = 8,
    retry_after: int = 5,
) -> FastAPI:
    """Build the web application around a shared :class:`ModelPool`.

    Args:
        pool: the offered models (each loaded once, on first use).
        device: where the models run.
        precision: ``"fp32"``, ``"fp16"`` or ``"bf16"`` (see :class:`Deblurrer`).
        tile_size: default tile size; a request may send its own.
        tile_overlap: default tile overlap; a request may send its own.
        max_pixels: refuse images with more pixels (bomb guard); ``None``: no limit.
        max_upload: refuse request bodies larger than this many bytes, while they stream.
        workers: images restored at once.
        max_waiting: requests that may wait for a worker; more are answered 503.
        retry_after: the ``Retry-After`` seconds of a 503.

    Returns:
        The FastAPI app; ``app.state.pool`` and ``app.state.queue`` are the shared model pool
        and job queue.
    """
    from deblurgan import __version__

    app = FastAPI(
        title="deblurgan",
        version=__version__,
        description="Remove motion blur from photos. The page at / uses this same API.",
        docs_url=None,
        redoc_url=None,
    )
    queue = JobQueue(workers=workers, max_waiting=max_waiting)
    app.state.pool = pool
    app.state.queue = queue
    app.add_middleware(UploadLimit, max_bytes=max_upload)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    try:
        from swagger_ui_bundle import swagger_ui_path

        app.state.swagger_assets = Path(str(swagger_ui_path))
        app.mount("/docs/assets", StaticFiles(directory=app.state.swagger_assets), name="docs")
    except ImportError:
        app.state.swagger_assets = None

    @app.exception_handler(RequestValidationError)
    async def one_line_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
            problems.append(f"{where}: {error.get('msg', 'invalid')}" if where else error["msg"])
        return _error(422, "; ".join(problems) or "invalid request")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "index.html",
            headers={"Content-Security-Policy": _PAGE_POLICY, "X-Content-Type-Options": "nosniff"},
        )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return _docs_page(app)

    @app.get("/healthz", summary="Liveness and the queue's counters")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "queue": queue.stats()}

    @app.get("/api/models", summary="The models this server offers, the default first")
    async def models() -> dict[str, Any]:
        return {
            "default": pool.default,
            "models": pool.describe(),
            "limits": {"max_upload": max_upload, "max_pixels": max_pixels},
        }

    @app.post(
        "/api/deblur",
        summary="Restore one photo; the answer is the image in the upload's format",
        response_class=Response,
        responses={
            200: {"content": {"image/*": {}}, "description": "the restored image"},
            400: {"description": "unknown model"},
            413: {"description": "upload over the size limit"},
            422: {"description": "not a readable image, over the pixel limit, bad options"},
            503: {"description": "queue full; retry after Retry-After seconds"},
        },
    )
    async def deblur(
        request: Request,
        file: Annotated[UploadFile, File(description="the blurry image file")],
        model: Annotated[str | None, Form(description="a name from /api/models")] = None,
        tile_size: Annotated[int, Form(ge=16, le=8192)] = tile_size,
        tile_overlap: Annotated[int, Form(ge=0, le=4096)] = tile_overlap,
        quality: Annotated[int, Form(ge=1, le=100, description="JPEG/WebP quality")] = 95,
    ) -> Response:
        name = file.filename or "image"
        try:
            data = await file.read()
        finally:
            await file.close()
        if model not in (None, "") and model not in pool.sources:
            return _error(
                400,
                str(
                    UnknownModelError(
                        f"unknown model {model!r}; this server offers: {', '.join(pool.names())}"
                    )
                ),
            )
        options = RestoreOptions(
            tile_size=tile_size,
            tile_overlap=tile_overlap,
            precision=precision,
            quality=quality,
            max_pixels=max_pixels,
        )

        def job() -> Any:
            started = time.perf_counter()
            restored = restore_upload(data, name, pool.get(model), device=device, options=options)
            return restored, time.perf_counter() - started

        try:
            restored, seconds = await queue.run(job, is_gone=request.is_disconnected)
        except QueueFullError as exc:
            return _error(503, f"server busy: {exc}", {"Retry-After": str(retry_after)})
        except ClientGoneError:
            logger.info("dropped a request for %r: the client went away", name)
            return Response(status_code=499)
        except ImageError as exc:
            return _error(422, str(exc))
        except (ModelLoadError, ModelOutputError) as exc:
            return _error(500, str(exc))
        except ValueError as exc:  # options the Deblurrer refuses (overlap >= tile size...)
            return _error(422, str(exc))
        headers = {
            "Content-Disposition": _attachment(restored.filename),
            "X-Deblur-Model": quote(model or pool.default, safe=""),
            "X-Deblur-Seconds": f"{seconds:.3f}",
        }
        return Response(restored.data, media_type=restored.media_type, headers=headers)

    return app
