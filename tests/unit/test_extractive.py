"""The offline answerer (quotes the best sentences or abstains) and offline follow-up rewriting."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.answer import CANNOT_ANSWER
from assistant.answer.extractive import SEVERAL, TIE_MARGIN, answer_extractively
from assistant.answer.support import MIN_CHARS, TermWeights, candidate_sentences, scored_candidates
from assistant.condense import carry_subject, is_follow_up
from assistant.types import Passage

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

QUESTION = "How much has Microsoft invested in OpenAI?"


@pytest.fixture(scope="module")
def bloomberg(chunked) -> tuple[str, list[Passage]]:  # type: ignore[no-untyped-def]
    return chunked(SEEDS / "000_14502852d82c6bda.txt")


def test_abstains_when_bar_is_unreachable(bloomberg, embedder) -> None:  # type: ignore[no-untyped-def]
    _, passages = bloomberg
    answer = answer_extractively(QUESTION, passages, embedder, min_relevance=1.1, weights=TermWeights.general())  # scores are at most 1.0
    assert answer.text == CANNOT_ANSWER
    assert answer.abstained is True
    assert answer.citations == []
    assert answer.passages == passages
    assert answer.question == QUESTION


def test_abstains_with_no_passages(embedder) -> None:  # type: ignore[no-untyped-def]
    answer = answer_extractively(QUESTION, [], embedder, min_relevance=0.0, weights=TermWeights.general())
    assert answer.abstained and answer.text == CANNOT_ANSWER and answer.citations == []


def test_answers_with_verbatim_citations_at_article_offsets(bloomberg, embedder) -> None:  # type: ignore[no-untyped-def]
    article_text, passages = bloomberg
    answer = answer_extractively(QUESTION, passages, embedder, min_relevance=0.45, weights=TermWeights.general())

    assert answer.abstained is False
    assert "$13 billion" in answer.text
    assert answer.citations, "a non-abstaining answer carries citations"
    assert len(answer.citations) <= 2
    for citation in answer.citations:
        assert citation.quote == article_text[citation.start : citation.end]
        p = citation.passage
        assert citation.quote == p.text[citation.start - p.start : citation.end - p.start]
        assert passages[citation.n - 1] is p
        assert f"{citation.quote} [{citation.n}]" in answer.text
        assert citation.score >= 0.45
        assert citation.attached is False


def test_answer_with_fake_embedding_still_cites_verbatim(bloomberg) -> None:  # type: ignore[no-untyped-def]
    """With a fake embedder the choice is arbitrary, but quotes and offsets must still be exact."""
    article_text, passages = bloomberg
    fake = DeterministicFakeEmbedding(size=64)
    answer = answer_extractively(QUESTION, passages, fake, min_relevance=0.0, weights=TermWeights.general())

    assert answer.abstained is False
    assert answer.citations
    for citation in answer.citations:
        assert citation.quote == article_text[citation.start : citation.end]
        assert len(citation.quote) >= MIN_CHARS


def test_candidate_sentences_skip_overlap_repeats_and_short_lines(bloomberg) -> None:  # type: ignore[no-untyped-def]
    article_text, passages = bloomberg
    assert len(passages) > 1 and passages[1].start < passages[0].end  # neighbours overlap
    candidates = candidate_sentences(passages)
    keys = [(c.passage.article_id, c.start) for c in candidates]
    assert len(keys) == len(set(keys))
    for c in candidates:
        assert c.text == article_text[c.start : c.end]
        assert len(c.text) >= MIN_CHARS


def test_a_headline_line_is_skipped_but_a_lede_that_titles_its_article_is_a_candidate() -> None:
    headline = "Broncos sale approved by NFL owners"
    text = headline + "\nNFL owners unanimously approved the sale of the Denver Broncos on Tuesday."
    assert [c.text for c in candidate_sentences([Passage("a:h:0-1", "a", headline, "", "", "", 0, len(text), text)])] == [text.splitlines()[1]]
    lede = "NFL owners unanimously approved the sale of the Denver Broncos on Tuesday."
    text = "CNN —\n\n" + lede + "\n\nThe vote was held in Minneapolis on Tuesday."
    candidates = candidate_sentences([Passage("b:h:0-1", "b", lede, "", "", "", 0, len(text), text)])
    assert [c.text for c in candidates] == [lede, "The vote was held in Minneapolis on Tuesday."]


def test_a_question_in_an_article_is_never_quoted_as_its_answer(embedder) -> None:  # type: ignore[no-untyped-def]
    question = "Which European country's leader visited Kyiv this week?"
    text = (
        "News quiz. Which European country's leader visited Kyiv this week? "
        "The leader of France visited Kyiv on Thursday and met the Ukrainian president."
    )
    passage = Passage("q:h:0-1", "q", "Quiz", "", "", "", 0, len(text), text)
    answer = answer_extractively(question, [passage], embedder, min_relevance=0.0, weights=TermWeights.general())
    assert [c.quote for c in answer.citations] == ["The leader of France visited Kyiv on Thursday and met the Ukrainian president."]


def test_the_short_answer_comes_first_then_the_sentence_it_is_from(bloomberg, embedder) -> None:  # type: ignore[no-untyped-def]
    _, passages = bloomberg
    answer = answer_extractively(QUESTION, passages, embedder, min_relevance=0.35, weights=TermWeights.general())
    assert answer.short_answer == "$13 billion"
    first_line, quotes = answer.text.split("\n", 1)
    assert first_line == "$13 billion" and "$13 billion" in answer.citations[0].quote and quotes.startswith(answer.citations[0].quote)


def two(first: str, second: str, same_article: bool) -> list[Passage]:
    at = len(first) + 1 if same_article else 0  # the next chunk of the same article, or another article's first
    return [Passage("a:h:0-1", "a", "", "", "", "", 0, len(first), first),
            Passage("a:h:1-2" if same_article else "b:h:0-1", "a" if same_article else "b", "", "", "", "", at, at + len(second), second)]


def test_a_second_sentence_only_when_it_adds_a_needed_part(embedder) -> None:  # type: ignore[no-untyped-def]
    """Another article's sentence is quoted only for what the first lacks (here a second country)."""
    first = "NATO formally invited Sweden to join the alliance this week, its leaders said."
    second = "NATO formally invited Finland to join the alliance this week, officials confirmed."
    for question, cited in (("Which country did NATO invite to join the alliance this week?", 1), ("Which two countries did NATO invite to join the alliance this week?", 2)):
        answer = answer_extractively(question, two(first, second, same_article=False), embedder, min_relevance=0.0, weights=TermWeights.general())
        assert len(answer.citations) == cited, question
    answer = answer_extractively("Which country did NATO invite to join the alliance this week?", two(first, second, same_article=True), embedder, 0.0, TermWeights.general())
    assert len(answer.citations) == 2, "the same article's next-best sentence may follow"


