"""The short answer inside a quoted sentence (assistant.answer.spans)."""

import pytest

from assistant.answer.spans import answer_kind, has_span, short_span

SPANS = [
    ("How much has Microsoft invested in OpenAI?", "Microsoft has worked with OpenAI, investing roughly $13 billion in the California startup.", "$13 billion"),
    ("How many hot dogs did Joey Chestnut eat?", "Joey Chestnut ate 63 hot dogs and buns in ten minutes.", "63"),
    ("What percentage of US adults disapprove?", "About 60% of US adults disapprove, while 38% approve of it.", "60%"),
    ("When did EU negotiators reach a political agreement on the AI Act?", "On December 8, 2023, EU negotiators reached a political agreement on the AI Act.", "December 8, 2023"),
    ("When was Mistral formed?", "Mistral, formed in early 2023 by former engineers, has grown fast.", "early 2023"),
    ("Which team won the 2022 NHL Stanley Cup Finals?", "The Colorado Avalanche won the Stanley Cup on Sunday night.", "Colorado Avalanche"),
    ("Which two countries did NATO invite to join?", "NATO formally invited Sweden and Finland to join the alliance.", "Sweden and Finland"),
    ("Which company is accused of turning off the AC?", "Workers say Bed Bath & Beyond turned off the AC in its stores.", "Bed Bath & Beyond"),
    ("Which social media platform banned political fundraising?", "TikTok’s political fundraising ban will kick in over the coming weeks, TikTok said.", "TikTok"),
    ("Who did OpenAI's board remove as chief executive?", "OpenAI's board removed chief executive Sam Altman in November.", "Sam Altman"),
    ("Through which cloud will Mistral's models be available?", "Mistral AI said its models will be available through Microsoft's Azure cloud.", "Azure"),
    # "Where" after a preamble still asks for a place, and a name after "in" is one.
    ("Biden designated Camp Hale a monument. Where is it located?", "Biden traveled to Camp Hale in Colorado to designate a World War II training ground.", "Colorado"),
    # "sell for" and "cost" ask for money; a year after "from" or "in" counts nothing.
    ("How much did the card sell for?", "The card from 1952 was sold for $12.6 million on Sunday.", "$12.6 million"),
    ("About how much does it cost to raise a child?", "In 2022 the couple spent 310,605 dollars raising a child born in 2005.", "310,605 dollars"),
    ("How many cards were found in the attic?", "In 2022, a collector found 1952 cards in an attic in Ohio.", "1952"),
    ("How many months was her detention extended?", "The court ruled the WNBA star's detention be extended six months pending its outcome.", "6"),
    ("A teenager flew around the world solo. How old is he?", "A 17-year-old pilot became the youngest person to fly solo around the world.", "17"),
    ("How many cards were sold?", "Since 2019 the auction house has sold 40 cards from 1952.", "40"),
    # "What is the biggest fine…" asks for money (not "the fine print").
    ("What is the biggest fine it allows?", "The act was agreed in 2023; companies can be fined up to €35 million or 7% of turnover.", "€35 million"),
    # The name beside the noun asked for is that thing: not the adjective before it, nor another company
    # nearer the question's words, even when it shares a word with the question.
    ("Which startup did Microsoft partner with?", "In February 2024 it announced a partnership with the French startup Mistral AI.", "Mistral AI"),
    ("What is the name of the new model Mistral unveiled alongside the partnership?",
     "In February 2024, Mistral introduced Mistral Large, its most capable model so far, and announced a partnership with Microsoft.", "Mistral Large"),
    # Asked for a startup, the name beside "company" is one: not Azure, nearer the question's "Microsoft".
    ("Which startup did Microsoft partner with?",
     "On Monday, the French company Mistral AI announced a partnership with Microsoft that makes the startup's models available on Microsoft's Azure cloud.", "Mistral AI"),
    ("Which rover did NASA land?", "NASA landed a rover called Perseverance, which JPL built, in Jezero Crater.", "Perseverance"),
]


@pytest.mark.parametrize(("question", "sentence", "expected"), SPANS)
def test_the_span_of_the_kind_asked_for(question: str, sentence: str, expected: str) -> None:
    assert short_span(question, sentence) == expected


def test_a_word_capitalised_only_because_it_starts_the_sentence_is_not_a_name() -> None:
    sentence = "Despite the shortage, stores restocked baby formula this week."
    assert short_span("Which product remains difficult to find?", sentence, context=sentence) == ""
    assert short_span("Which automaker recalled vehicles?", "Ford recalled 2.9 million vehicles.", context="Shares of Ford fell. Ford recalled 2.9 million vehicles.") == "Ford"


def test_spans_that_only_repeat_the_question_or_credit_the_publisher_are_not_answers() -> None:
    assert short_span("Which team won the Stanley Cup?", "The Stanley Cup was won on Sunday.") == ""
    assert short_span("Which country did she visit?", "Washington (CNN) The first lady travelled to Ukraine on Sunday.") == "Ukraine"


def test_no_kind_no_short_answer() -> None:
    assert answer_kind("Why did cities cancel their fireworks?") is None
    assert answer_kind("What is the fine print?") is None
    assert short_span("Why did cities cancel their fireworks?", "Drought made fireworks dangerous in Utah.") == ""


def test_a_quantity_or_date_question_needs_a_span_of_its_kind() -> None:
    assert answer_kind("What was Mistral AI's revenue in 2023?") == "money"
    # A model's rewrite of "How much was it valued at?" asks for money too.
    assert answer_kind("What was the value of Mistral AI in its December funding round?") == "money"
    assert answer_kind("How much was Mistral AI valued at?") == "money"
    assert not has_span("What was Mistral AI's revenue in 2023?", "In July 2023 it was a launch partner for Meta's Llama 2 models.")
    assert has_span("How much money did Mistral raise?", "Mistral closed a round of about €385 million.")
    assert not has_span("When was Mistral founded?", "Mistral was founded by three researchers.")
    assert has_span("Which startup did Microsoft partner with?", "Microsoft partnered with the mistral wind.")  # a name can hide in lower case


def test_a_name_the_question_gives_by_its_initials_is_not_the_answer() -> None:
    question = "Besides the probes in the EU and the UK, which US agency opened an inquiry?"
    assert short_span(question, "Microsoft is the subject of antitrust probes in the European Union and the UK.") == ""
    assert short_span(question, "In the United States, the Federal Trade Commission opened an inquiry in January.") == "Federal Trade Commission"


def test_asked_who_a_surname_comes_with_the_first_name_the_passage_gives() -> None:
    passage = "It was founded by Arthur Mensch, who worked at DeepMind. Mensch is the company's chief executive."
    sentence = "Mensch is the company's chief executive."
    assert short_span("Who is Mistral AI's chief executive?", sentence, passage) == "Arthur Mensch"
    assert short_span("Which executive runs Mistral AI?", sentence, passage) == "Mensch", "only a person's name is completed"


def test_a_year_left_when_its_month_is_dropped_is_no_name() -> None:
    sentence = "The partnership was tested in November 2023, when the board removed its chief executive."
    assert short_span("Which company was tested?", sentence) == ""


def test_a_word_and_its_inflections_are_one_term() -> None:
    """"fine" asked, "fined" written; "price" and "prices"; but a plural's stem keeps four letters."""
    from assistant.tokens import terms

    assert terms("fine price time based agree tax") == terms("fined prices times base agreement taxes")
    assert terms("partner invest") == terms("partnership investment")
    assert terms("news") != terms("new")
    assert terms("valuation") == terms("valued") and terms("nation relation") == {"nation", "relation"}  # "-ation" leaves four letters or more
