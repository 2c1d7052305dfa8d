"""What the model is shown: for each question, the passages the LLM path would put in its prompt
(retrieval, the support gate, the supporting-passages cut), and whether a gold answer is in them.
No model is called. With an LLM report of the same questions, its answers are split by that.

    python eval/llm_ceiling.py --report eval/reports/realtimeqa-llm.json -- --dataset realtimeqa --data ../shared/data/realtimeqa --no-ingest

Arguments after ``--`` go to the eval (eval/run.py); ``--llm --no-peer`` are added. Settings come
from the environment as usual (ASSISTANT_PROMPT_SUPPORT_RATIO=0 shows all k passages).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # assistant_eval, from a checkout not installed


def shown_passages(eval_args: list[str]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The prompt's passages block per standalone question, and the eval rows, with the model replaced."""
    from assistant_eval.cli import main
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    import assistant.answer.generative as generative
    from assistant.answer import CANNOT_ANSWER

    shown: dict[str, str] = {}

    def record(self: Any, chain: Any, inputs: dict[str, str], passage_count: int, gate: Any) -> str:
        shown[inputs["question"]] = inputs["passages"]
        return CANNOT_ANSWER

    os.environ.setdefault("ASSISTANT_BASE_URL", "http://127.0.0.1:9/v1")  # never called
    os.environ.setdefault("ASSISTANT_MODEL", "none")
    os.environ.setdefault("ASSISTANT_API_KEY", "none")
    os.environ.setdefault("ASSISTANT_QUOTE_WHEN_MODEL_DECLINES", "false")  # the fake model declines: no quote needed
    generative.make_chat_model = lambda settings: FakeListChatModel(responses=[CANNOT_ANSWER])  # type: ignore[assignment]
    generative.GenerativeAnswerer._reply = record  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()):
        out = Path(scratch) / "shown"
        code = main(["--json", "--llm", "--no-peer", "--out", str(out), *eval_args])
        if code:
            raise SystemExit(f"the eval failed with exit code {code}")
        rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    return shown, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, help="an LLM eval report (REPORT.json) of the same questions: split its answers")
    parser.add_argument("eval_args", nargs=argparse.REMAINDER, help="-- then the eval's arguments")
    args = parser.parse_args()
    from assistant_eval.metrics import gold_contained

    shown, rows = shown_passages([a for a in args.eval_args if a != "--"])
    answerable = [r for r in rows if not r["should_abstain"]]
    reached = [r for r in answerable if r["standalone_question"] in shown]
    has_gold = {r["id"]: bool(gold_contained(shown[r["standalone_question"]], r["gold"])) for r in reached}
    sizes = [len(shown[r["standalone_question"]]) for r in reached]
    print(f"answerable questions: {len(answerable)}; reach the model (past the support gate): {len(reached)}; "
          f"gold answer in the passages shown: {sum(has_gold.values())} ({sum(has_gold.values()) / max(1, len(answerable)):.3f}); "
          f"median passages block: {statistics.median(sizes) if sizes else 0:.0f} characters")
    if args.report:
        outcomes: Counter[str] = Counter()
        for row in json.loads(args.report.read_text())["rows"]:
            if row["should_abstain"]:
                continue
            where = "gold in passages" if has_gold.get(row["id"]) else ("not in passages" if row["id"] in has_gold else "declined by the gate")
            result = "declined" if row["abstained"] else ("contains gold" if row["gold_contained"] else "wrong")
            outcomes[f"{where}: {result}"] += 1
        for key, count in sorted(outcomes.items()):
            print(f"  {key}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
