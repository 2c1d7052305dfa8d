"""Questions that name a thing by what it did, answered in two hops (assistant.answer.bridge)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.bridge import splits
from assistant.answer.extractive import answer_extractively
from assistant.answer.support import TermWeights
from assistant.types import Passage

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def articles(*texts: str) -> list[Passage]:
    """One single-chunk article per text, ranked in the order given."""
    return [Passage(f"{i}:h:0-1", str(i), "", "", "", "", 0, len(text), text) for i, text in enumerate(texts)]


def test_the_clause_is_asked_alone_and_the_question_about_what_it_names() -> None:
    cuts = dict(splits("What did the company that announced a partnership with Microsoft on Monday unveil?"))
    assert cuts["Which company that announced a partnership with Microsoft on Monday?"]("Mistral AI") == "What did Mistral AI unveil?"
    # After "did" the main verb must remain, and a clause does not end on a determiner or a number.
    assert "Which company that announced a partnership with Microsoft on Monday unveil?" not in cuts
    assert "Which company that announced a?" not in cuts
    to_end = dict(splits("Who was removed as chief executive of the company that Microsoft backs?"))
    assert to_end["Which company that Microsoft backs?"]("OpenAI") == "Who was removed as chief executive of OpenAI?"



def test_of_nested_clauses_the_innermost_is_cut_first() -> None:
    """"…the engineers who formed [the startup whose models…]": the startup is found first; the question
    about it ("…the engineers who formed Mistral AI?") is one a sentence can answer."""
    cuts = dict(splits("Which companies had employed the engineers who formed the startup whose models are coming to Microsoft's cloud?"))
    assert cuts["Which startup whose models are coming to Microsoft's cloud?"]("Mistral AI") == "Which companies had employed the engineers who formed Mistral AI?"


@pytest.mark.parametrize("question", [
    "What is the name of the storm that hit Florida this week?",  # the thing is the answer: nothing to ask about it
    "US first lady Jill Biden met with the first lady of which country this week?",  # no relative clause
    "Which company said that it would cut jobs?",
])
def test_no_two_hops_without_a_clause_and_something_asked_about_its_thing(question: str) -> None:
    assert splits(question) == []


def test_two_sentences_of_two_articles_answer_what_neither_does_alone(embedder) -> None:  # type: ignore[no-untyped-def]
    passages = articles(
        "That sponsorship has helped make OpenAI a significant new competitor in the technology industry, Microsoft President Brad Smith said on Monday.",
        "The partnership was tested in November 2023, when the board of OpenAI removed chief executive Sam Altman for several days.",
    )
    question = "Who was briefly removed as chief executive of the company that Microsoft's president called a significant new competitor?"
    answer = answer_extractively(question, passages, embedder, 0.3, TermWeights.general())
    assert answer.short_answer == "Sam Altman"
    assert [c.passage.article_id for c in answer.citations] == ["0", "1"], "the sentence naming the company, then the answer"
    assert answer.text.startswith("Sam Altman\n")


def test_no_second_hop_when_the_best_sentence_already_says_what_is_asked(embedder, chunked) -> None:  # type: ignore[no-untyped-def]
    """"Which venture firm led [the round that valued Mistral at about $2 billion]?": the round's
    sentence says who led it; the question rewritten about Lightspeed ("Which venture firm led
    Lightspeed?") must not be asked, nor answered by the seed round "led by Lightspeed Venture Partners"."""
    passages = [p for path in sorted(SEEDS.glob("*.txt")) for p in chunked(path)[1]]
    answer = answer_extractively("Which venture firm led the funding round that valued Mistral at about $2 billion?", passages, embedder, 0.35, TermWeights.general())
    assert len(answer.citations) == 1 and "Lightspeed Venture Partners" not in answer.text


def test_no_second_hop_when_the_clause_sentence_answers_the_rewritten_question_as_well(embedder, chunked) -> None:  # type: ignore[no-untyped-def]
    """Over the seed folder, "…the funding round that included Salesforce and Nvidia…" names the
    round's investors; the question rewritten about one of them ("What valuation did Lightspeed…")
    is answered by the round's own sentence at least as well as by another round's: no second hop."""
    passages = [p for path in sorted(SEEDS.glob("*.txt")) for p in chunked(path)[1]]
    answer = answer_extractively("What valuation did the funding round that included Salesforce and Nvidia give Mistral?", passages, embedder, 0.35, TermWeights.general())
    assert len({c.passage.article_id for c in answer.citations}) == 1 and "€105 million" not in answer.text


def test_the_second_hop_may_name_the_bridge_by_its_distinctive_word(embedder) -> None:  # type: ignore[no-untyped-def]
    """Over one article: the first hop names "Mistral AI"; the passage that answers calls it "Mistral"
    and never says "AI", as the Bloomberg seed does (one-article q29). A passage naming only "AI" is not about it."""
    passages = articles(
        "On Monday, the French company Mistral AI announced a partnership with Microsoft that includes making the startup's models available to customers of Microsoft's Azure cloud.",
        "Mistral, formed in early 2023 by former engineers at Google's DeepMind and Meta Platforms Inc., has positioned itself as a European champion.",
    )
    question = "Which companies had employed the engineers who formed the startup whose models are coming to Microsoft's cloud?"
    answer = answer_extractively(question, passages, embedder, 0.3, TermWeights.general())
    assert answer.short_answer == "Google"
    assert [c.passage.article_id for c in answer.citations] == ["0", "1"]
    elsewhere = articles(passages[0].text, "Former engineers at Google's DeepMind and Meta Platforms Inc. founded many AI startups in 2023.")
    assert answer_extractively(question, elsewhere, embedder, 0.3, TermWeights.general()).short_answer != "Google"
