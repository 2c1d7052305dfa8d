"""Metrics: pure functions over plain values (SQuAD EM/F1, gold contained, retrieval hits and MRR,
citation and abstention precision/recall, percentiles).

Out of scope: LLM-judged answer quality and RealTime QA's multiple-choice score (its ``choices``
are never shown to the answerer).
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

from assistant.answer.citations import MARKER
from assistant.types import Passage

from .datasets import Gold

_STRIP = set(string.punctuation) | {"\u201c", "\u201d", "\u2018", "\u2019"}  # SQuAD's ASCII punctuation + curly quotes


def normalize_answer(text: str) -> str:
    """SQuAD normalisation (lower case, punctuation and a/an/the removed, whitespace collapsed), curly quotes too."""
    text = "".join(ch for ch in text.lower() if ch not in _STRIP)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


_MARKERS = re.compile(r"\s*" + MARKER.pattern)  # a marker and the space before it


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


def citation_scores(
    cited: Sequence[tuple[str, int, int]], support: Sequence[Gold], article_level: bool = False, also: Sequence[Gold] = (),
) -> tuple[float | None, float | None]:
    """(precision, recall) of (article_id, start, end) citations against the gold support; None when undefined.

    Precision: share of citations that match a gold quote (or gold article), or one of ``also`` (the
    same fact stated in another article). Recall: share of gold quotes matched by a citation; with
    article-level gold (alternative evidence) 1 when any gold article is cited.
    """
    if not support:
        return None, None
    correct = [any(supports(a, s, e, g) for g in (*support, *also)) for a, s, e in cited]
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
