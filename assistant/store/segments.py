"""The sidecar's files: its metadata and the writing of one segment (store/sidecar.py reads them).

A segment is a folder ``seg-NNNN/`` holding the bm25s index of its chunks, their ids (``ids.txt``),
publication days (``days.npy``), sources (``sources.npy``, codes into the metadata's list) and, with
the read snapshot, their vectors (``vectors.npy``); their texts and metadata go to the shared
``chunks.sqlite`` by row. Out of scope: deciding what to write (store/index.py) and reading.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bm25 import build as build_bm25

if TYPE_CHECKING:
    import numpy as np

Chunks = list[tuple[str, str, dict[str, Any]]]  # (id, text, metadata)


@dataclass
class SidecarMeta:
    digest: str
    embedding_model: str = ""
    articles: int = 0
    snapshot: bool = False  # vectors, texts and metadata are here too (embedded indexes)
    segments: list[str] = field(default_factory=list)
    rows: int = 0  # over all segments, deleted ones included
    sources: list[str] = field(default_factory=list)  # sources.npy holds indexes into this


def write_segment(directory: Path, meta: SidecarMeta, chunks: Chunks, vectors: np.ndarray | None) -> None:
    """Write ``chunks`` as the next segment of ``meta`` in ``directory`` (rows from ``meta.rows`` on) and count it in."""
    import sqlite3

    segment = directory / next_segment_name(directory, meta)
    write_segment_files(segment, meta, chunks, vectors)
    if vectors is not None:
        db = sqlite3.connect(directory / "chunks.sqlite")
        with db:
            db.execute("CREATE TABLE IF NOT EXISTS chunks (row INTEGER PRIMARY KEY, id TEXT NOT NULL, document TEXT NOT NULL, metadata TEXT NOT NULL)")
            db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?)", ((meta.rows + n, i, text, json.dumps(m)) for n, (i, text, m) in enumerate(chunks)))
        db.close()
    meta.segments.append(segment.name)
    meta.rows += len(chunks)


def next_segment_name(directory: Path, meta: SidecarMeta) -> str:
    """A name no segment of ``meta`` has (merging leaves gaps in the numbering)."""
    return f"seg-{max((int(name[4:]) for name in meta.segments), default=-1) + 1:04d}"


def write_segment_files(segment: Path, meta: SidecarMeta, chunks: Chunks, vectors: np.ndarray | None) -> None:
    """The segment folder for ``chunks``: BM25, ids, days, sources (new ones added to ``meta``) and vectors."""
    import numpy as np

    shutil.rmtree(segment, ignore_errors=True)  # a segment an interrupted write left behind
    segment.mkdir()
    if chunks:
        build_bm25(segment, [f"{m.get('title', '')}\n{text}" for _, text, m in chunks])
    (segment / "ids.txt").write_text("\n".join(chunk_id for chunk_id, _, _ in chunks), encoding="utf-8")
    np.save(segment / "days.npy", np.asarray([int(m.get("published_day", -1)) for _, _, m in chunks], dtype=np.int64))
    for _, _, m in chunks:
        if str(m.get("source", "")) not in meta.sources:
            meta.sources.append(str(m.get("source", "")))
    codes = {source: n for n, source in enumerate(meta.sources)}
    np.save(segment / "sources.npy", np.asarray([codes[str(m.get("source", ""))] for _, _, m in chunks], dtype=np.int32))
    if vectors is not None:
        np.save(segment / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))


def write_meta(directory: Path, meta: SidecarMeta) -> None:
    tmp = directory / "meta.json.tmp"
    tmp.write_text(json.dumps(asdict(meta)), encoding="utf-8")
    os.replace(tmp, directory / "meta.json")
