"""Support scoring (the abstention signal) and the retrieval helpers that need no index."""

from __future__ import annotations

from datetime import date

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.answer.support import PREAMBLE_WEIGHT, TermWeights, answer_description, preamble_discounted, support_scores, type_checks, weighted_coverage
from assistant.retrieval import ARTICLE_BONUS, LEDE_MARGIN, aggregate_articles, diversify, lede_first
from assistant.tokens import terms
from assistant.types import Filters, Passage


def passage(text: str, article_id: str = "a", title: str = "", chunk: str = "c") -> Passage:
    return Passage(chunk_id=f"{article_id}:{chunk}", article_id=article_id, title=title, source="s", url="", published="", start=0, end=len(text), text=text)


def test_how_many_needs_a_number_and_the_counted_noun() -> None:
    p = passage("x")
    assert type_checks("How many languages is it fluent in?", "It is fluent in five languages.", p)
    assert not type_checks("How many employees does Mistral have?", "The model has about 7 billion parameters.", p)
    assert not type_checks("How much did Microsoft invest?", "Microsoft declined to say how much it invested.", p)
    # The counted noun ends its phrase: "positive" describes the cases counted.
    assert type_checks("Approximately how many positive monkeypox cases are in the US?", "The U.S. had reported more than 7,100 confirmed cases.", p)
    assert not type_checks("How many positive monkeypox cases are there?", "The U.S. had reported 7,100 positive tests.", p)
    # "What valuation…" counts a valuation: another amount in the sentence is not it.
    question = "What valuation did the funding round that included Salesforce and Nvidia give Mistral?"
    assert not type_checks(question, "In December, the startup closed a $415 million round, including Salesforce Inc. and Nvidia Corp.", p)
    assert type_checks(question, "The financing valued the firm at about $2 billion.", p)


def test_when_needs_a_date() -> None:
    p = passage("x")
    assert type_checks("When was Mistral formed?", "Mistral was formed in early 2023.", p)
    assert not type_checks("When does Mistral plan to go public?", "Mistral is a French company based in Paris.", p)


def test_names_in_the_question_must_be_in_the_passage() -> None:
    about_deal = passage("On Monday Mistral AI announced a partnership with Microsoft.", title="Microsoft strikes deal")
    assert not type_checks("What did Sam Altman say about the deal?", "On Monday Mistral AI announced a partnership with Microsoft.", about_deal)
    assert type_checks("What did Brad Smith say?", "Brad Smith spoke in Barcelona.", passage("Brad Smith spoke in Barcelona."))
    # A name's words anywhere in the passage: articles say "the former President" and "Donald Trump" apart.
    raid = passage("The FBI searched Donald Trump's Mar-a-Lago resort in Palm Beach, Florida. The former President confirmed it.")
    assert type_checks("Agents searched former President Donald Trump's estate. Where is it?", raid.text, raid)


def test_a_large_index_weighs_terms_by_its_own_idf() -> None:
    weights = TermWeights({"mistral": 90_000, "revenue": 10, "ai": 95_000}, documents=100_000)
    assert weights("revenue") > weights("mistral"), "in a feed about Mistral, Mistral tells passages apart least"
    assert weights("activision") > 0.99
    assert weights("activision") > weights("revenue")
    assert weights("mistrals") == weights("mistral"), "forms of a stem share its weight"
    question = "What was Mistral AI's revenue?"
    assert weighted_coverage(question, "Mistral AI is a French company.", weights) < 0.3
    assert weighted_coverage(question, "Mistral AI's revenue was small.", weights) == 1.0


def test_a_small_index_leans_on_general_english() -> None:
    """A folder of one article: every word of it is in most of its chunks, so its IDF calls "funding" and
    "Mistral" equally common; general English knows "funding" is an ordinary word and "Mistral" is not."""
    one_article = TermWeights({"mistral": 5, "funding": 4, "round": 4}, documents=5)
    assert one_article("mistral") > one_article("funding")
    assert TermWeights.general()("the") < 0.1 < TermWeights.general()("revenue") < TermWeights.general()("activision") < TermWeights.general()("qwxzv") == 1.0


