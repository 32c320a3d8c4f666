"""An upload size limit enforced while the request body streams in (a raw ASGI middleware).

Starlette's form parser reads a whole multipart body (spooling files to disk) before the endpoint
sees it, so a limit checked in the endpoint comes too late: a 10 GB upload would have filled
memory or disk first. :class:`UploadLimit` sits in front of the app and counts the bytes of every
``http.request`` message that the app pulls through ``receive``: a declared ``Content-Length``
over the limit is refused before a byte is read, and a streamed (chunked) body is cut off at the
first message that crosses it. Either way the answer is ``413`` with a one-line JSON ``detail``.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["UploadLimit", "UploadTooLargeError", "too_large_message"]


def too_large_message(limit: int) -> str:
    """The one-line refusal of an upload over ``limit`` bytes.

    Example:
        >>> too_large_message(50 * 2**20).split("; ")[0]
        'upload is larger than the limit of 50 MB (52,428,800 bytes)'
    """
    megabytes = f"{limit / 2**20:g} MB"
    return (
        f"upload is larger than the limit of {megabytes} ({limit:,} bytes); restart the server "
        "with a larger --max-upload"
    )


class UploadTooLargeError(HTTPException):
    """Raised from ``receive`` when the body crosses the limit (an HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


class UploadLimit:
    """Refuse request bodies larger than ``max_bytes`` while they stream in.

    Args:
        app: the ASGI app to guard.
        max_bytes: the largest body accepted, in bytes.

    Example:
        >>> import asyncio
        >>> async def app(scope, receive, send):  # reads the whole body
        ...     while (await receive()).get("more_body"):
        ...         pass
        >>> chunks = iter([b"x" * 60, b"x" * 60, b"x" * 60])
        >>> async def receive():
        ...     return {"type": "http.request", "body": next(chunks), "more_body": True}
        >>> sent = []
        >>> async def send(message):
        ...     sent.append(message)
        >>> scope = {"type": "http", "method": "POST", "headers": []}
        >>> asyncio.run(UploadLimit(app, max_bytes=100)(scope, receive, send))
        >>> sent[0]["status"], len(list(chunks))  # the third chunk was never read
        (413, 1)
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": too_large_message(self.max_bytes)}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise UploadTooLargeError(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except UploadTooLargeError:
            # The app did not turn it into a response itself (a raw ASGI app): do it here.
            if started:
                raise
            await self._refuse(send)
