"""Evaluation: datasets, metrics, the runner behind ``eval/run.py``, the LangChain-tutorial peer and reports.

Metrics are pure functions over plain values. The runner takes anything with
``ask(question, filters, history) -> Answer`` (the real ``Assistant``, the peer, a test fake), so the
numbers come from the same code path as ``assistant ask``. Out of scope: LLM-judged answer quality
and the multiple-choice score of RealTime QA (its ``choices`` are never shown to the answerer).
"""

from __future__ import annotations

import json
import math
import random
import re
import string
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from .answer_types import Answer
from .errors import AssistantError, InputError
from .retrieval import Filters, Passage

NO_ANSWER_TYPES = {"unanswerable", "injection"}
QUALITY_KEYS = (
    "hit_at_1", "hit_at_k", "mrr", "exact_match", "f1", "gold_contained",
    "citation_precision", "citation_recall", "abstention_precision", "abstention_recall",
)  # fractions in [0, 1], higher is better: what thresholds, ratios and the chart are about
EXTRA_KEYS = ("support_recall_at_k", "abstention_rate", "answerable_abstained")  # reported, not thresholded
STAGES = ("retrieve", "answer", "first_token", "total")
SPENT = ("condense", "retrieve", "answer")  # the stages that add up to a question's total time
History = list[tuple[str, str]]
Progress = Callable[[int, int], None]


class AskLike(Protocol):
    def ask(self, question: str, filters: Filters | None = None, history: History | None = None) -> Answer: ...


# --- datasets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gold:
    """One piece of gold support: a verbatim quote (with its spans in the article) or a whole article."""

    article_id: str
    quote: str = ""
    spans: tuple[tuple[int, int], ...] = ()  # empty: article-level gold


@dataclass
class EvalQuestion:
    id: str
    question: str
    type: str
    answers: list[str]  # any of them is right; empty when the question should be declined
    support: list[Gold] = field(default_factory=list)
    follows: str | None = None
    as_of: date | None = None
    article_level: bool = False

    @property
    def should_abstain(self) -> bool:
        return self.type in NO_ANSWER_TYPES or not self.support


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number} is not valid JSON ({exc.msg})") from None
    return rows


def article_texts(paths: Iterable[Path]) -> dict[str, str]:
    """Article id → text, loaded exactly as ``assistant ingest`` loads them (so offsets agree)."""
    from .articles import load_paths

    return {a.id: a.text for a in load_paths(list(paths)).articles}


def find_spans(text: str, quote: str) -> tuple[tuple[int, int], ...]:
    spans, start = [], text.find(quote)
    while start >= 0 and quote:
        spans.append((start, start + len(quote)))
        start = text.find(quote, start + 1)
    return tuple(spans)


def load_seed_questions(path: Path, articles_dir: Path) -> list[EvalQuestion]:
    """The fixed question set (eval/questions.jsonl); gold quotes are located in the seed articles."""
    texts = article_texts([articles_dir])
    questions = []
    for row in _read_jsonl(path):
        try:
            support = []
            for item in row["support"]:
                text = texts.get(item["article_id"])
                if text is None:
                    raise InputError(f"{path}: question {row['id']} cites article {item['article_id']!r}, which is not in {articles_dir}")
                spans = find_spans(text, item["quote"])
                if not spans:
                    raise InputError(f"{path}: question {row['id']}: quote not found verbatim in {item['article_id']}: {item['quote'][:60]!r}")
                support.append(Gold(item["article_id"], item["quote"], spans))
            answers = [row["answer"]] if row["answer"] else []
            questions.append(EvalQuestion(row["id"], row["question"], row["type"], answers, support, row.get("follows")))
        except (KeyError, TypeError) as exc:
            raise InputError(f"{path}: a question lacks the key {exc} (expected id, question, type, answer, support, follows)") from None
    return questions


