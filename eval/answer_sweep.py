"""The offline answerer's constants, each varied alone, over three shapes of index: the seed folder
(four articles), one article of it, and RealTime QA's 3,786.

    python eval/answer_sweep.py --data ../shared/data/realtimeqa --out eval/reports/offline-answer-sweep

Each configuration runs the seed eval, the one-article run (`--corpus seeds/000_…`, its own index)
and, with --data, RealTime QA dev (its index must exist: `--no-ingest`), without the peer, in this
process with the module constant patched. Writes OUT.json and OUT.md. Answers only: retrieval is
the same in every row.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "eval"))  # assistant_eval, from a checkout not installed

ONE_ARTICLE = "seeds/000_14502852d82c6bda.txt"


def _carries_the_question(question: str, history: list[tuple[str, str]]) -> str:
    """Offline follow-ups as before 2026-11-30: the earlier question whole, not the names of that turn."""
    from assistant.condense import is_follow_up

    return f"{question} ({history[-1][0]})" if history and is_follow_up(question) else question


CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("defaults", {}),
    ("term weights: index IDF only", {"assistant.answer.support.TRUSTED_CHUNKS": 1e-9}),
    ("term weights: half trust at 2 chunks", {"assistant.answer.support.TRUSTED_CHUNKS": 2}),
    ("term weights: half trust at 5 chunks", {"assistant.answer.support.TRUSTED_CHUNKS": 5}),
    ("term weights: half trust at 200 chunks", {"assistant.answer.support.TRUSTED_CHUNKS": 200}),
    ("focus check off", {"assistant.answer.support.DENSE_CARRIES": -2.0}),
    ("focus check: dense carries at 0.5", {"assistant.answer.support.DENSE_CARRIES": 0.5}),
    ("focus check: dense carries at 0.7", {"assistant.answer.support.DENSE_CARRIES": 0.7}),
    ("name asked, none new in the sentence: support kept whole", {"assistant.answer.support.NAME_MISSING": 1.0}),
    ("name asked, none new in the sentence: support x 0.7", {"assistant.answer.support.NAME_MISSING": 0.7}),
    ("first sentence: the best, whatever its passage's rank", {"assistant.answer.extractive.TIE_MARGIN": 0.0}),
    ("first sentence: the top-ranked passage's within 5% of the best", {"assistant.answer.extractive.TIE_MARGIN": 0.05}),
    ("first sentence: the top-ranked passage's within 15% of the best", {"assistant.answer.extractive.TIE_MARGIN": 0.15}),
    ("no higher-ranked sentence stating the same short answer preferred", {"assistant.answer.extractive.CORROBORATED": 2.0}),
    ("higher-ranked sentence stating the same short answer at half the best support", {"assistant.answer.extractive.CORROBORATED": 0.5}),
    ("a question's preamble weighs as much as the question proper", {"assistant.answer.support.PREAMBLE_WEIGHT": 1.0}),
    ("a question's preamble at 0.2", {"assistant.answer.support.PREAMBLE_WEIGHT": 0.2}),
    ("\"which country/state\": any name, not only a place's (no pycountry)", {"assistant.answer.spans._PLACE_HEADS": set()}),
    ("no two-hop answers", {"assistant.answer.bridge.FIRST_HOPS": 0}),
    ("follow-ups carry the earlier question whole, not the names of that turn", {"assistant.answer.extractive.carry_subject": _carries_the_question}),
    ("\"what did X say\": any sentence, not only one where X says it", {"assistant.answer.support.SAYING_ASKED": re.compile(r"(?!)")}),
]
KEYS = ("gold_contained", "citation_precision", "f1", "exact_match", "abstention_precision", "abstention_recall")


@contextlib.contextmanager
def patched(overrides: dict[str, Any]):  # type: ignore[no-untyped-def]
    saved = []
    for name, value in overrides.items():
        module_name, constant = name.rsplit(".", 1)
        module = importlib.import_module(module_name)
        saved.append((module, constant, getattr(module, constant)))
        setattr(module, constant, value)
    try:
        yield
    finally:
        for module, constant, value in saved:
            setattr(module, constant, value)


def run(args: list[str], scratch: Path, name: str) -> dict[str, Any]:
    from assistant_eval.cli import main

    out = scratch / name
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--json", "--no-peer", "--out", str(out), *args])
    if code:
        raise SystemExit(f"eval {' '.join(args)} failed with exit code {code}")
    report = json.loads(out.with_suffix(".json").read_text())
    totals = {key: report["totals"].get(key) for key in KEYS}
    answered = [row for row in report["rows"] if not row["abstained"]]
    totals["citations per answer"] = sum(len(row["citations"]) for row in answered) / max(1, len(answered))
    totals["declined"] = len(report["rows"]) - len(answered)
    totals["_rows"] = {row["id"]: (row["abstained"], row["prediction"]) for row in report["rows"]}
    return totals


def _described(value: Any) -> str:
    """A patched function or pattern, named in the JSON report."""
    return getattr(value, "__name__", None) or getattr(value, "pattern", None) or repr(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="RealTime QA directory (../shared/data/realtimeqa); without it, seeds only")
    parser.add_argument("--one-article-index", type=Path, default=Path.home() / ".local/share/assistant/seed-one-article")
    parser.add_argument("--out", type=Path, default=ROOT / "eval/reports/offline-answer-sweep")
    args = parser.parse_args()
    shapes = [("seeds (4 articles)", []), ("one article", ["--corpus", ONE_ARTICLE, "--index", str(args.one_article_index)])]
    if args.data:
        shapes.append(("RealTime QA dev", ["--dataset", "realtimeqa", "--data", str(args.data), "--no-ingest"]))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for label, overrides in CONFIGS:
            with patched(overrides):
                results = {shape: run(shape_args, Path(scratch), f"{len(rows)}-{i}") for i, (shape, shape_args) in enumerate(shapes)}
            four, one = results["seeds (4 articles)"]["_rows"], results["one article"]["_rows"]
            differ = sorted(q for q in one if one[q] != four[q])
            for result in results.values():
                del result["_rows"]
            rows.append({"config": label, "overrides": overrides, "results": results, "one_vs_four_differ": differ})
            print(label, {shape: {k: round(v, 3) for k, v in r.items() if isinstance(v, float)} for shape, r in results.items()}, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"command": "python eval/answer_sweep.py " + " ".join(sys.argv[1:]), "rows": rows}, indent=2, default=_described) + "\n")
    lines = ["# Offline answerer: constants varied one at a time", "", f"Command: `python eval/answer_sweep.py {' '.join(sys.argv[1:])}`", "",
             "Gold contained / citation precision / F1 / EM per shape; abstention P/R on the seed sets (RealTime QA has no question to decline);",
             "\"differ\": questions the one-article run answers differently from the four-article run (same questions).", ""]
    header = "| configuration | " + " | ".join(shape for shape, _ in shapes) + " | abstention P / R (4 / 1) | citations per answer | differ |"
    lines += [header, "|" + "---|" * (len(shapes) + 4)]
    for row in rows:
        r = row["results"]
        cells = [" / ".join(f"{r[shape][k]:.3f}" for k in KEYS[:4]) for shape, _ in shapes]
        abst = " · ".join(f"{r[shape]['abstention_precision']:.3f} / {r[shape]['abstention_recall']:.3f}" for shape in ("seeds (4 articles)", "one article"))
        cites = " · ".join(f"{r[shape]['citations per answer']:.2f}" for shape, _ in shapes)
        lines.append(f"| {row['config']} | " + " | ".join(cells) + f" | {abst} | {cites} | {len(row['one_vs_four_differ'])} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"reports: {args.out.with_suffix('.json')}, {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
