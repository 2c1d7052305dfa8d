"""Two eval reports side by side on the questions both asked: the same questions over two indexes
(one article against the whole seeds/ folder), two settings, or two versions.

    python eval/compare.py eval/reports/seed-one-article.json eval/reports/seed-offline.json --out eval/reports/seed-one-vs-four

Lists every question whose answer differs (declined, answered, or answered differently), with
whether each contained the gold answer, and the totals over the shared questions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

METRICS = ("gold_contained", "citation_precision", "f1")


def shared_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if not r["should_abstain"] and not r["error"]]
    answered = [r for r in answerable if not r["abstained"]]
    unanswerable = [r for r in rows if r["should_abstain"] and not r["error"]]
    totals: dict[str, Any] = {"questions": len(rows), "answerable declined": sum(r["abstained"] for r in answerable),
                              "unanswerable declined": f"{sum(r['abstained'] for r in unanswerable)} of {len(unanswerable)}"}
    for metric in METRICS:
        scored = [r[metric] for r in (answered if metric == "citation_precision" else answerable) if r.get(metric) is not None]
        totals[metric] = round(sum(scored) / len(scored), 3) if scored else None
    return totals


def compare(left: dict[str, Any], right: dict[str, Any], names: tuple[str, str]) -> str:
    by_id = {row["id"]: row for row in right["rows"]}
    pairs = [(row, by_id[row["id"]]) for row in left["rows"] if row["id"] in by_id]
    differing = [(a, b) for a, b in pairs if (a["abstained"], a["prediction"]) != (b["abstained"], b["prediction"])]
    lines = [f"# {names[0]} vs {names[1]}", "", f"Left: `{left['command']}`", "", f"Right: `{right['command']}`", "",
             f"{len(pairs)} questions in both; {len(differing)} answered differently.", "",
             f"| over the shared questions | {names[0]} | {names[1]} |", "|---|---|---|"]
    a_totals, b_totals = shared_totals([a for a, _ in pairs]), shared_totals([b for _, b in pairs])
    lines += [f"| {key} | {a_totals[key]} | {b_totals[key]} |" for key in a_totals]
    if differing:
        lines += ["", "| question | " + " | ".join(names) + " |", "|---|---|---|"]
        for a, b in differing:
            lines.append(f"| {a['id']}: {a['question']} | {_cell(a)} | {_cell(b)} |")
    return "\n".join(lines) + "\n"


def _cell(row: dict[str, Any]) -> str:
    if row["abstained"]:
        return f"declined (best support {row['best_relevance']})" + (" ✓" if row["should_abstain"] else "")
    mark = "✓" if row.get("gold_contained") == 1.0 else "✗"
    cited = ", ".join(dict.fromkeys(c["article_id"] for c in row["citations"]))  # why answers differ: often another article
    return f"{mark} {' / '.join(row['prediction'].splitlines())[:140].replace('|', '/')} (quotes {cited})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("left", type=Path)
    p.add_argument("right", type=Path)
    p.add_argument("--names", nargs=2, default=None, help="column names (default: the file names)")
    p.add_argument("--out", type=Path, help="write OUT.md (else print)")
    args = p.parse_args(argv)
    names = tuple(args.names) if args.names else (args.left.stem, args.right.stem)
    report = compare(json.loads(args.left.read_text(encoding="utf-8")), json.loads(args.right.read_text(encoding="utf-8")), names)  # type: ignore[arg-type]
    if args.out:
        args.out.with_suffix(".md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
