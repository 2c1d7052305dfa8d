"""A provider outage during an eval: the questions that raised are errors, never abstentions.

The seed eval runs with a model behind a real HTTP server on 127.0.0.1 that goes down for a stretch
of questions. Those questions must be counted in ``errors``, left out of every metric, and fail
``--check`` unless allowed; every metric must equal a run over the other questions alone.
"""

from __future__ import annotations

from pathlib import Path

import assistant_eval as ev
import pytest
from servers import ScriptedOpenAIServer

from assistant.config import Settings
from assistant.engine import Assistant
from assistant.ingest import ingest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
REPLY = "Microsoft invested roughly $13 billion in OpenAI [1]."


def test_questions_that_raise_are_errors_not_abstentions(tmp_path: Path) -> None:
    settings_args = {"index": tmp_path / "index", "model": "m", "timeout": 5, "max_retries": 0}
    ingest([ROOT / "seeds"], Settings(index=tmp_path / "index"))
    everything = ev.load_seed_questions(ROOT / "eval" / "questions.jsonl", ROOT / "seeds")
    questions = [q for q in everything if not q.follows]  # every type, the unanswerable ones included
    with ScriptedOpenAIServer([REPLY]) as server:
        assistant = Assistant(Settings(base_url=server.url, **settings_args))

        def outage(done: int, total: int) -> None:  # down after the 30th question, up again after the 44th
            server.down = 30 <= done < 44

        with_outage = ev.run_eval(assistant, questions, progress=outage)
        errored = {row["id"] for row in with_outage.rows if row["error"]}
        assert errored, "the outage must have hit questions that reached the model"
        assert all("503" in row["error"] for row in with_outage.rows if row["error"])
        assert not any(row["abstained"] for row in with_outage.rows if row["error"]), "an error is never an abstention"

        server.down = False
        without = ev.run_eval(assistant, [q for q in questions if q.id not in errored])

    totals, clean = with_outage.totals, without.totals
    assert totals["errors"] == len(errored) and clean["errors"] == 0
    assert totals["n"] == len(questions) and totals["n_scored"] == len(questions) - len(errored) == clean["n"]
    for key in (*ev.QUALITY_KEYS, "abstention_rate", "answerable_abstained", "n_answerable", "n_should_abstain"):
        assert totals[key] == clean[key], key
    assert totals["abstention_precision"] is not None and totals["abstention_recall"] is not None

    [failure] = ev.check_thresholds(totals, {"min": {}})
    assert "errors = " in failure
    assert ev.check_thresholds(totals, {"min": {}}, max_errors=len(errored)) == []
    assert ev.check_thresholds(totals, {"min": {}, "max_errors": len(errored)}) == []
