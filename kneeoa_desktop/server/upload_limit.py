"""An ASGI middleware that caps the size of a request body and answers 413 in one sentence.

A declared ``Content-Length`` over the cap is refused before a byte is read; a body streamed
without one (chunked) is cut off the moment it passes the cap: the app then sees the client
as gone, and whatever it would have answered is replaced by the 413. Written here rather than
taken from a framework so that it behaves the same with every FastAPI/Starlette version.
"""

from __future__ import annotations

import json


class UploadLimit:
    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = int(max_bytes)

    def _message(self) -> str:
        megabytes = self.max_bytes / 1_000_000
        return f"The upload is larger than the {megabytes:g} MB this server accepts."

    async def _refuse(self, send) -> None:
        body = json.dumps({"detail": self._message()}).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        received = 0
        tripped = False
        started = False

        async def limited_receive():
            nonlocal received, tripped
            if tripped:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    tripped = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal started
            if tripped:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(send)
                return  # the app's own answer to a "disconnected" client is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)
        if tripped and not started:
            await self._refuse(send)
