"""Reading a body within the limit, chunk by chunk, as uvicorn hands it over."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from egov_probe.collector.body import BodyRefused, read_limited


def read(chunks: list[bytes], encoding: str | None, limit: int) -> bytes:
    async def stream():
        for chunk in chunks:
            yield chunk

    return asyncio.run(read_limited(stream(), encoding, limit))


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)] + [b""]


def test_gzip_split_anywhere_comes_back_whole():
    data = bytes(range(256)) * 400
    for size in (1, 7, 4096):
        assert read(split(gzip.compress(data), size), "gzip", len(data)) == data
    assert read(split(data, 333), None, len(data)) == data


@pytest.mark.parametrize("chunks, encoding, status", [
    ([b"x" * 101], "identity", 413),
    ([gzip.compress(b"x" * 101)], "gzip", 413),  # small once compressed
    ([gzip.compress(b"x" * 10) + b"more"], "gzip", 400),
    ([gzip.compress(b"x" * 10), b"more"], "gzip", 400),
    ([gzip.compress(b"x" * 10)[:-3]], "gzip", 400),
    ([b"not gzip at all"], "gzip", 400),
    ([b"x"], "deflate", 415),
])
def test_what_is_refused(chunks, encoding, status):
    with pytest.raises(BodyRefused) as refused:
        read(chunks, encoding, 100)
    assert refused.value.status == status
