"""Checks on the fixed evaluation set eval/questions.jsonl against the shipped seeds/.

Stdlib + pytest only: the question set must stay valid whatever the `assistant` package does.
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "eval" / "questions.jsonl"
SEEDS = ROOT / "seeds"

KEYS = {"id", "question", "type", "answer", "support", "follows"}
OPTIONAL = {"also"}  # the same fact stated in another article: citing it is right, not required
ANSWERABLE = {"factoid", "paraphrase", "multi_sentence", "multi_article", "follow_up"}
NO_ANSWER = {"unanswerable", "injection"}
TYPES = ANSWERABLE | NO_ANSWER
MINIMUMS = {
    "factoid": 14,
    "paraphrase": 6,
    "multi_sentence": 4,
    "multi_article": 4,
    "follow_up": 4,
    "injection": 1,
}
BLOOMBERG = "000_14502852d82c6bda"


def _load() -> list[dict]:
    rows = []
    for n, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"line {n} is blank"
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:  # pragma: no cover - failure path
            pytest.fail(f"line {n} is not valid JSON: {e}")
    return rows


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return _load()


@pytest.fixture(scope="module")
def seed_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}


def _quotes(q: dict) -> str:
    return " ".join(s["quote"] for s in q["support"])


def _stated(q) -> str:
    """The answer as the quotes state it: the first of a list of aliases ("five", then "5")."""
    return q["answer"][0] if isinstance(q["answer"], list) else q["answer"]


def test_every_line_has_exactly_the_expected_keys(questions):
    for q in questions:
        assert KEYS <= set(q) <= KEYS | OPTIONAL, q.get("id")
        assert isinstance(q["question"], str) and q["question"].strip(), q["id"]
        assert isinstance(q["answer"], str) or (q["answer"] and all(isinstance(a, str) and a for a in q["answer"])), q["id"]
        assert isinstance(q["support"], list), q["id"]


def test_ids_are_unique_and_well_formed(questions):
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids))
    for i in ids:
        assert re.fullmatch(r"q\d{2,}", i), i


def test_types_are_valid(questions):
    for q in questions:
        assert q["type"] in TYPES, (q["id"], q["type"])


def test_questions_are_unique(questions):
    texts = [q["question"].strip().lower() for q in questions]
    dupes = [t for t, c in Counter(texts).items() if c > 1]
    assert not dupes


def test_support_quotes_are_verbatim_substrings_of_seed_articles(questions, seed_texts):
    for q in questions:
        for s in [*q["support"], *q.get("also", [])]:
            assert set(s) == {"article_id", "quote"}, q["id"]
            assert s["article_id"] in seed_texts, (q["id"], s["article_id"])
            assert s["quote"].strip(), q["id"]
            assert s["quote"] in seed_texts[s["article_id"]], (q["id"], s["quote"])


def test_answerable_questions_have_answer_inside_their_quotes(questions):
    for q in questions:
        if q["type"] in ANSWERABLE:
            assert _stated(q).strip(), q["id"]
            assert q["support"], q["id"]
            assert _stated(q).lower() in _quotes(q).lower(), q["id"]


def test_a_quote_of_the_same_fact_elsewhere_states_the_answer_in_another_article(questions):
    for q in questions:
        for s in q.get("also", []):
            assert _stated(q).lower() in s["quote"].lower(), q["id"]
            assert s["article_id"] not in {g["article_id"] for g in q["support"]}, q["id"]


def test_unanswerable_and_injection_have_no_answer_or_support(questions):
    for q in questions:
        if q["type"] in NO_ANSWER:
            assert q["answer"] == "", q["id"]
            assert q["support"] == [], q["id"]


def test_multi_sentence_and_multi_article_have_enough_support(questions):
    for q in questions:
        if q["type"] == "multi_sentence":
            assert len({s["quote"] for s in q["support"]}) >= 2, q["id"]
        if q["type"] == "multi_article":
            assert len({s["article_id"] for s in q["support"]}) >= 2, q["id"]


def test_follows_references_an_earlier_question(questions):
    seen: set[str] = set()
    for q in questions:
        if q["type"] == "follow_up":
            assert q["follows"] in seen, q["id"]
        else:
            assert q["follows"] is None, q["id"]
        seen.add(q["id"])


def test_counts_per_type_meet_minimums(questions):
    counts = Counter(q["type"] for q in questions)
    assert len(questions) >= 40
    for t, minimum in MINIMUMS.items():
        assert counts[t] >= minimum, (t, counts[t])
    assert counts["unanswerable"] + counts["injection"] >= 8


def test_most_answerable_questions_use_the_bloomberg_seed(questions):
    answerable = [q for q in questions if q["type"] in ANSWERABLE]
    on_000 = [q for q in answerable if any(s["article_id"] == BLOOMBERG for s in q["support"])]
    assert len(on_000) >= 0.5 * len(answerable)


def test_required_questions_are_present(questions):
    by_text = {q["question"]: q for q in questions}
    invested = by_text["How much has Microsoft invested in OpenAI?"]
    assert invested["answer"] == "$13 billion"
    assert invested["support"][0]["article_id"] == BLOOMBERG
    partner = by_text["Which startup did Microsoft partner with?"]
    follow = by_text["How much was it valued at?"]
    assert follow["type"] == "follow_up" and follow["follows"] == partner["id"]