def test_support_is_zero_when_a_type_check_fails() -> None:
    embedder = DeterministicFakeEmbedding(size=32)
    p = passage("The model has about 7 billion parameters.")
    scores = support_scores("How many employees does it have?", [(p.text, p)], embedder, TermWeights.general())
    assert scores == [0.0]


@pytest.mark.parametrize(("sentence", "answers"), [
    ("Altman said on Monday that the deal was good for Europe.", True),
    ("“It is a good deal,” said OpenAI chief executive Sam Altman.", True),
    ("Microsoft chief executive Satya Nadella then said that Altman would join Microsoft.", False),  # Nadella said it
    ("The board removed chief executive Sam Altman in November.", False),  # nobody said anything
])
def test_what_a_person_said_is_answered_by_that_person_saying_it(sentence: str, answers: bool) -> None:
    p = passage(f"Sam Altman runs OpenAI. {sentence}")
    assert type_checks("What did Sam Altman say about Microsoft's deal with Mistral?", sentence, p) is answers


def test_a_sentence_that_only_restates_the_question_does_not_support_it() -> None:
    embedder = DeterministicFakeEmbedding(size=32)
    question = "Nearly three years since the pandemic began, the most infectious variant yet has arrived. What is it called?"
    restated, answer = passage("Nearly three years since the pandemic began, the most infectious variant yet has arrived."), passage("The most infectious variant yet is called BA.5.")
    scores = support_scores(question, [(restated.text, restated), (answer.text, answer)], embedder, TermWeights.general())
    assert scores[0] == 0.0 < scores[1]


def test_terms_only_the_preamble_has_count_less_than_those_of_the_question_proper() -> None:
    question = "Grocery prices rose sharply over the last year. Which item showed the largest spike?"
    weights = preamble_discounted(question, lambda term: 1.0)
    assert weights("spike") == 1.0 and weights("grocery") == PREAMBLE_WEIGHT < 1.0
    scene = "Grocery prices rose over the last year, the labour statistics office said."
    answer = "Eggs showed the largest spike, up 38%."
    assert weighted_coverage(question, answer, weights) > weighted_coverage(question, scene, weights)
    assert weighted_coverage(question, answer, lambda term: 1.0) < weighted_coverage(question, scene, lambda term: 1.0)  # why: undiscounted, the scene wins
    assert preamble_discounted("Which item showed the largest spike?", len) is len  # one sentence: nothing to discount


def test_diversify_caps_passages_per_article_and_tops_up() -> None:
    ranked = [passage("t", "a", chunk="1"), passage("t", "a", chunk="2"), passage("t", "a", chunk="3"), passage("t", "b", chunk="1")]
    assert [p.chunk_id for p in diversify(ranked, 3, 2)] == ["a:1", "a:2", "b:1"]
    assert [p.chunk_id for p in diversify(ranked, 4, 1)] == ["a:1", "b:1", "a:2", "a:3"]


def _scored(article: str, start: int, score: float, title: str, text: str) -> Passage:
    return Passage(f"{article}:h:{start}-{start + len(text)}", article, title, "s", "", "", start, start + len(text), text, score=score)


def test_an_article_titled_by_its_lede_is_shown_by_the_chunk_that_holds_the_lede() -> None:
    lede = "Dartmouth College announced Tuesday it was eliminating student loans."
    tail = _scored("a", 2769, 1.0, lede, "Other schools have similar programs.")
    opening = _scored("a", 0, 1.0 - LEDE_MARGIN / 2, lede, "CNN —\n\n" + lede + " More.")
    other = _scored("b", 0, 0.95, "Another story", "Another story\nText.")
    shown = lede_first([tail, other, opening])
    assert [(p.article_id, p.start) for p in shown] == [("a", 0), ("b", 0), ("a", 2769)]
    assert [p.score for p in shown] == [1.0, 0.95, 1.0 - LEDE_MARGIN / 2]  # positions keep their scores


