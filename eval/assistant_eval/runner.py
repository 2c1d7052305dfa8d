"""The runner: ask every question through the same code path as `assistant ask` and score it.

It takes anything with ``ask(question, filters, history) -> Answer`` (the real ``Assistant``, the
peer, a test fake), so the numbers come from the code users run. Out of scope: reports (reports.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, runtime_checkable

from assistant.answer import Answer
from assistant.errors import AssistantError
from assistant.types import Filters, Passage

from .datasets import EvalQuestion
from .metrics import citation_scores, exact_match, gold_contained, mean, percentile, precision_recall, retrieval_scores, strip_markers, supports, token_f1

STAGES = ("retrieve", "answer", "first_token", "total")
SPENT = ("condense", "retrieve", "answer")  # the stages that add up to a question's total time
History = list[tuple[str, str]]
Progress = Callable[[int, int], None]


class AskLike(Protocol):
    def ask(self, question: str, filters: Filters | None = None, history: History | None = None) -> Answer: ...


@runtime_checkable
class Ranks(Protocol):
    """A system that can continue its ranking past the passages it showed (for MRR at a depth)."""

    def rank(self, question: str, depth: int, filters: Filters | None = None) -> list[Passage]: ...


@dataclass
class EvalResult:
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


class AssistantUnderTest:
    """The assistant as the runner asks it: ``ask``, and its ranking continued past what it showed."""

    def __init__(self, assistant: Any) -> None:
        self.assistant = assistant

    def ask(self, question: str, filters: Filters | None = None, history: History | None = None) -> Answer:
        return self.assistant.ask(question, filters, history)  # type: ignore[no-any-return]

    def rank(self, question: str, depth: int, filters: Filters | None = None) -> list[Passage]:
        return self.assistant.retriever.retrieve(question, depth, filters or Filters(as_of=date.today()))  # type: ignore[no-any-return]


def _ranking(system: AskLike, answer: Answer, question: str, depth: int, filters: Filters | None) -> list[Passage]:
    """What the retriever gave the answerer (its top k, even when the model was shown fewer),
    continued to ``depth`` from the same retriever (for MRR@depth)."""
    shown = list(answer.retrieved or answer.passages)
    if len(shown) >= depth or not isinstance(system, Ranks):
        return shown
    deeper = system.rank(answer.standalone_question or question, depth, filters)
    seen = {p.chunk_id for p in shown}
    return shown + [p for p in deeper if p.chunk_id not in seen][: depth - len(shown)]


def best_relevance_fn(embedder: Any, weights: Callable[[str], float]) -> Callable[[str, list[Passage]], float]:
    """The extractive answerer's best sentence score for a question (what ``min_relevance`` is compared to)."""
    from assistant.answer.support import best_relevance

    return lambda question, passages: best_relevance(question, passages, embedder, weights)


