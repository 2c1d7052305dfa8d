"""Question sets: the seed questions over seeds/ (gold quotes located in the articles) and RealTime QA
(short gold answers, article-level gold, a question date); a reproducible sample.

Out of scope: scoring (metrics.py) and asking (runner.py).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from assistant.errors import InputError
from assistant.types import parse_date

NO_ANSWER_TYPES = {"unanswerable", "injection"}


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
    also: list[Gold] = field(default_factory=list)  # the same fact in other articles: citing it is right, not required
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
    from assistant.articles import load_paths

    return {a.id: a.text for a in load_paths(list(paths)).articles}


def find_spans(text: str, quote: str) -> tuple[tuple[int, int], ...]:
    spans, start = [], text.find(quote)
    while start >= 0 and quote:
        spans.append((start, start + len(quote)))
        start = text.find(quote, start + 1)
    return tuple(spans)


def _gold(item: dict[str, Any], texts: dict[str, str], path: Path, question_id: str) -> Gold | None:
    """A gold quote, located in its article's text; None when the article is not in the corpus."""
    text = texts.get(item["article_id"])
    if text is None:
        return None
    spans = find_spans(text, item["quote"])
    if not spans:
        raise InputError(f"{path}: question {question_id}: quote not found verbatim in {item['article_id']}: {item['quote'][:60]!r}")
    return Gold(item["article_id"], item["quote"], spans)


def load_seed_questions(path: Path, articles_dir: Path, covered_only: bool = False) -> list[EvalQuestion]:
    """The fixed question set (eval/questions.jsonl); gold quotes are located in the seed articles.

    ``support`` is what the answer must cite; ``also`` (optional), the same fact stated in other
    articles: citing one of those is correct too, but not required. With ``covered_only`` (a
    ``--corpus`` that is not the whole seeds/ folder), a question whose support cites an article
    that is not in ``articles_dir`` is left out, and so are its follow-ups; ``also`` quotes from
    such articles are dropped.
    """
    texts = article_texts([articles_dir])
    questions: list[EvalQuestion] = []
    left_out: set[str] = set()
    for row in _read_jsonl(path):
        try:
            items = [*row["support"], *row.get("also", [])]
            found = [_gold(item, texts, path, row["id"]) for item in items]
            missing = next((item["article_id"] for item, gold in zip(items, found) if gold is None), None)
            if missing is not None and not covered_only:
                raise InputError(f"{path}: question {row['id']} cites article {missing!r}, which is not in {articles_dir}")
            support, also = found[: len(row["support"])], found[len(row["support"]) :]
            if None in support or row.get("follows") in left_out:
                left_out.add(row["id"])
                continue
            answers = [a for a in (row["answer"] if isinstance(row["answer"], list) else [row["answer"]]) if a]  # a list: aliases
            questions.append(EvalQuestion(
                row["id"], row["question"], row["type"], answers, [g for g in support if g], row.get("follows"), also=[g for g in also if g],
            ))
        except (KeyError, TypeError) as exc:
            raise InputError(f"{path}: a question lacks the key {exc} (expected id, question, type, answer, support, follows)") from None
    return questions


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
                    as_of=parse_date(row.get("question_date")),
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
