"""The places that answer "which country/state/continent" (assistant.answer.places), and the short
answer they make."""

import pytest

from assistant.answer.places import place_named
from assistant.answer.spans import short_span


@pytest.mark.parametrize(
    ("span", "place"),
    [
        ("Sri Lanka", "Sri Lanka"),
        ("Kansas", "Kansas"),
        ("Saudi Arabian", "Saudi Arabia"),  # the adjective names the place it comes from
        ("Ukrainian", "Ukraine"),
        ("North Korean", "North Korea"),  # the longer place before the shorter ("Korea")
        ("Brothers of Italy", "Italy"),  # a place that ends a name
        ("UK", "United Kingdom"),  # news's short names, answered by the country's
        ("US Geological Survey", ""),  # an agency, not a place
        ("Bank of America", ""),
        ("Riyadh", ""),  # a city: not a country, state or continent
        ("Christian", ""),
    ],
)
def test_the_place_a_span_names(span: str, place: str) -> None:
    assert place_named(span) == place


def test_asked_for_a_country_the_answer_is_a_country_not_the_nearest_name() -> None:
    sentence = "Saudi Arabian officials have cracked down on rainbow-colored toys in the country’s capital, Riyadh, on Tuesday."
    assert short_span("What country announced a crackdown on rainbow-colored toys?", sentence) == "Saudi Arabia"
    assert short_span("Which city saw a crackdown on rainbow-colored toys?", sentence) == "Riyadh"  # a city is any name


def test_a_sentence_naming_no_place_gives_no_short_answer_for_which_country() -> None:
    sentence = "The 7.0-magnitude quake hit northern Luzon, according to the US Geological Survey."
    assert short_span("Which country was shaken by a 7.0-magnitude earthquake?", sentence) == ""
