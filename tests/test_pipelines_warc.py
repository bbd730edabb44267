"""WARC records as the archive writes them: one gzip member per record, at the configured ISA-L level."""

from __future__ import annotations

import gzip
import io
import re
import zlib
from datetime import datetime, timezone

import pytest

from pipelines.warc import Exchange, exchange_records, iter_exchanges, warcinfo_record
from tests.helpers import CORPUS_WARC

FETCHED = datetime(2026, 11, 21, 22, 0, tzinfo=timezone.utc)


def corpus_exchange() -> Exchange:
    with open(CORPUS_WARC, "rb") as stream:
        response = next(iter_exchanges(stream))
    return Exchange(url=response.url, site="example", fetched=FETCHED, status=200, headers=response.headers,
                    body=response.body, meta={"role": "article"})


def gzip_members(data: bytes) -> list[bytes]:
    members = []
    while data:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS + 16)
        members.append(decompressor.decompress(data))
        data = decompressor.unused_data
    return members


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_each_record_is_its_own_gzip_member_and_reads_back(level):
    exchange = corpus_exchange()
    data = warcinfo_record("x.warc.gz", {"software": "test"}, level) + exchange_records(exchange, level)
    members = gzip_members(data)
    # warcinfo, response, request, metadata: a reader can start at any record
    assert [re.search(rb"^WARC-Type: (\w+)", m, re.M).group(1) for m in members] == [
        b"warcinfo", b"response", b"request", b"metadata"]
    assert gzip.decompress(data) == b"".join(members)  # and the file is plain gzip to any tool
    (read,) = iter_exchanges(io.BytesIO(data))
    assert (read.url, read.status, read.body, read.fetched) == (exchange.url, 200, exchange.body, FETCHED)


def test_a_higher_level_writes_a_smaller_archive():
    exchange = corpus_exchange()
    assert len(exchange_records(exchange, 3)) < len(exchange_records(exchange, 0))