def run_eval(
    system: AskLike,
    questions: list[EvalQuestion],
    *,
    k: int = 5,
    depth: int = 10,
    all_questions: list[EvalQuestion] | None = None,
    progress: Progress | None = None,
    best_relevance: Callable[[str, list[Passage]], float] | None = None,
) -> EvalResult:
    """Ask every question (follow-ups with the earlier turns as history) and score it.

    Args:
        system: anything with ``ask(question, filters, history) -> Answer``; when it also ``Ranks``
            (``AssistantUnderTest``, the peer), the ranking is continued to ``depth``.
        questions: the questions to score, in order.
        k: the Hit@k cut-off (passages shown to the answerer).
        depth: the MRR cut-off.
        all_questions: where follow-ups find the questions they follow (default: ``questions``);
            an antecedent that is not scored is still asked, to build the history.
        progress: called with (done, total).
        best_relevance: diagnostic: the answerer's best sentence score, recorded per row.

    Returns:
        Per-question rows and the totals (see ``summarize``).
    """
    by_id = {q.id: q for q in (all_questions or questions)}
    by_id.update({q.id: q for q in questions})
    answers: dict[str, Answer] = {}
    rows = []

    def filters_for(q: EvalQuestion) -> Filters | None:
        return Filters(as_of=q.as_of) if q.as_of else None

    def history_for(q: EvalQuestion) -> History:
        chain: list[str] = []
        current = q.follows
        while current and current in by_id and current not in chain:
            chain.insert(0, current)
            current = by_id[current].follows
        history: History = []
        for qid in chain:
            if qid not in answers:
                answers[qid] = system.ask(by_id[qid].question, filters_for(by_id[qid]), list(history))
            history.append((by_id[qid].question, answers[qid].text))
        return history

    for done, q in enumerate(questions, start=1):
        filters = filters_for(q)
        error = None
        try:
            history = history_for(q)
            answer = system.ask(q.question, filters, history)
            ranking = _ranking(system, answer, q.question, depth, filters)
        except AssistantError as exc:  # one failed question (e.g. a provider timeout) must not sink the run
            error = str(exc)  # an error, never an abstention: the row is left out of every metric
            answer, ranking = Answer(q.question, "", abstained=False), []
        answers[q.id] = answer
        rows.append(score_question(q, answer, ranking, k, depth, error, best_relevance))
        if progress:
            progress(done, len(questions))
    return EvalResult(rows, summarize(rows, k, depth))


def score_question(
    q: EvalQuestion, answer: Answer, ranking: list[Passage], k: int, depth: int, error: str | None = None,
    best_relevance: Callable[[str, list[Passage]], float] | None = None,
) -> dict[str, Any]:
    """One JSON-ready row: the question, what came back, and every per-question metric."""
    prediction = "" if answer.abstained else strip_markers(answer.text)
    short = "" if answer.abstained else strip_markers(answer.short_answer or answer.text)
    cited = [(c.passage.article_id, c.start, c.end) for c in answer.citations]
    row: dict[str, Any] = {
        "id": q.id,
        "type": q.type,
        "question": q.question,
        "standalone_question": answer.standalone_question or q.question,
        "as_of": q.as_of.isoformat() if q.as_of else None,
        "gold": q.answers,
        "prediction": prediction,
        "short_answer": short,
        "engine": answer.engine,
        "fallback": answer.fallback or None,
        "empty": not answer.abstained and not prediction.strip(),
        "unsupported_sentences": sum(not s.supported for s in answer.sentences),
        "abstained": answer.abstained,
        "should_abstain": q.should_abstain,
        "error": error,
        "retrieved": [f"{p.article_id}@{p.start}-{p.end}" for p in ranking],
        "citations": [
            {"article_id": a, "start": s, "end": e, "correct": any(supports(a, s, e, g) for g in (*q.support, *q.also)),
             "states_answer": bool(gold_contained(c.quote, q.answers)) if q.answers else None}
            for (a, s, e), c in zip(cited, answer.citations, strict=True)
        ],
        "timings_ms": {key: round(value, 2) for key, value in answer.timings_ms.items()},
        "best_relevance": None,
    }
    if best_relevance is not None and answer.passages:
        # Recomputed: the offline answerer may quote the top-ranked passage's near-best sentence, not the best.
        best = best_relevance(answer.standalone_question or q.question, list(answer.passages))
        row["best_relevance"] = round(best, 4)
    if q.should_abstain or error is not None:
        row.update(exact_match=None, f1=None, gold_contained=None, hit_at_1=None, hit_at_k=None, rr=None, citation_precision=None, citation_recall=None,
                   citations_stating_answer=None)
        return row
    row.update(
        exact_match=exact_match(short, q.answers),
        f1=round(token_f1(short, q.answers), 4),
        gold_contained=gold_contained(prediction, q.answers),
        **retrieval_scores(ranking, q.support, k, depth, q.article_level),
    )
    row["citation_precision"], row["citation_recall"] = citation_scores(cited, q.support, q.article_level, q.also)
    # Beside the gold-evidence view: does the quoted sentence itself state a gold answer? (another
    # article may report the same fact; a gold article's sentence may not state it)
    stating = [c["states_answer"] for c in row["citations"] if c["states_answer"] is not None]
    row["citations_stating_answer"] = sum(stating) / len(stating) if stating else None
    return row