def test_a_headline_or_a_much_weaker_opening_does_not_displace_the_best_chunk() -> None:
    headline = "Microsoft Strikes Deal With Mistral"  # a headline, not a sentence: the detail chunk stays
    ranked = [_scored("a", 900, 1.0, headline, "Mistral released its first model under Apache 2.0."), _scored("a", 0, 0.99, headline, headline + "\nText.")]
    assert lede_first(ranked) == ranked
    lede = "Dartmouth College announced Tuesday it was eliminating student loans."
    ranked = [_scored("a", 900, 1.0, lede, "Detail."), _scored("a", 0, 1.0 - 2 * LEDE_MARGIN, lede, lede)]
    assert lede_first(ranked) == ranked


def test_article_aggregation_adds_a_share_of_the_next_two_chunks_of_the_same_article() -> None:
    scores = {"a:h:0-1": 1.0, "a:h:2-3": 0.5, "a:h:4-5": 0.3, "a:h:6-7": 0.1, "b:h:0-1": 1.05}
    boosted = aggregate_articles(scores)
    assert boosted["a:h:0-1"] == pytest.approx(1.0 + ARTICLE_BONUS * (0.5 + 0.3))
    assert boosted["a:h:6-7"] == pytest.approx(0.1 + ARTICLE_BONUS * (1.0 + 0.5))
    assert boosted["b:h:0-1"] == 1.05  # a single matching chunk gets nothing
    assert boosted["a:h:0-1"] > boosted["b:h:0-1"]  # several matches outrank one slightly better chunk


def test_filters_make_one_flat_chroma_where_clause() -> None:
    from assistant.store.readers import chroma_where

    assert chroma_where(Filters()) is None
    assert chroma_where(Filters(since=date(2022, 6, 1))) == {"published_day": {"$gte": 19144}}
    both = chroma_where(Filters(since=date(2022, 6, 1), until=date(2022, 6, 30), source="cnn.com"))
    assert both is not None and len(both["$and"]) == 4 and all("$and" not in clause for clause in both["$and"])


def test_syndicated_copies_collapse_but_related_stories_stay() -> None:
    story = "The Federal Reserve raised its key rate by three quarters of a point on Wednesday to fight inflation."
    copy = passage("(AP) " + story, article_id="b")
    related = passage("The European Central Bank held rates steady on Thursday despite inflation.", article_id="c")
    kept = diversify([passage(story, article_id="a"), copy, related], k=3, per_article=1, dedupe=True)
    assert [p.article_id for p in kept] == ["a", "c"]


class CountingEmbedding(DeterministicFakeEmbedding):
    """Counts the sentences embedded (embed_documents), so pruning shows."""

    embedded: int = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def test_a_budget_embeds_only_the_sentences_covering_the_question_best() -> None:
    question = "What did the company announce about its chat assistant?"
    sentences = [f"Filler sentence number {n} about the weather in the Alps, with more to announce soon." for n in range(30)]
    sentences += ["The company announced a chat assistant on Monday.", "The company said its chat assistant would be free."]
    pairs = [(s, passage(s)) for s in sentences]
    every = support_scores(question, pairs, CountingEmbedding(size=64), TermWeights.general())
    budgeted_embedder = CountingEmbedding(size=64)
    budgeted = support_scores(question, pairs, budgeted_embedder, TermWeights.general(), budget=4)

    assert budgeted_embedder.embedded == 5  # the question and four sentences
    assert budgeted[-2:] == pytest.approx(every[-2:])  # the two that cover the question are scored in full
    assert sum(b != pytest.approx(e) for b, e in zip(budgeted[:30], every[:30])) >= 28  # the rest: coverage part only


