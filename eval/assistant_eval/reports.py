"""Reports: the totals as a table, Markdown and a chart; ratios to the peer, deltas to a baseline,
and the thresholds check. Every report carries the command that made it.

Out of scope: measuring (runner.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from assistant.errors import InputError

from .metrics import mean
from .runner import EvalResult, abstention_sweep

QUALITY_KEYS = (
    "hit_at_1", "hit_at_k", "mrr", "exact_match", "f1", "gold_contained",
    "citation_precision", "citation_recall", "abstention_precision", "abstention_recall",
)  # fractions in [0, 1], higher is better: what thresholds, ratios and the chart are about
EXTRA_KEYS = ("support_recall_at_k", "citations_stating_answer", "abstention_rate", "answerable_abstained")  # reported, not thresholded


def ratios(project: dict[str, Any], peer: dict[str, Any]) -> dict[str, float | None]:
    """project / peer for every quality metric and latency stage (None when the peer's value is 0 or missing)."""
    flat_a, flat_b = flat_metrics(project), flat_metrics(peer)
    out: dict[str, float | None] = {}
    for key, a in flat_a.items():
        b = flat_b.get(key)
        out[key] = round(a / b, 3) if a is not None and b else None
    return out


def flat_metrics(totals: dict[str, Any]) -> dict[str, float | None]:
    """Quality metrics and latency stages as one flat mapping (``latency_p50_ms.retrieve`` …)."""
    flat: dict[str, float | None] = {key: totals.get(key) for key in QUALITY_KEYS}
    flat.update({key: totals[key] for key in EXTRA_KEYS if key in totals})
    for name in ("latency_p50_ms", "latency_p95_ms"):
        for stage, value in (totals.get(name) or {}).items():
            flat[f"{name}.{stage}"] = value
    return flat


def deltas(totals: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float | None]:
    now, before = flat_metrics(totals), flat_metrics(baseline)
    out: dict[str, float | None] = {}
    for key, a in now.items():
        b = before.get(key)
        out[key] = round(a - b, 4) if a is not None and b is not None else None
    return out


def check_thresholds(totals: dict[str, Any], thresholds: dict[str, Any], max_errors: int | None = None) -> list[str]:
    """One line per metric below its committed minimum (``{"min": {metric: value}}``), and one when more
    questions raised than ``max_errors`` (default: the file's ``max_errors``, else 0); empty when all pass."""
    failures = []
    allowed = max_errors if max_errors is not None else int(thresholds.get("max_errors", 0))
    if totals.get("errors", 0) > allowed:
        failures.append(f"errors = {totals['errors']}: questions raised instead of being answered (allowed: {allowed}; --max-errors N)")
    for key, minimum in thresholds.get("min", {}).items():
        value = flat_metrics(totals).get(key, totals.get(key))
        if value is None or (isinstance(value, float) and math.isnan(value)) or value < minimum:
            failures.append(f"{key} = {value} is below the threshold {minimum}")
    return failures


def load_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the report {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"cannot read the report {path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("totals"), dict):
        raise InputError(f"{path} is not an eval report (no 'totals'); pass a REPORT.json written by eval/run.py")
    return data


def build_report(
    *, dataset: str, command: str, settings: dict[str, Any], project: EvalResult, peer: EvalResult | None = None,
    peer_info: dict[str, Any] | None = None, baseline: dict[str, Any] | None = None, baseline_path: str | None = None,
    peer_name: str = "", peer_description: str = "",
) -> dict[str, Any]:
    from datetime import UTC, datetime

    return {
        "dataset": dataset,
        "command": command,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": settings,
        "totals": project.totals,
        "peer": {"name": peer_name, "description": peer_description, "info": peer_info or {}, "totals": peer.totals} if peer else None,
        "ratios": ratios(project.totals, peer.totals) if peer else None,
        "baseline": {"path": baseline_path, "totals": baseline["totals"], "deltas": deltas(project.totals, baseline["totals"])} if baseline else None,
        "abstention_sweep": abstention_sweep(project.rows) if any(r.get("best_relevance") is not None for r in project.rows) else None,
        "rows": project.rows,
        "peer_rows": peer.rows if peer else None,
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown_report(report: dict[str, Any]) -> str:
    totals, peer, base = report["totals"], report["peer"], report["baseline"]
    lines = [f"# Eval report: {report['dataset']}", "", f"- command: `{report['command']}`", f"- created: {report['created']}"]
    lines += [f"- engine: {report['settings'].get('engine')}, k = {totals['k']}, MRR depth = {totals['mrr_depth']}, "
              f"min_relevance = {report['settings'].get('min_relevance')}, questions: {totals['n']} ({totals['n_answerable']} answerable, "
              f"{totals['n_should_abstain']} should be declined)", ""]
    header = ["metric", "project"] + (["peer", "project/peer"] if peer else []) + (["baseline", "delta"] if base else [])
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, value in flat_metrics(totals).items():
        cells = [f"`{key}`", _fmt(value)]
        if peer:
            cells += [_fmt(flat_metrics(peer["totals"]).get(key)), _fmt((report["ratios"] or {}).get(key))]
        if base:
            cells += [_fmt(flat_metrics(base["totals"]).get(key)), _fmt(base["deltas"].get(key))]
        lines.append("| " + " | ".join(cells) + " |")
    if peer:
        lines += ["", f"**Peer baseline** ({peer['name']}): {peer['description']}"]
        if peer["info"]:
            lines += ["", "Peer index: " + ", ".join(f"{k} {v}" for k, v in peer["info"].items())]
    lines += ["", "Answer and retrieval metrics are over answerable questions; abstention over all. Latencies in ms."]
    errored = [r for r in report["rows"] if r["error"]]
    if errored:
        lines += ["", f"## Errors: {len(errored)} questions raised (left out of every metric above)", "", "| id | question | error |", "|---|---|---|"]
        lines += [f"| {r['id']} | {_short(r['question'], 70)} | {_short(r['error'], 120)} |" for r in errored]
    scored = [r for r in report["rows"] if not r["error"]]
    types = sorted({r["type"] for r in scored})
    if len(types) > 1:
        lines += ["", "## By question type", "", "| type | n | hit@k | mrr | gold contained | f1 | citation recall | abstained |", "|" + "---|" * 8]
        for kind in types:
            rows = [r for r in scored if r["type"] == kind]
            cells = [kind, str(len(rows))] + [_fmt(mean(r.get(key) for r in rows)) for key in ("hit_at_k", "rr", "gold_contained", "f1", "citation_recall")]
            lines.append("| " + " | ".join(cells + [_fmt(sum(r["abstained"] for r in rows) / len(rows))]) + " |")
    if report.get("abstention_sweep"):
        lines += ["", "## Abstention at other `min_relevance` bars", "",
                  "The offline answerer declines when its best sentence scores below the bar (column `best relevance` below).", "",
                  "| min_relevance | abstention precision | abstention recall | answerable declined |", "|---|---|---|---|"]
        for point in report["abstention_sweep"]:
            cells = [f"{point['min_relevance']:.2f}"] + [_fmt(point[key]) for key in ("abstention_precision", "abstention_recall", "answerable_abstained")]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Worst questions", "", "| id | type | question | gold | prediction | hit@k | rr | best relevance |", "|---|---|---|---|---|---|---|---|"]
    for r in worst(scored):
        prediction = "(abstained)" if r["abstained"] else r["prediction"]
        lines.append(f"| {r['id']} | {r['type']} | {_short(r['question'], 70)} | {_short(', '.join(r['gold']) or '(decline)', 30)} | "
                     f"{_short(prediction, 90)} | {_fmt(r['hit_at_k'])} | {_fmt(r['rr'])} | {_fmt(r['best_relevance'])} |")
    return "\n".join(lines) + "\n"


def worst(rows: list[dict[str, Any]], n: int = 10) -> list[dict[str, Any]]:
    """Wrong answers first: declined questions answered, then answerable ones missing their gold answer."""
    def badness(r: dict[str, Any]) -> tuple[float, ...]:
        if r["should_abstain"]:
            return (0.0 if not r["abstained"] else 9.0,)
        return (r["gold_contained"] or 0.0, r["hit_at_k"] or 0.0, r["rr"] or 0.0, r["f1"] or 0.0)

    return [r for r in sorted(rows, key=badness) if badness(r)[0] < 1.0][:n]


def write_chart(path: Path, report: dict[str, Any]) -> Path | None:
    """A bar chart of the quality metrics: project, peer and baseline side by side, deltas to the baseline annotated."""
    series = [("project", report["totals"])]
    if report["peer"]:
        series.append(("peer (LangChain tutorial)", report["peer"]["totals"]))
    if report["baseline"]:
        series.append(("baseline", report["baseline"]["totals"]))
    if len(series) == 1:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [key for key in QUALITY_KEYS if any(t.get(key) is not None for _, t in series)]
    width = 0.8 / len(series)
    figure, axes = plt.subplots(figsize=(max(8, 1.1 * len(keys)), 4.5))
    for i, (label, totals) in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(keys))]
        axes.bar(xs, [totals.get(key) or 0.0 for key in keys], width, label=label)
        if i == 0 and report["baseline"]:
            for x, key in zip(xs, keys, strict=True):
                delta = report["baseline"]["deltas"].get(key)
                if delta is not None:
                    axes.annotate(f"{delta:+.2f}", (x, (totals.get(key) or 0.0) + 0.02), ha="center", fontsize=7)
    axes.set_xticks(range(len(keys)), [key.replace("_", "\n", 1) for key in keys], fontsize=8)
    axes.set_ylim(0, 1.1)
    axes.set_title(f"{report['dataset']}: project vs " + " vs ".join(label for label, _ in series[1:]), fontsize=10)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def write_reports(report: dict[str, Any], out: Path) -> dict[str, Path]:
    """``OUT.json`` (everything), ``OUT.md`` (tables) and ``OUT.png`` (when there is a peer or a baseline)."""
    if out.suffix in (".json", ".md", ".png"):
        out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    written = {"json": out.parent / f"{out.name}.json", "markdown": out.parent / f"{out.name}.md"}
    written["json"].write_text(json.dumps(report, ensure_ascii=False, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    written["markdown"].write_text(markdown_report(report), encoding="utf-8")
    chart = write_chart(out.parent / f"{out.name}.png", report)
    if chart:
        written["chart"] = chart
    return written