def parse_question_date(value: str) -> date | None:
    match = re.match(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$", (value or "").strip())
    return date(int(match[1]), int(match[2]), int(match[3])) if match else None


def realtimeqa_paths(data: Path) -> tuple[Path, Path]:
    """(questions file, corpus dir) of a RealTime QA folder."""
    questions, corpus = data / "questions_dev.jsonl", data / "corpus"
    if not questions.is_file() or not corpus.is_dir():
        raise InputError(f"{data} is not a RealTime QA folder: expected questions_dev.jsonl and corpus/ in it (see ../shared/data/realtimeqa/README.md)")
    return questions, corpus


def load_realtimeqa(questions_file: Path) -> list[EvalQuestion]:
    """RealTime QA dev questions: short gold answers, article-level gold evidence, a question date."""
    questions = []
    for row in _read_jsonl(questions_file):
        try:
            questions.append(
                EvalQuestion(
                    id=str(row["question_id"]),
                    question=row["question"],
                    type=str(row.get("question_source") or "realtimeqa").lower(),
                    answers=[a for a in row["answer_text"] if a],
                    support=[Gold(d) for d in row["gold_doc_ids"]],
                    as_of=parse_question_date(row.get("question_date", "")),
                    article_level=True,
                )
            )
        except (KeyError, TypeError) as exc:
            raise InputError(f"{questions_file}: a question lacks the key {exc} (expected question_id, question, answer_text, gold_doc_ids)") from None
    return questions


def select(questions: list[EvalQuestion], limit: int | None = None, sample: int | None = None, seed: int = 0) -> list[EvalQuestion]:
    """A reproducible random ``sample`` (kept in file order), then the first ``limit``."""
    chosen = questions
    if sample is not None and sample < len(chosen):
        keep = sorted(random.Random(seed).sample(range(len(chosen)), sample))
        chosen = [chosen[i] for i in keep]
    return chosen[:limit] if limit is not None else chosen


# --- metrics (pure) --------------------------------------------------------------------------

_STRIP = set(string.punctuation) | {"\u201c", "\u201d", "\u2018", "\u2019"}  # SQuAD's ASCII punctuation + curly quotes
_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation (lower case, punctuation and a/an/the removed, whitespace collapsed), curly quotes too."""
    text = "".join(ch for ch in text.lower() if ch not in _STRIP)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def strip_markers(text: str) -> str:
    return _MARKERS.sub("", text).strip()


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    return float(any(normalize_answer(prediction) == normalize_answer(g) for g in golds))


def _f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1, the best over the gold answers."""
    return max((_f1(prediction, g) for g in golds), default=0.0)


def gold_contained(prediction: str, golds: Sequence[str]) -> float:
    """1 when a normalised gold answer appears as a run of whole tokens in the normalised prediction."""
    pred = normalize_answer(prediction).split()
    for gold in golds:
        ref = normalize_answer(gold).split()
        if ref and any(pred[i : i + len(ref)] == ref for i in range(len(pred) - len(ref) + 1)):
            return 1.0
    return 0.0


def spans_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Half-open [start, end) spans share at least one character."""
    return a[0] < b[1] and b[0] < a[1]


def supports(article_id: str, start: int, end: int, gold: Gold) -> bool:
    """A passage or citation matches gold support: same article and (for quotes) overlapping span."""
    if article_id != gold.article_id:
        return False
    return not gold.spans or any(spans_overlap((start, end), span) for span in gold.spans)


def unique_articles(passages: Sequence[Passage]) -> list[str]:
    return list(dict.fromkeys(p.article_id for p in passages))


def retrieval_scores(passages: Sequence[Passage], support: Sequence[Gold], k: int, depth: int, article_level: bool) -> dict[str, float]:
    """Hit@1, Hit@k and reciprocal rank (within ``depth``) over passages, or over their de-duplicated articles."""
    if article_level:
        gold = {g.article_id for g in support}
        ranked = unique_articles(passages[:depth])
        rank = next((i for i, a in enumerate(ranked, start=1) if a in gold), 0)
        return {
            "hit_at_1": float(bool(gold & set(unique_articles(passages[:1])))),
            "hit_at_k": float(bool(gold & set(unique_articles(passages[:k])))),
            "rr": 1.0 / rank if rank else 0.0,
        }
    flags = [any(supports(p.article_id, p.start, p.end, g) for g in support) for p in passages[:depth]]
    rank = next((i for i, hit in enumerate(flags, start=1) if hit), 0)
    covered = sum(any(supports(p.article_id, p.start, p.end, g) for p in passages[:k]) for g in support)
    return {
        "hit_at_1": float(any(flags[:1])),
        "hit_at_k": float(any(flags[:k])),
        "rr": 1.0 / rank if rank else 0.0,
        "support_recall_at_k": covered / len(support) if support else 0.0,
    }


def citation_scores(cited: Sequence[tuple[str, int, int]], support: Sequence[Gold], article_level: bool = False) -> tuple[float | None, float | None]:
    """(precision, recall) of (article_id, start, end) citations against the gold support; None when undefined.

    Precision: share of citations that match a gold quote (or gold article). Recall: share of gold
    quotes matched by a citation; with article-level gold (alternative evidence) 1 when any gold article is cited.
    """
    if not support:
        return None, None
    correct = [any(supports(a, s, e, g) for g in support) for a, s, e in cited]
    precision = sum(correct) / len(correct) if cited else None
    if article_level:
        return precision, float(any(correct))
    covered = sum(any(supports(a, s, e, g) for a, s, e in cited) for g in support)
    return precision, covered / len(support)


def precision_recall(predicted: Sequence[bool], actual: Sequence[bool]) -> tuple[float | None, float | None]:
    """Precision and recall of the positive class; None when a denominator is zero."""
    true_pos = sum(p and a for p, a in zip(predicted, actual, strict=True))
    n_pred, n_actual = sum(predicted), sum(actual)
    return (true_pos / n_pred if n_pred else None), (true_pos / n_actual if n_actual else None)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


# --- the runner --------------------------------------------------------------------------------


@dataclass
class EvalResult:
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


def _ranking(system: Any, answer: Answer, question: str, depth: int, filters: Filters | None) -> list[Passage]:
    """What the answerer saw, continued to ``depth`` from the same retriever (for MRR@depth)."""
    shown = list(answer.passages)
    if len(shown) >= depth:
        return shown
    deeper: list[Passage] = []
    if hasattr(system, "rank"):
        deeper = system.rank(question, depth, filters)
    elif hasattr(system, "retriever"):
        deeper = system.retriever.retrieve(answer.standalone_question or question, depth, filters or Filters(as_of=date.today()))
    seen = {p.chunk_id for p in shown}
    return shown + [p for p in deeper if p.chunk_id not in seen][: depth - len(shown)]


def best_relevance_fn(embedder: Any, weights: Callable[[str], float] | None = None) -> Callable[[str, list[Passage]], float]:
    """The extractive answerer's best sentence score for a question (what ``min_relevance`` is compared to)."""
    from .extractive import best_relevance

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
        system: anything with ``ask(question, filters, history) -> Answer``; when it also has
            ``rank(question, depth, filters)`` or a ``retriever``, the ranking is continued to ``depth``.
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
        "empty": not answer.abstained and not prediction.strip(),
        "unsupported_sentences": sum(not s.supported for s in answer.sentences),
        "abstained": answer.abstained,
        "should_abstain": q.should_abstain,
        "error": error,
        "retrieved": [f"{p.article_id}@{p.start}-{p.end}" for p in ranking],
        "citations": [
            {"article_id": a, "start": s, "end": e, "correct": any(supports(a, s, e, g) for g in q.support)} for a, s, e in cited
        ],
        "timings_ms": {key: round(value, 2) for key, value in answer.timings_ms.items()},
        "best_relevance": None,
    }
    if best_relevance is not None and answer.passages:
        # The offline answerer's citation scores are its sentence relevance and it always cites its best
        # sentence, so only a declined answer needs the (embedding) recomputation.
        best = max((c.score for c in answer.citations), default=None) if not answer.abstained else None
        if best is None:
            best = best_relevance(answer.standalone_question or q.question, list(answer.passages))
        row["best_relevance"] = round(best, 4)
    if q.should_abstain or error is not None:
        row.update(exact_match=None, f1=None, gold_contained=None, hit_at_1=None, hit_at_k=None, rr=None, citation_precision=None, citation_recall=None)
        return row
    row.update(
        exact_match=exact_match(short, q.answers),
        f1=round(token_f1(short, q.answers), 4),
        gold_contained=gold_contained(prediction, q.answers),
        **retrieval_scores(ranking, q.support, k, depth, q.article_level),
    )
    row["citation_precision"], row["citation_recall"] = citation_scores(cited, q.support, q.article_level)
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
    }
    if any("support_recall_at_k" in r for r in answerable):
        totals["support_recall_at_k"] = avg("support_recall_at_k")
    return totals


