"""Fail (exit 1) when an eval report's totals fall below the committed minimums.

    python eval/check_thresholds.py eval/reports/seed-offline.json [--thresholds eval/thresholds.json]

`python eval/run.py --check eval/thresholds.json` does the same right after a run; CI runs
tests/integration/test_seed_eval.py, which runs the seed eval offline and asserts every threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "eval"))  # assistant_eval, from a checkout not installed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Check an eval report against eval/thresholds.json.")
    p.add_argument("report", type=Path, help="REPORT.json written by eval/run.py")
    p.add_argument("--thresholds", type=Path, default=ROOT / "eval" / "thresholds.json")
    p.add_argument("--max-errors", type=int, metavar="N", help="questions allowed to have raised (default: the file's max_errors, else 0)")
    args = p.parse_args(argv)
    from assistant_eval.reports import check_thresholds, load_report

    from assistant.errors import InputError

    try:
        report = load_report(args.report)
        thresholds = json.loads(args.thresholds.read_text(encoding="utf-8"))
    except (InputError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failures = check_thresholds(report["totals"], thresholds, args.max_errors)
    for failure in failures:
        print(f"below threshold: {failure}", file=sys.stderr)
    if not failures:
        print(f"ok: {len(thresholds.get('min', {}))} metrics at or above their thresholds")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
