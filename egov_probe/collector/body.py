"""Reading a request's body within a size limit, gzip or not.

The limit holds for the bytes received and for the bytes once uncompressed: decompression
stops at the limit, so a gzip bomb costs at most the limit in memory (413).
"""

from __future__ import annotations

import zlib
from typing import AsyncIterator, Optional

_GZIP = 16 + zlib.MAX_WBITS


class BodyRefused(Exception):
    """A body the server does not take: the status (400, 413, 415) and why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def too_large(limit: int) -> BodyRefused:
    return BodyRefused(413, f"larger than the limit of {limit} bytes")


def check_declared(length: Optional[str], limit: int) -> None:
    """Refuse at once a body whose Content-Length is over the limit."""
    if length and length.strip().isdigit() and int(length) > limit:
        raise too_large(limit)


async def read_limited(chunks: AsyncIterator[bytes], encoding: Optional[str],
                       limit: int) -> bytes:
    """The body's bytes, uncompressed; BodyRefused beyond ``limit`` or when not readable."""
    encoding = (encoding or "identity").strip().lower()
    if encoding not in ("gzip", "identity"):
        raise BodyRefused(415, f"Content-Encoding {encoding!r}: expected gzip or identity")
    decoder = zlib.decompressobj(_GZIP) if encoding == "gzip" else None
    body, received = bytearray(), 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        body += _inflate(decoder, chunk, limit - len(body), limit) if decoder else chunk
    if decoder is not None and not decoder.eof:
        raise BodyRefused(400, "the gzip stream ends early")
    return bytes(body)


def _inflate(decoder, chunk: bytes, room: int, limit: int) -> bytes:
    """At most ``room`` bytes out of ``chunk``; 413 when it holds more."""
    if decoder.eof:
        if chunk:
            raise BodyRefused(400, "data after the end of the gzip stream")
        return b""
    try:
        out = decoder.decompress(chunk, room + 1)
    except zlib.error as exc:
        raise BodyRefused(400, f"not gzip: {exc}") from exc
    if len(out) > room or decoder.unconsumed_tail:
        raise too_large(limit)
    if decoder.unused_data:
        raise BodyRefused(400, "data after the end of the gzip stream")
    return out
