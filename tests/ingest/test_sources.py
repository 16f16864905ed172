from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from equiptwin.ingest.sources import FileReader, SourceFile, discover
from tests.ingest.fleet import write_fleet


def _source(path: Path) -> SourceFile:
    return SourceFile(path, path.name, "events", "X")


def test_blocks_hold_whole_lines_and_the_tail_is_held_back(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"one\ntwo\nthree\nfou")
    reader = FileReader(_source(path), 0, None, block_bytes=5)
    blocks = list(reader.blocks())
    assert b"".join(b for _, b in blocks) == b"one\ntwo\nthree\n"
    assert all(b.endswith(b"\n") for _, b in blocks)
    assert [s for s, _ in blocks] == [0, 4, 8][: len(blocks)] or blocks[0][0] == 0
    assert reader.tail == b"fou"
    assert reader.consumed == 14
    assert reader.prefix_hex() == hashlib.sha256(b"one\ntwo\nthree\n").hexdigest()


def test_reading_continues_at_the_offset_after_checking_the_prefix(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"one\ntwo\nthree\n")
    prefix = hashlib.sha256(b"one\ntwo\n").hexdigest()
    reader = FileReader(_source(path), 8, prefix, 1 << 20)
    assert [b for _, b in reader.blocks()] == [b"three\n"]
    assert reader.prefix_ok
    rewritten = FileReader(_source(path), 8, hashlib.sha256(b"xxx\nyyy\n").hexdigest(), 1 << 20)
    assert list(rewritten.blocks()) == []
    assert not rewritten.prefix_ok


def test_shorter_file_than_the_offset_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"one\n")
    reader = FileReader(_source(path), 8, "0" * 64, 1 << 20)
    assert list(reader.blocks()) == []
    assert not reader.prefix_ok


def test_truncated_gzip_yields_what_it_holds(tmp_path: Path) -> None:
    data = b"".join(b"line %d\n" % i for i in range(2000))
    packed = gzip.compress(data, mtime=0)
    path = tmp_path / "a.log.gz"
    path.write_bytes(packed[: len(packed) // 2])
    reader = FileReader(SourceFile(path, path.name, "events", "X"), 0, None, 1 << 20)
    got = b"".join(b for _, b in reader.blocks())
    assert got and data.startswith(got + reader.tail)


def test_concatenated_gzip_members_are_read(tmp_path: Path) -> None:
    path = tmp_path / "a.log.gz"
    path.write_bytes(gzip.compress(b"a\n", mtime=0) + gzip.compress(b"b\n", mtime=0))
    reader = FileReader(SourceFile(path, path.name, "events", "X"), 0, None, 1 << 20)
    assert b"".join(b for _, b in reader.blocks()) == b"a\nb\n"


def test_discover_orders_tables_first_and_flags_unknown_files(tmp_path: Path) -> None:
    found = discover(write_fleet(tmp_path / "f"))
    sources = [f.source for f in found]
    assert sources[:3] == ["assets", "service_records", "schedule"]
    assert sources.count("unknown") == 1
    assert [f.rel for f in found if f.source == "unknown"] == ["events/CT-AMS-01/notes.txt"]
    assert all(f.system_id for f in found[3:])