# --- the peer: the LangChain RAG tutorial pipeline -----------------------------------------------

PEER_DESCRIPTION = (
    "LangChain RAG tutorial pipeline: RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True) "
    "over each article's text, a Chroma collection (default settings) with the same local MiniLM embedder, similarity_search top-4; "
    "no hybrid search, re-ranking, date preference or follow-up rewriting. Its answer comes from the same extractive answerer "
    "(assistant.extractive.answer_extractively, same min_relevance and term weights) over its 4 chunks, so the answerer is held equal and only "
    "chunking and retrieval differ. Its Hit@k and MRR use the same cut-offs over its similarity ranking."
)


class PeerBaseline:
    """The tutorial pipeline over the same articles, kept on disk between runs (a manifest says what is embedded)."""

    name = "langchain-rag-tutorial"
    CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 1000, 200, 4
    GROUP = 2048  # chunks embedded and committed together

    def __init__(
        self, persist_dir: Path, embedder: Any, min_relevance: float, depth: int = 10, collection: str = "rag_tutorial",
        weights: Callable[[str], float] | None = None,
    ) -> None:
        import os

        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        self.path = Path(persist_dir)
        self.path.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.min_relevance = min_relevance
        self.weights = weights  # the project's term weights (IDF), so the answerer is the same one
        self.depth = max(depth, self.TOP_K)
        self.collection_name = collection
        self._client = chromadb.PersistentClient(path=str(self.path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma(client=self._client, collection_name=collection, embedding_function=embedder)
        self._cache: tuple[str, list[Passage]] | None = None

    @property
    def _manifest_path(self) -> Path:
        return self.path / "peer_manifest.json"

    def _signature(self) -> dict[str, Any]:
        from .embeddings import embedder_name

        return {
            "embedder": embedder_name(self.embedder), "chunk_size": self.CHUNK_SIZE, "chunk_overlap": self.CHUNK_OVERLAP, "collection": self.collection_name,
        }

    def _load_manifest(self) -> dict[str, Any]:
        try:
            data = json.loads(self._manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if data.get("signature") != self._signature():
            data = {"signature": self._signature(), "articles": {}}
        return data

    def _save_manifest(self, manifest: dict[str, Any]) -> None:
        tmp = self._manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest), encoding="utf-8")
        tmp.replace(self._manifest_path)

    def _all_ids(self) -> list[str]:
        ids: list[str] = []
        while True:
            page = self.store._collection.get(include=[], limit=5000, offset=len(ids))["ids"]
            ids.extend(page)
            if len(page) < 5000:
                return ids

    def _split(self, article: Any) -> list[Any]:
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=self.CHUNK_SIZE, chunk_overlap=self.CHUNK_OVERLAP, add_start_index=True)
        meta = {"article_id": article.id, "title": article.title, "source": article.source, "url": article.url, "published": article.published}
        docs = splitter.split_documents([Document(page_content=article.text, metadata=meta)])
        for doc in docs:  # start_index comes from str.find: make sure it points at the chunk
            start = doc.metadata["start_index"]
            if start < 0 or article.text[start : start + len(doc.page_content)] != doc.page_content:
                doc.metadata["start_index"] = max(article.text.find(doc.page_content), 0)
        return docs

    def sync(self, articles: list[Any], progress: Progress | None = None) -> dict[str, Any]:
        """Embed what is new or changed, drop what is gone; an unchanged corpus embeds nothing."""
        started = time.perf_counter()
        manifest = self._load_manifest()
        recorded: dict[str, Any] = manifest["articles"]  # article id -> [content hash, chunks]
        collection = self.store._collection
        if collection.count() != sum(n for _, n in recorded.values()):  # a crash mid-run, or a new signature: reconcile
            ids = self._all_ids()
            counts = Counter(i.rsplit(":", 1)[0] for i in ids)
            recorded = {a: (h, n) for a, (h, n) in recorded.items() if counts.get(f"{a}:{h[:12]}", 0) == n}
            keep = {f"{a}:{h[:12]}" for a, (h, _) in recorded.items()}
            orphans = [i for i in ids if i.rsplit(":", 1)[0] not in keep]
            for first in range(0, len(orphans), 5000):
                collection.delete(ids=orphans[first : first + 5000])
        wanted = {a.id: a for a in articles}
        stale = [a for a, (h, _) in recorded.items() if a not in wanted or wanted[a].content_hash != h]
        for first in range(0, len(stale), 500):
            collection.delete(where={"article_id": {"$in": stale[first : first + 500]}})  # type: ignore[dict-item]
        for a in stale:
            recorded.pop(a, None)
        manifest["articles"] = recorded
        self._save_manifest(manifest)
        todo = [a for a in articles if a.id not in recorded]
        split = [(a, self._split(a)) for a in todo]
        total, done = sum(len(d) for _, d in split), 0
        if progress:
            progress(0, total)
        group: list[tuple[Any, list[Any]]] = []
        for position, item in enumerate(split):
            group.append(item)
            if sum(len(d) for _, d in group) >= self.GROUP or position == len(split) - 1:
                docs = [d for _, ds in group for d in ds]
                ids = [f"{a.id}:{a.content_hash[:12]}:{d.metadata['start_index']}" for a, ds in group for d in ds]
                if docs:
                    self.store.add_documents(docs, ids=ids)
                for a, ds in group:
                    recorded[a.id] = (a.content_hash, len(ds))
                self._save_manifest(manifest)
                done += len(docs)
                if progress:
                    progress(done, total)
                group = []
        return {
            "articles": len(recorded),
            "chunks": collection.count(),
            "articles_embedded": len(todo),
            "chunks_embedded": total,
            "removed": len([a for a in stale if a not in wanted]),
            "seconds": round(time.perf_counter() - started, 2),
        }

    def rank(self, question: str, depth: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """Its similarity ranking (the tutorial ignores dates and sources)."""
        depth = depth or self.depth
        if self._cache and self._cache[0] == question and len(self._cache[1]) >= depth:
            return self._cache[1][:depth]
        found = self.store.similarity_search_with_score(question, k=depth)
        passages = []
        for doc, distance in found:
            m, start = doc.metadata, int(doc.metadata.get("start_index", 0))
            passages.append(
                Passage(
                    chunk_id=str(doc.id), article_id=str(m.get("article_id", "")), title=str(m.get("title", "")), source=str(m.get("source", "")),
                    url=str(m.get("url", "")), published=str(m.get("published", "")), start=start, end=start + len(doc.page_content),
                    text=doc.page_content, score=1.0 - float(distance) / 2, dense=1.0 - float(distance) / 2,  # squared L2 of unit vectors → cosine
                )
            )
        self._cache = (question, passages)
        return passages

    def ask(self, question: str, filters: Filters | None = None, history: History | None = None) -> Answer:
        """The tutorial's retrieve-then-answer, with the project's extractive answerer; history is ignored."""
        from .extractive import answer_extractively

        started = time.perf_counter()
        passages = self.rank(question, self.depth)[: self.TOP_K]
        retrieved = time.perf_counter()
        answer = answer_extractively(question, passages, self.embedder, self.min_relevance, self.weights)
        answer.question = answer.standalone_question = question
        done = time.perf_counter()
        answer.timings_ms = {"retrieve": (retrieved - started) * 1000, "answer": (done - retrieved) * 1000, "first_token": (done - started) * 1000}
        return answer


# The LangChain RAG tutorial's prompt (LangChain hub "rlm/rag-prompt"), verbatim, one human message.
TUTORIAL_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved context to answer the question. "
    "If you don't know the answer, just say that you don't know. Use three sentences maximum and keep the answer concise.\n"
    "Question: {question} \nContext: {context} \nAnswer:"
)
TUTORIAL_LLM_DESCRIPTION = (
    "LangChain RAG tutorial chain with the same chat model: its own retriever (RecursiveCharacterTextSplitter 1000/200, Chroma, "
    "the same local MiniLM, similarity_search top-4), the hub prompt rlm/rag-prompt, context = the 4 chunks joined by blank lines, "
    "answer = the model's reply (no citations; \"don't know\" counts as declining). EM/F1 are scored on its whole reply, "
    "as it gives no separate short answer; the project's on its short answer."
)


