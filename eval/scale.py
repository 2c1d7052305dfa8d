"""Scale benchmark: the RealTime QA index as it is (~42k chunks) and grown ten times (~420k), side by side.

    python eval/scale.py --base ~/.local/share/assistant/realtimeqa --work ~/.local/share/assistant/scale --out eval/reports/scale

Measured for each index, each in fresh processes: warm retrieval p50/p95 over the 139 dev questions,
cold `ask` (median wall time; and once with the index's files evicted from the page cache), peak
RSS of `ask` and of `ingest`, the sidecar's size, and the wall time of ``--ingests`` daily `ingest`s
of 10 new articles in a row (everything they rebuild or merge included; the first with the index's
files evicted), enough of them that the sidecar's segments merge at least once.

The grown index is synthesised from the real one so that it builds in minutes: each real article
is copied nine more times under new ids, its chunks in a shuffled order and its date moved back
by half a year per copy (old news). Every synthetic chunk's text is a real chunk's text with the
same title, so its stored vector is the real one's: the vectors are reused honestly, never
invented. The copies are syndicated duplicates, which de-duplication has to collapse at query time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, statistics, sys, time
from assistant.config import Settings
from assistant.embeddings import LocalMiniLM
from assistant.retrieval import Retriever
from assistant.store.index import Index
from assistant.types import Filters, parse_date
settings = Settings(index=sys.argv[1])
retriever = Retriever(Index(settings, LocalMiniLM()), settings)
questions = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8") if line.strip()]
for q in questions:  # warm: every page a question reads is in memory before the timed pass
    retriever.retrieve(q["question"], filters=Filters(as_of=parse_date(q["question_date"])))
times = []
for q in questions:
    started = time.perf_counter()
    retriever.retrieve(q["question"], filters=Filters(as_of=parse_date(q["question_date"])))
    times.append((time.perf_counter() - started) * 1000)
times.sort()
print(json.dumps({"p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}))
"""


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of ``command`` in a fresh process (GNU time reports the RSS)."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, env=env or os.environ.copy())
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed: {done.stderr[-2000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return wall, int(rss.group(1)) / 1024 if rss else float("nan"), done.stdout


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def new_articles(corpus: Path, path: Path, n: int = 10) -> None:
    """``n`` real articles under new ids (so that each run adds, and embeds, ten articles)."""
    from assistant.articles import load_paths

    stamp = f"{time.strftime('%Y%m%d%H%M%S')}{time.perf_counter_ns() % 10**6:06d}"
    picked = sorted(load_paths([corpus]).articles, key=lambda a: a.id)[:: 379][:n]
    with open(path, "w", encoding="utf-8") as handle:
        for a in picked:
            handle.write(json.dumps({"id": f"{a.id}-new{stamp}", "text": a.text, "title": a.title, "published": a.published, "source": a.source, "url": a.url}) + "\n")


def evict(index: Path) -> None:
    """Drop the index's files from the OS page cache (the libraries stay cached): the next run reads
    the index from disk, as the first `ingest` of a day does after a day of other work."""
    for path in index.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd) if os.access(path, os.W_OK) else None
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def measure(index: Path, data: Path, work: Path, runs: int, ingests: int) -> dict[str, Any]:
    assistant = [sys.executable, "-m", "assistant"]
    question = "Which continent will require a common charging standard for phones?"
    probe = work / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    _, probe_rss, out = timed([sys.executable, str(probe), str(index), str(data / "questions_dev.jsonl")])
    latency = json.loads(out.strip().splitlines()[-1])
    evict(index)
    from_disk = timed([*assistant, "ask", "--offline", "--index", str(index), question])[0]
    asks = [timed([*assistant, "ask", "--offline", "--index", str(index), question]) for _ in range(runs)]
    batch = work / "new10.jsonl"
    adds = []  # (wall, peak RSS, chunks embedded, segments after) per daily ingest; the first from disk
    for n in range(ingests):
        new_articles(data / "corpus", batch)
        if n == 0:
            evict(index)
        wall, rss, out = timed([*assistant, "ingest", "--json", "--index", str(index), str(batch)])
        adds.append((wall, rss, json.loads(out)["chunks_embedded"], len(json.loads((index / "sidecar" / "meta.json").read_text())["segments"])))
    walls = sorted(wall for wall, _, _, _ in adds)
    return {
        "chunks": _chunks(index),
        "warm_retrieval_p50_ms": round(latency["p50_ms"], 1),
        "warm_retrieval_p95_ms": round(latency["p95_ms"], 1),
        "cold_ask_s": round(sorted(wall for wall, _, _ in asks)[len(asks) // 2], 2),
        "cold_ask_s (index read from disk)": round(from_disk, 2),
        "ask_peak_rss_mb": round(max(rss for _, rss, _ in asks)),
        "sidecar_mb": round(size_mb(index / "sidecar")),
        f"add_10_articles_s (first, index read from disk; {ingests} in a row)": round(adds[0][0], 1),
        "add_10_articles_s (median)": round(walls[len(walls) // 2], 1),
        "add_10_articles_s (max)": round(walls[-1], 1),
        "add_10_articles_peak_rss_mb": round(max(rss for _, rss, _, _ in adds)),
        "add_10_articles_embedded": adds[0][2],
        "sidecar_segments_after_each_add": " ".join(str(segments) for _, _, _, segments in adds),
    }


def _chunks(index: Path) -> int:
    from assistant.store.sidecar import Sidecar

    return len(Sidecar(index / "sidecar").live_ids())


def grow(base: Path, target: Path, factor: int, seed: int = 0) -> float:
    """Write the synthetic ``factor``-times index at ``target`` from ``base``'s read snapshot; returns seconds."""
    import numpy as np

    from assistant.config import Settings
    from assistant.embeddings import LocalMiniLM
    from assistant.ingest import chunk_metadata
    from assistant.store.index import Index
    from assistant.types import Article, Chunk, ChunkId, article_of

    started = time.perf_counter()
    source = Index(Settings(index=base), LocalMiniLM())
    reader = source.chunks()
    ids = source.sidecar.live_ids()
    vectors = reader.vectors(ids)
    stored: dict[str, Any] = {}
    for first in range(0, len(ids), 10000):  # SQLite caps the parameters of one statement
        stored.update(reader.passages(ids[first : first + 10000]))
    by_article: dict[str, list[str]] = {}
    for chunk_id in ids:
        by_article.setdefault(article_of(chunk_id), []).append(chunk_id)
    shutil.rmtree(target, ignore_errors=True)
    index = Index(Settings(index=target), LocalMiniLM(), create=True)
    rng = random.Random(seed)
    batch: tuple[list[str], list[Any], list[str], list[dict[str, Any]]] = ([], [], [], [])
    everything: tuple[list[tuple[str, str, dict[str, Any]]], list[Any]] = ([], [])  # for the sidecar, written directly
    for copy in range(factor):
        for article_id, chunk_ids in by_article.items():
            order = sorted(chunk_ids, key=lambda c: ChunkId.parse(c).start)
            if copy:
                rng.shuffle(order)
            meta = stored[order[0]][1]
            published = meta.get("published", "")
            if copy and published:
                published = (date.fromisoformat(published) - timedelta(days=183 * copy)).isoformat()
            texts = [stored[c][0] for c in order]
            article = Article(f"{article_id}-x{copy}" if copy else article_id, "\n".join(texts), meta.get("title", ""), meta.get("source", ""), meta.get("url", ""), published, "synthetic")
            offset = 0
            for chunk_id, text in zip(order, texts, strict=True):
                chunk = Chunk(str(ChunkId.of(article.id, article.content_hash, offset, offset + len(text))), article.id, offset, offset + len(text), text)
                offset += len(text) + 1
                batch[0].append(chunk.id)
                batch[1].append(vectors[chunk_id])
                batch[2].append(text)
                batch[3].append(chunk_metadata(article, chunk))
            index.manifest.record(article, len(order))
            if len(batch[0]) >= 5000:
                flush(index, batch, everything)
                batch = ([], [], [], [])
    flush(index, batch, everything)
    index.save_manifest()
    # The sidecar straight from what was written (the same rows a rebuild would read back from Chroma).
    index.sidecar.build(everything[0], index.manifest.digest(), index.embedder.name, index.manifest.count(), np.asarray(everything[1], dtype=np.float32))
    # Built from exactly what was written, by the only writer: clear the marker every write leaves
    # (Index.refresh_sidecar would rebuild it all again from Chroma first).
    (target / "sidecar.stale").unlink(missing_ok=True)
    return time.perf_counter() - started


def flush(index: Any, batch: tuple[list[str], list[Any], list[str], list[dict[str, Any]]], everything: tuple[list[Any], list[Any]]) -> None:
    import numpy as np

    if batch[0]:
        index.upsert(batch[0], np.asarray(batch[1]), batch[2], batch[3])
        everything[0].extend(zip(batch[0], batch[2], batch[3]))
        everything[1].extend(batch[1])


TARGETS = {"warm_retrieval_p50": "≤ 60", "warm_retrieval_p95": "≤ 150", "cold_ask": "≤ 2", "ask_peak_rss": "≤ 1,536", "add_10_articles_s": "≤ 10"}


def target(key: str) -> str:
    return next((wanted for prefix, wanted in TARGETS.items() if key.startswith(prefix)), "")


def render(results: dict[str, Any], factor: int) -> str:
    small, big = results["x1"], results[f"x{factor}"]
    lines = [f"# Scale: the RealTime QA index and {factor} times it", "", f"Command: `{results['command']}`", "",
             *[" ".join(paragraph.split()) + "\n" for paragraph in (__doc__ or "").split("\n\n")[2:4]],
             f"| measure | {small['chunks']:,} chunks | {big['chunks']:,} chunks | target at ×{factor} (issue 16) |", "|---|---|---|---|"]
    lines += [f"| {key} | {small[key]} | {big[key]} | {target(key)} |" for key in small if key != "chunks"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", type=Path, default=Path.home() / ".local/share/assistant/realtimeqa", help="the full RealTime QA index (built by eval/run.py --prepare)")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "realtimeqa")
    p.add_argument("--work", type=Path, default=Path.home() / ".local/share/assistant/scale", help="where the copy of the base and the grown index live")
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--runs", type=int, default=5, help="cold `ask` runs per index")
    p.add_argument("--ingests", type=int, default=10, help="daily ingests of 10 articles in a row per index (enough for a segment merge)")
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "reports" / "scale")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"command": "python eval/scale.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    small = args.work / "x1"
    if not small.exists():  # a copy: each measurement adds ten articles to the index it measures
        shutil.copytree(args.base, small)
    results["x1"] = measure(small, args.data, args.work, args.runs, args.ingests)
    big = args.work / f"x{args.factor}"
    if not (big / "sidecar" / "meta.json").exists():
        results["build_seconds"] = round(grow(small, big, args.factor), 1)
    results[f"x{args.factor}"] = measure(big, args.data, args.work, args.runs, args.ingests)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    report = render(results, args.factor)
    args.out.with_suffix(".md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