def test_a_sentence_about_the_subject_but_not_what_is_asked_does_not_support() -> None:
    """"Mistral AI" is in every retrieved passage: the subject. A sentence with none of "plan", "go",
    "public" supports the question only if it is close enough to say them in other words."""
    texts = ["Mistral AI announced a partnership with Microsoft on Monday.", "Mistral AI plans to go public in 2026.", "Mistral AI was founded in 2023."]
    passages = [passage(t, article_id=str(i), chunk=str(i)) for i, t in enumerate(texts)]
    pairs = [(p.text, p) for p in passages]
    scores = support_scores("When does Mistral AI plan to go public?", pairs, UnitFakeEmbedding(size=32), TermWeights.general(), focus=True)
    assert scores[0] == 0.0 and scores[2] == 0.0
    assert scores[1] > 0.2
    unchecked = support_scores("When does Mistral AI plan to go public?", pairs, UnitFakeEmbedding(size=32), TermWeights.general())
    assert unchecked[0] > 0.0, "without the check (a model's prompt) the sentence keeps its score"


def test_a_sentence_naming_nobody_new_supports_a_which_question_less() -> None:
    from assistant.answer import support

    question = "Which retailer announced it is slashing prices this week?"
    texts = ["The retailer announced it is slashing prices this week.", "Shoppers heard that Walmart announced it is slashing prices this week."]
    pairs = [(t, passage(t, article_id=str(i), chunk=str(i))) for i, t in enumerate(texts)]
    focused = support_scores(question, pairs, UnitFakeEmbedding(size=32), TermWeights.general(), focus=True)
    plain = support_scores(question, pairs, UnitFakeEmbedding(size=32), TermWeights.general())
    assert focused[0] == pytest.approx(plain[0] * support.NAME_MISSING) and support.NAME_MISSING < 1
    assert focused[1] == pytest.approx(plain[1]), "a sentence with a name the question lacks keeps its support"


def test_what_the_whole_story_shares_is_still_asked_unless_it_is_a_name_or_a_time() -> None:
    """Every retrieved passage says Sri Lanka "plunged into chaos": those words are the story, and the
    question asks about them, so a sentence with them supports it. Only a name in most passages is the
    subject asked about ("Mistral AI" above), and "in recent days" only says when."""
    texts = ["Sri Lanka has plunged into chaos and its president has fled.", "The island plunged into chaos after months of protests.", "Protesters said the chaos had plunged families into debt."]
    passages = [passage(t, article_id=str(i), chunk=str(i)) for i, t in enumerate(texts)]
    pairs = [(p.text, p) for p in passages]
    scores = support_scores("Which island nation plunged into chaos in recent days, prompting its leader to flee?", pairs, UnitFakeEmbedding(size=32), TermWeights.general(), focus=True)
    assert scores[0] > 0.0
    mistral = [passage(f"Mistral AI {t}", article_id=str(i), chunk=str(i)) for i, t in enumerate(["said so this week.", "plans to go public.", "was founded in 2023."])]
    scores = support_scores("What did Mistral AI announce this week?", [(p.text, p) for p in mistral], UnitFakeEmbedding(size=32), TermWeights.general(), focus=True)
    assert scores == [0.0, 0.0, 0.0], "a sentence sharing only the subject and the time words is not about what was announced"


class UnitFakeEmbedding(DeterministicFakeEmbedding):
    """Unit vectors, as MiniLM's are: similarities in [-1, 1] and, between unrelated texts, near 0."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        vectors = np.asarray(super().embed_documents(texts))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).tolist()


@pytest.mark.parametrize(("question", "description"), [
    ("Which head of state announced his resignation this week?", "head state"),
    ("What country announced a crackdown on rainbow-colored toys?", "country"),
    ("Which popular singer will launch a Las Vegas residency?", "popular singer"),
    ("What was Mistral AI's revenue in 2023?", ""),
])
def test_the_words_that_describe_the_answer_are_not_asked_of_the_sentence(question: str, description: str) -> None:
    """"UK Prime Minister Boris Johnson announced his resignation" answers "which head of state…"."""
    assert answer_description(question) == terms(description)