class TutorialLLMPeer:
    """The tutorial's retrieve-then-generate chain (``prompt | model | parser``) over the peer's retriever."""

    name = "langchain-rag-tutorial-llm"
    description = TUTORIAL_LLM_DESCRIPTION

    def __init__(self, retriever: PeerBaseline, model: Any, settings: Any) -> None:
        from langchain_core.prompts import ChatPromptTemplate

        self.retriever = retriever
        self.settings = settings
        self.chain = ChatPromptTemplate.from_messages([("human", TUTORIAL_PROMPT)]) | model

    def rank(self, question: str, depth: int | None = None, filters: Filters | None = None) -> list[Passage]:
        return self.retriever.rank(question, depth, filters)

    def ask(self, question: str, filters: Filters | None = None, history: History | None = None) -> Answer:
        from .llm import stream_text

        started = time.perf_counter()
        passages = self.retriever.rank(question, self.retriever.depth)[: PeerBaseline.TOP_K]
        retrieved = time.perf_counter()
        first: list[float] = []
        text = stream_text(self.chain, {"question": question, "context": "\n\n".join(p.text for p in passages)}, self.settings,
                           lambda piece: first.append(time.perf_counter()) if not first and piece.strip() else None).strip()
        done = time.perf_counter()
        declined = not text or re.search(r"\b(don't|do not) know\b", text, re.I) is not None
        answer = Answer(question, text, abstained=declined, passages=passages, engine="tutorial-llm", short_answer=text)
        answer.standalone_question = question
        answer.timings_ms = {"retrieve": (retrieved - started) * 1000, "answer": (done - retrieved) * 1000,
                             "first_token": ((first[0] if first else done) - started) * 1000}
        return answer


# --- reports -------------------------------------------------------------------------------------


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
    peer_name: str = PeerBaseline.name, peer_description: str = PEER_DESCRIPTION,
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

