"""Request bodies for the receiver's routes: capped before they are read, refused early.

Every route reads its body through `read_body`, which answers None (413) at once for a declared
`Content-Length` over the limit and otherwise streams the body, stopping at the limit, so no request
can make the receiver hold more than `limit` bytes of it. A refusal sent before the body was read
closes the connection, so the server never reads (or waits for) the rest.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

TOO_LARGE = "body too large"


def declared_too_large(request: Request, limit: int) -> bool:
    """Whether the request announces more than `limit` bytes of body (a chunked one announces
    nothing: `read_body` stops it at the limit)."""
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit


async def read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None when it is (or says it is) larger than `limit` bytes."""
    if declared_too_large(request, limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def refuse(status: int, reason: str) -> JSONResponse:
    """An error answer that also closes the connection: for refusals sent before (or instead of)
    reading the whole body, so the rest of it is never read."""
    return JSONResponse({"error": reason}, status_code=status, headers={"Connection": "close"})
