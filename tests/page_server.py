"""A local HTTP server for tests that serves fixed bodies: real saved pages, hostile
pages, challenges with the status their product answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

_REASONS = {200: "OK", 404: "Not Found", 412: "Precondition Failed", 521: "Web Server Is Down"}


@asynccontextmanager
async def serve_pages(
    pages: Mapping[str, tuple[int, bytes]], content_type: str = "text/html; charset=utf-8"
) -> AsyncIterator[str]:
    """Serve `pages` (path -> (status, body)) on a free localhost port; yields the base
    URL (`http://127.0.0.1:PORT`)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            status, body = pages.get(path, (404, b"not found"))
            lines = [
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
                f"Content-Type: {content_type}",
                f"Content-Length: {len(body)}",
                "Connection: close",
            ]
            writer.write("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()
