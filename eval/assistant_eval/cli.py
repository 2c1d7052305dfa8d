"""The eval command: run a question set through `assistant`'s ask path (and the LangChain-tutorial peer), write reports.

    python eval/run.py                                   # seed questions, offline, peer beside it
    python eval/run.py --dataset realtimeqa --data ../shared/data/realtimeqa
    python eval/run.py --baseline eval/reports/seed-offline.json --check eval/thresholds.json

See eval/README.md for every flag, metric and JSON key. `main(argv)` is what eval/run.py and
`assistant eval` call.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the checkout: eval/questions.jsonl, seeds/, eval/reports/
DEFAULT_REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise _BadInput(f"{message} (see --help)")


class _BadInput(Exception):
    pass


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return number


def parser(prog: str) -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description="Evaluate assistant on a question set, beside a LangChain RAG tutorial peer (see eval/README.md).")
    p.add_argument("--dataset", choices=["seed", "realtimeqa"], default="seed", help="seed: eval/questions.jsonl; realtimeqa: RealTime QA dev")
    p.add_argument("--data", type=Path, help="seed: the questions .jsonl; realtimeqa: the folder with questions_dev.jsonl and corpus/")
    p.add_argument("--corpus", type=Path, help="articles to ingest instead of the dataset's own (seeds/ or DATA/corpus), e.g. a few weeks for a quick run; seed questions citing an article not in it are left out")
    p.add_argument("--limit", type=_positive, help="only the first N questions (after --sample)")
    p.add_argument("--sample", type=_positive, help="a random sample of N questions (reproducible with --seed)")
    p.add_argument("--seed", type=int, default=0, help="random seed for --sample (default 0)")
    p.add_argument("--k", type=_positive, default=5, help="passages shown to the answerer, the Hit@k cut-off (default 5)")
    p.add_argument("--depth", type=_positive, default=10, help="ranking depth for MRR (default 10)")
    p.add_argument("--index", type=Path, help="the project's index for this dataset (default: <data dir>/assistant/seed-eval or …/realtimeqa)")
    p.add_argument("--peer-index", type=Path, help="the peer's persisted Chroma store (default: INDEX-peer)")
    p.add_argument("--no-peer", action="store_true", help="skip the LangChain tutorial peer baseline")
    p.add_argument("--no-ingest", action="store_true", help="use the index as it is (do not bring it in step with the corpus first)")
    p.add_argument("--llm", action="store_true", help="answer with the configured model (ASSISTANT_MODEL …) instead of offline")
    p.add_argument("--min-relevance", type=float, help="override the abstention bar (Settings.min_relevance) for this run")
    p.add_argument("--baseline", type=Path, help="an earlier REPORT.json: deltas in the table, bars in the chart")
    p.add_argument("--out", type=Path, help="report path without suffix (default eval/reports/DATASET-offline|llm)")
    p.add_argument("--check", type=Path, metavar="THRESHOLDS.json", help="exit 1 when a total falls below a minimum in this file")
    p.add_argument("--max-errors", type=int, metavar="N", help="with --check: questions allowed to raise (provider down, …) before the run fails (default 0)")
    p.add_argument("--json", action="store_true", help="print the totals as one JSON object (no table)")
    p.add_argument("--prepare", action="store_true", help="only bring the indexes in step with the corpus (project unless --no-ingest, peer unless --no-peer)")
    return p


def main(argv: list[str] | None = None, prog: str = "python eval/run.py") -> int:
    """Run the eval; returns the exit code (0 ok, 1 below a threshold, 2 bad input, else the error's code)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from rich.console import Console

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        args = parser(prog).parse_args(argv)
    except _BadInput as exc:
        from rich.markup import escape

        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    from assistant.errors import AssistantError

    try:
        return _run(args, f"{prog} {shlex.join(argv)}".strip(), err)
    except AssistantError as exc:
        from rich.markup import escape

        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        return exc.exit_code


def _bar(err: Any, label: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)


def _with_bar(err: Any, label: str, work: Any) -> Any:
    """Run ``work(progress)`` under a progress bar; without a terminal, a log line a minute instead."""
    import time

    last = [time.monotonic()]

    def log(done: int, total: int) -> None:
        if done == total or time.monotonic() - last[0] > 60:
            last[0] = time.monotonic()
            err.print(f"{label}: {done}/{total}")

    with _bar(err, label) as bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            if not err.is_terminal and total > 1000:  # long jobs (nohup) leave a trace in their log
                log(done, total)

        return work(tick)


def _run(args: argparse.Namespace, command: str, err: Any) -> int:
    from platformdirs import user_data_dir

    from assistant.config import load_settings
    from assistant.errors import ConfigError, InputError

    from . import datasets, reports, runner
    from .peer import PeerBaseline, TutorialLLMPeer

    if args.dataset == "seed":
        questions_file = args.data or ROOT / "eval" / "questions.jsonl"
        corpus = args.corpus or ROOT / "seeds"
        if not questions_file.is_file():
            raise InputError(f"no question file at {questions_file}; pass --data eval/questions.jsonl")
    else:
        data = args.data or DEFAULT_REALTIMEQA
        questions_file, own_corpus = datasets.realtimeqa_paths(data)
        corpus = args.corpus or own_corpus
    if not corpus.exists():
        raise InputError(f"no articles at {corpus}; pass --corpus DIR")
    baseline = reports.load_report(args.baseline) if args.baseline else None
    thresholds = _load_thresholds(args.check) if args.check else None
    index = args.index or Path(user_data_dir("assistant", appauthor=False)) / ("seed-eval" if args.dataset == "seed" else "realtimeqa")
    settings = load_settings(index=index, k=args.k, offline=None if args.llm else True, min_relevance=args.min_relevance)
    if args.llm and not settings.uses_llm:
        raise ConfigError("--llm needs a configured model: set ASSISTANT_MODEL (and ASSISTANT_BASE_URL / OPENAI_API_KEY) or model_path in the config file")
    engine = "llm" if settings.uses_llm else "extractive"

    if args.dataset == "seed":
        everything = datasets.load_seed_questions(questions_file, corpus, covered_only=args.corpus is not None)
    else:
        everything = datasets.load_realtimeqa(questions_file)
    questions = datasets.select(everything, args.limit, args.sample, args.seed)
    if not questions:
        raise InputError(f"no questions in {questions_file}")

    from assistant.engine import Assistant

    if args.prepare:
        return _prepare(args, settings, corpus, err)
    if not args.no_ingest:
        from assistant.ingest import ingest

        ingested = _with_bar(err, "indexing articles (project)", lambda tick: ingest([corpus], settings, progress=tick))
        if ingested.chunks_embedded:
            err.print(f"project index {settings.index}: {ingested.added} added, {ingested.updated} updated, "
                      f"{ingested.chunks_embedded} chunks embedded in {ingested.seconds:.0f} s")
    assistant = Assistant(settings)
    diagnose = runner.best_relevance_fn(assistant.index.embedder, assistant.term_weights()) if engine == "extractive" else None
    project = _with_bar(err, f"asking {len(questions)} questions (project)", lambda tick: runner.run_eval(
        runner.AssistantUnderTest(assistant), questions, k=args.k, depth=args.depth, all_questions=everything, progress=tick, best_relevance=diagnose))

    peer = peer_info = None
    peer_system: Any = None
    if not args.no_peer:
        from assistant.articles import load_paths

        baseline_system = PeerBaseline(
            args.peer_index or Path(f"{settings.index}-peer"), assistant.index.embedder, settings.min_relevance, assistant.term_weights(), depth=args.depth
        )
        articles = load_paths([corpus]).articles
        peer_info = _with_bar(err, "indexing articles (peer)", lambda tick: baseline_system.sync(articles, progress=tick))
        peer_info["index"] = str(baseline_system.path)
        peer_system = baseline_system
        peer_diagnose = runner.best_relevance_fn(assistant.index.embedder, assistant.term_weights())
        if engine == "llm":  # the tutorial's own chain with the same model, in the same run
            peer_system, peer_diagnose = TutorialLLMPeer(baseline_system, assistant.answerer.model, settings), None  # type: ignore[attr-defined]
        peer_kind = "peer: LangChain tutorial chain" if engine == "llm" else "peer"
        peer = _with_bar(err, f"asking {len(questions)} questions ({peer_kind})", lambda tick: runner.run_eval(
            peer_system, questions, k=args.k, depth=args.depth, all_questions=everything, progress=tick, best_relevance=peer_diagnose))

    report = reports.build_report(
        dataset=args.dataset, command=command, settings=_settings_info(settings, engine, questions_file, corpus),
        project=project, peer=peer, peer_info=peer_info, baseline=baseline, baseline_path=str(args.baseline) if args.baseline else None,
        peer_name=peer_system.name if peer else "", peer_description=peer_system.description if peer else "",
    )
    out = args.out or ROOT / "eval" / "reports" / f"{args.dataset}-{'offline' if engine == 'extractive' else 'llm'}"
    written = reports.write_reports(report, out)
    failures = reports.check_thresholds(project.totals, thresholds, args.max_errors) if thresholds else []
    if project.totals["errors"]:
        err.print(f"[bold yellow]{project.totals['errors']} questions raised[/] (left out of every metric; see the report's Errors section)")
    if args.json:
        print(json.dumps({**project.totals, "peer": peer.totals if peer else None, "ratios": report["ratios"],
                          "reports": {kind: str(path) for kind, path in written.items()}}, indent=2))
    else:
        _table(report, err)
        err.print("reports: " + ", ".join(str(p) for p in written.values()))
    for failure in failures:
        err.print(f"[bold red]below threshold:[/] {failure}")
    return 1 if failures else 0


def _prepare(args: argparse.Namespace, settings: Any, corpus: Path, err: Any) -> int:
    """Build or update the indexes only (e.g. in the background with nohup before a long run)."""
    from assistant.answer.support import TermWeights
    from assistant.articles import load_paths
    from assistant.embeddings import make_embedder
    from assistant.ingest import ingest
    from assistant.store.index import Index

    from .peer import PeerBaseline

    embedder = make_embedder(settings)
    if not args.no_ingest:
        index = Index(settings, embedder, create=True)
        report = _with_bar(err, "indexing articles (project)", lambda tick: ingest([corpus], settings, progress=tick, index=index))
        err.print(f"project index {settings.index}: {json.dumps(report.summary())}")
    if not args.no_peer:
        peer = PeerBaseline(args.peer_index or Path(f"{settings.index}-peer"), embedder, settings.min_relevance, TermWeights.general(), depth=args.depth)
        articles = load_paths([corpus]).articles
        info = _with_bar(err, "indexing articles (peer)", lambda tick: peer.sync(articles, progress=tick))
        err.print(f"peer index {peer.path}: {json.dumps(info)}")
    return 0


def _load_thresholds(path: Path) -> dict[str, Any]:
    from assistant.errors import InputError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read thresholds {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("min"), dict):
        raise InputError(f"{path} has no 'min' object of metric minimums")
    return data


def _settings_info(settings: Any, engine: str, questions_file: Path, corpus: Path) -> dict[str, Any]:
    keys = ("k", "candidates", "hybrid", "dedupe", "rerank", "recency", "min_relevance", "embedding_model", "chunk_tokens", "chunk_overlap_sentences", "model")
    info = {key: getattr(settings, key) for key in keys}  # never the API key
    return {**info, "engine": engine, "index": str(settings.index), "questions": str(questions_file), "corpus": str(corpus)}


def _table(report: dict[str, Any], err: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from .reports import flat_metrics

    peer, base = report["peer"], report["baseline"]
    totals = report["totals"]
    table = Table(title=f"{report['dataset']}: {totals['n']} questions ({totals['n_answerable']} answerable), {report['settings']['engine']}")
    for name in ["metric", "project"] + (["peer", "project/peer"] if peer else []) + (["baseline", "delta"] if base else []):
        table.add_column(name, justify="left" if name == "metric" else "right")

    def fmt(value: Any) -> str:
        if not isinstance(value, float):
            return "n/a" if value is None else str(value)
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"

    for key, value in flat_metrics(totals).items():
        cells = [key, fmt(value)]
        if peer:
            cells += [fmt(flat_metrics(peer["totals"]).get(key)), fmt(report["ratios"].get(key))]
        if base:
            delta = base["deltas"].get(key)
            colour = "" if delta is None or delta == 0 else ("green" if (delta > 0) != key.startswith("latency") else "red")
            cells += [fmt(flat_metrics(base["totals"]).get(key)), f"[{colour}]{delta:+.3f}[/]" if colour else fmt(delta)]
        table.add_row(*cells)
    Console(highlight=False).print(table)


if __name__ == "__main__":
    raise SystemExit(main())