def test_of_near_equal_sentences_the_top_ranked_passage_is_quoted(embedder) -> None:  # type: ignore[no-untyped-def]
    question = "Which automaker recalled 2.9 million vehicles this week?"
    a = "On Monday, Ford recalled 2.9 million vehicles this week over a faulty part, the automaker said."
    b = "This week the automaker Ford recalled 2.9 million vehicles in the US."
    for first, second in ((a, b), (b, a)):
        passages = two(first, second, same_article=False)
        scores = [score for score, _ in scored_candidates(question, passages, embedder, TermWeights.general())]
        assert min(scores) >= (1 - TIE_MARGIN) * max(scores), "the case needs two near-equal sentences"
        answer = answer_extractively(question, passages, embedder, 0.0, TermWeights.general())
        assert answer.citations[0].n == 1 and answer.short_answer == "Ford"


@pytest.mark.parametrize(("question", "several"), [
    ("Which two investors does the article name?", True), ("Which companies had employed the engineers?", True),
    ("Which country has the most cases?", False), ("What does Mistral make?", False), ("Which company led the round?", False),
])
def test_questions_that_ask_for_several_things(question: str, several: bool) -> None:
    assert bool(SEVERAL.search(question)) is several


# --- condense (offline follow-ups) -------------------------------------------------