def abstention_sweep(rows: list[dict[str, Any]], bars: Sequence[float] = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)) -> list[dict[str, Any]]:
    """What abstention would be at other ``min_relevance`` bars (offline answerer: it abstains when best < bar)."""
    scored = [r for r in rows if r.get("best_relevance") is not None]
    answerable = [r for r in scored if not r["should_abstain"]]
    sweep = []
    for bar in bars:
        declined = [r["best_relevance"] < bar for r in scored]
        precision, recall = precision_recall(declined, [r["should_abstain"] for r in scored])
        sweep.append({
            "min_relevance": bar,
            "abstention_precision": round(precision, 4) if precision is not None else None,
            "abstention_recall": round(recall, 4) if recall is not None else None,
            "answerable_abstained": round(sum(r["best_relevance"] < bar for r in answerable) / len(answerable), 4) if answerable else None,
        })
    return sweep


def summarize(rows: list[dict[str, Any]], k: int, depth: int) -> dict[str, Any]:
    """Totals: answer and retrieval metrics over answerable questions, abstention over all, latency per stage.

    A question that raised (``error``) is counted in ``errors`` and left out of every other metric:
    it was neither answered nor declined.
    """
    errored = [r for r in rows if r["error"]]
    rows = [r for r in rows if not r["error"]]
    answerable = [r for r in rows if not r["should_abstain"]]
    abst_precision, abst_recall = precision_recall([r["abstained"] for r in rows], [r["should_abstain"] for r in rows])

    def avg(key: str, subset: list[dict[str, Any]] = answerable) -> float | None:
        value = mean(r.get(key) for r in subset)
        return round(value, 4) if value is not None else None

    latencies: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for row in rows:
        timings = row["timings_ms"]
        for stage in ("retrieve", "answer", "first_token"):
            if stage in timings:
                latencies[stage].append(timings[stage])
        if timings:
            latencies["total"].append(sum(timings.get(stage, 0.0) for stage in SPENT))

    def pct(q: float) -> dict[str, float | None]:
        return {stage: (round(v, 1) if (v := percentile(values, q)) is not None else None) for stage, values in latencies.items()}

    totals = {
        "n": len(rows) + len(errored),
        "n_scored": len(rows),
        "n_answerable": len(answerable),
        "n_should_abstain": len(rows) - len(answerable),
        "k": k,
        "mrr_depth": depth,
        "hit_at_1": avg("hit_at_1"),
        "hit_at_k": avg("hit_at_k"),
        "mrr": avg("rr"),
        "exact_match": avg("exact_match"),
        "f1": avg("f1"),
        "gold_contained": avg("gold_contained"),
        "citation_precision": avg("citation_precision"),
        "citation_recall": avg("citation_recall"),
        "abstention_precision": round(abst_precision, 4) if abst_precision is not None else None,
        "abstention_recall": round(abst_recall, 4) if abst_recall is not None else None,
        "abstention_rate": round(sum(r["abstained"] for r in rows) / len(rows), 4) if rows else None,
        "answerable_abstained": round(sum(r["abstained"] for r in answerable) / len(answerable), 4) if answerable else None,
        "errors": len(errored),
        "empty_answers": sum(1 for r in rows if r.get("empty")),
        "fallback_answers": sum(1 for r in rows if r.get("engine") == "extractive-fallback"),
        "unsupported_sentences": sum(r.get("unsupported_sentences", 0) for r in rows),
        "latency_p50_ms": pct(50),
        "latency_p95_ms": pct(95),
        "citations_stating_answer": avg("citations_stating_answer"),
    }
    if any("support_recall_at_k" in r for r in answerable):
        totals["support_recall_at_k"] = avg("support_recall_at_k")
    return totals
