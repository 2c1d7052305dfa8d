"""Questions asked in other words: WordNet's related words (answer/related.py) and the second pass that uses them."""

from __future__ import annotations

import gzip
from collections import Counter
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from assistant.answer.extractive import ExtractiveAnswerer, answer_extractively
from assistant.answer.related import RelatedWords, related_to
from assistant.answer.support import RELATED_CREDIT, TermWeights, type_checks, weighted_coverage
from assistant.tokens import tokenize
from assistant.types import Passage

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
# Seed question q25 over the Bloomberg article alone: the article says "The financing valued the firm at
# about $2 billion" and never "funding".
VALUATION = "What valuation did the funding round that included Salesforce and Nvidia give Mistral?"


def test_the_packaged_table_is_wordnet_with_its_license() -> None:
    folder = resources.files("assistant").joinpath("data/wordnet")
    assert "Princeton University" in folder.joinpath("LICENSE").read_text()
    rows = gzip.decompress(folder.joinpath("related.tsv.gz").read_bytes()).decode().splitlines()
    assert len(rows) > 50_000
    assert "language" in related_to("tongue") and "value" in related_to("price")


@pytest.mark.parametrize(
    ("word", "sentence"),
    [
        ("tongues", "is fluent in five languages"),  # a hypernym, found from the plural
        ("price", "The financing valued the firm"),  # a synonym, met by an inflection
        ("intolerably", "pose an unacceptable risk"),  # the adverb by its adjective
        ("funding", "The financing valued the firm"),
        ("use", "banned applications"),  # the other way round: "applications" names "use"
    ],
)
def test_a_question_word_is_met_by_a_word_wordnet_relates_to_it(word: str, sentence: str) -> None:
    assert RelatedWords(frozenset({word})).links(word, tokenize(sentence))


def test_only_the_words_asked_in_other_words_are_related() -> None:
    related = RelatedWords(frozenset({"funding"}))
    assert not related.links("tongues", tokenize("is fluent in five languages"))
    assert not related.links("funding", tokenize("The company hired engineers"))
    expansion = related.expansion("How many tongues does the funding cover this week?")
    assert expansion.startswith("How many tongues does the funding cover this week? ")  # whole: the retriever takes out "this week"
    assert "financing" in expansion.split() and "language" not in expansion.split()


def test_coverage_credits_a_related_word_less_than_the_word_itself() -> None:
    question = "How many tongues?"
    weights = TermWeights.general()
    plain = weighted_coverage(question, "five languages", weights)
    related = weighted_coverage(question, "five languages", weights, RelatedWords(frozenset({"tongues"})))
    same = weighted_coverage(question, "five tongues", weights, RelatedWords(frozenset({"tongues"})))
    assert plain == 0.0
    assert 0 < related < same
    assert related == pytest.approx(RELATED_CREDIT * same)


def test_the_counted_noun_may_be_said_in_other_words() -> None:
    question = "How many tongues can the system handle?"
    sentence = "The model is fluent in five languages."
    passage = Passage.of("a:h:0-40", sentence, {"article_id": "a", "title": "t", "start": 0, "end": len(sentence)})
    assert not type_checks(question, sentence, passage)
    assert type_checks(question, sentence, passage, RelatedWords(frozenset({"tongues"})))


@pytest.fixture(scope="module")
def one_article(chunked) -> tuple[list[Passage], TermWeights]:  # type: ignore[no-untyped-def]
    """The Bloomberg seed's chunks, and term weights of an index holding only them."""
    _, passages = chunked(SEEDS / "000_14502852d82c6bda.txt")
    frequencies = Counter(word for p in passages for word in set(tokenize(f"{p.title} {p.text}")))
    return passages, TermWeights(frequencies, len(passages))


def test_a_question_in_other_words_is_answered_on_the_second_pass(one_article, embedder) -> None:  # type: ignore[no-untyped-def]
    passages, weights = one_article
    assert weights.unused("funding") and not weights.unused("valued")
    assert answer_extractively(VALUATION, passages, embedder, 0.35, weights).abstained
    related = RelatedWords(frozenset(word for word in tokenize(VALUATION) if weights.unused(word)))
    answer = answer_extractively(VALUATION, passages, embedder, 0.35, weights, related)
    assert not answer.abstained
    assert answer.short_answer == "$2 billion"
    assert answer.citations[0].quote == "The financing valued the firm at about $2 billion."


def test_the_answerer_asks_in_other_words_only_after_declining(one_article, embedder) -> None:  # type: ignore[no-untyped-def]
    passages, weights = one_article
    calls: list[str] = []

    def other_words() -> tuple[list[Passage], RelatedWords]:
        calls.append("again")
        return passages, RelatedWords(frozenset({"funding"}))

    answerer = ExtractiveAnswerer(embedder, 0.35)
    answered = answerer.answer("How much has Microsoft invested in OpenAI?", "How much has Microsoft invested in OpenAI?", passages, date.today(), weights, other_words=other_words)
    assert not answered.abstained and calls == []
    again = answerer.answer(VALUATION, VALUATION, passages, date.today(), weights, other_words=other_words)
    assert calls == ["again"] and again.short_answer == "$2 billion"
    assert answerer.answer(VALUATION, VALUATION, passages, date.today(), weights, other_words=lambda: None).abstained