def test_a_follow_up_carries_the_names_of_the_last_turn() -> None:
    """"he" is the person just named; the earlier question's own words ("chief executive") would pull
    back the sentence that answered it."""
    history = [("Who founded Mistral AI?", "Arthur Mensch\nIt was founded by Arthur Mensch. [1]"),
               ("Who is Mistral AI's chief executive?", "Arthur Mensch\nMensch is the company's chief executive. [1]")]
    assert carry_subject("Where did he work before founding the company?", history) == "Where did he work before founding the company? (Mistral AI; Arthur Mensch)"


@pytest.mark.parametrize("answer", [
    "December 8, 2023\nNegotiators reached a political agreement on December 8, 2023. [1]",  # a date is no subject
    "The act was agreed after three days of talks. [1]",  # no short answer: a quoted sentence
    "I cannot answer that from the indexed articles.",
])
def test_after_an_answer_that_is_no_name_the_names_asked_about_are_carried(answer: str) -> None:
    previous = "When did EU negotiators reach a political agreement on the AI Act?"
    assert carry_subject("What is the biggest fine it allows?", [(previous, answer)]) == "What is the biggest fine it allows? (EU; AI Act)"


def test_a_one_line_answer_of_a_few_words_is_the_name_answered_with() -> None:
    assert carry_subject("How much did it invest?", [("Which company has invested most in OpenAI?", "Microsoft.")]) == "How much did it invest? (OpenAI; Microsoft)"


def test_an_earlier_question_that_names_nothing_is_carried_whole() -> None:
    previous = "which startup did the software giant partner with?"
    assert carry_subject("How much was it valued at?", [(previous, CANNOT_ANSWER)]) == f"How much was it valued at? ({previous})"


def test_carry_subject_leaves_standalone_question_alone() -> None:
    standalone = "How much money has Microsoft invested in OpenAI since 2019?"
    assert not is_follow_up(standalone)
    assert carry_subject(standalone, [("Which startup did Microsoft partner with?", "Mistral AI\nMicrosoft partnered with Mistral AI. [1]")]) == standalone


def test_carry_subject_without_history_is_identity() -> None:
    assert carry_subject("How much was it valued at?", []) == "How much was it valued at?"


@pytest.mark.parametrize("question", ["And Google?", "What did they announce?", "When was the deal signed by Microsoft and Mistral?"])
def test_follow_up_detection(question: str) -> None:
    assert is_follow_up(question)


def test_the_same_short_answer_in_a_higher_ranked_passage_is_quoted_from_there(embedder) -> None:  # type: ignore[no-untyped-def]
    """The retriever's rank predicts the right article: a sentence of the top passage that states the
    same short answer and supports the question well enough is quoted instead of a better one below."""
    question = "Which airline agreed to buy Spirit Airlines this week?"
    best = "JetBlue Airways agreed this week to buy Spirit Airlines for $3.8 billion in cash."
    for higher, quoted in (("Shareholders of Spirit Airlines will vote this week on the offer from JetBlue Airways.", 1),
                           ("JetBlue made a bid for Spirit Airlines, analysts said this week.", 2)):  # not the same span
        passages = two(higher, best, same_article=False)
        scores = [score for score, _ in scored_candidates(question, passages, embedder, TermWeights.general(), focus=True)]
        assert scores[0] < (1 - TIE_MARGIN) * scores[1], "the case needs a clearly better sentence lower down"
        answer = answer_extractively(question, passages, embedder, 0.3, TermWeights.general())
        assert answer.short_answer == "JetBlue Airways" and [c.n for c in answer.citations] == [quoted], higher
