"""Our httpx clients on the aiohttp transport: every connection failure is an httpx.TransportError
(the class the clients turn into their retryable error), and one TLS context per process."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from seek_sync.http.clients import AiohttpTransportMapped, async_client, tls_context

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _server(serve: Serve) -> AsyncIterator[str]:
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/file"


async def _request_head(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request_head(reader)
    writer.write(b"this is not HTTP at all\r\n\r\n")
    await writer.drain()
    writer.close()


async def _cut_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
    await writer.drain()
    writer.transport.abort()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request_head(reader)
    await asyncio.sleep(5)
    writer.close()


async def _ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n" + b"y" * 70000)
    await writer.drain()
    writer.close()


async def _fails(serve: Serve, timeout: float = 5.0, stream: bool = False) -> BaseException:
    async for url in _server(serve):
        async with async_client(httpx.Timeout(timeout)) as http:
            with pytest.raises(httpx.TransportError) as caught:
                if stream:
                    async with http.stream("GET", url) as response:
                        async for _ in response.aiter_raw():
                            pass
                else:
                    await http.get(url)
            return caught.value
    raise AssertionError("no server")


async def test_a_garbage_answer_is_a_transport_error() -> None:
    assert isinstance(await _fails(_garbage), httpx.TransportError)


async def test_a_body_cut_short_is_a_transport_error_while_streaming() -> None:
    assert isinstance(await _fails(_cut_body, stream=True), httpx.TransportError)


async def test_a_silent_server_is_a_timeout() -> None:
    assert isinstance(await _fails(_silent, timeout=0.3), httpx.TimeoutException)


async def test_a_refused_connection_is_a_transport_error() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    async with async_client(httpx.Timeout(5.0)) as http:
        with pytest.raises(httpx.TransportError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_a_body_streams_whole_and_every_client_shares_one_tls_context() -> None:
    async for url in _server(_ok):
        async with async_client(httpx.Timeout(5.0)) as http, http.stream("GET", url) as response:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        assert len(body) == 70000 and response.num_bytes_downloaded == 70000
        transport = http._transport
        assert isinstance(transport, AiohttpTransportMapped)
        assert transport.ssl_context is tls_context() is tls_context()


async def test_a_cookie_set_by_the_server_is_sent_back_and_none_is_made_up() -> None:
    heads: list[bytes] = []

    async def cookie(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                heads.append(await reader.readuntil(b"\r\n\r\n"))
            except asyncio.IncompleteReadError:
                return
            extra = b"Set-Cookie: session=abc; Path=/\r\n" if len(heads) == 1 else b""
            writer.write(b"HTTP/1.1 200 OK\r\n" + extra + b"Content-Length: 2\r\n\r\nok")
            await writer.drain()

    async for url in _server(cookie):
        async with async_client(httpx.Timeout(5.0)) as http:
            for _ in range(3):
                assert (await http.get(url)).status_code == 200
            assert dict(http.cookies) == {"session": "abc"}
    assert b"cookie" not in heads[0].lower()
    assert all(b"\r\ncookie: session=abc\r\n" in head.lower() for head in heads[1:])
