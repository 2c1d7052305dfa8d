"""Presentation details that a person reads: titles as printed in source lines."""

from __future__ import annotations

from assistant.render import TITLE_CHARS, short_title
from assistant.types import Passage


def _titled(title: str) -> Passage:
    return Passage("a:h:0-1", "a", title, "cnn.com", "", "2022-06-21", 0, 1, "x")


def test_a_headline_is_printed_whole_and_a_lede_title_is_cut_at_a_word() -> None:
    assert short_title(_titled("Microsoft Strikes Deal With France’s Mistral, OpenAI Rival")) == "Microsoft Strikes Deal With France’s Mistral, OpenAI Rival"
    lede = "Dartmouth College announced Tuesday it was eliminating student loans for undergraduates and replacing them with grants."
    shown = short_title(_titled(lede))
    assert shown.endswith(" …") and len(shown) <= TITLE_CHARS + 2
    assert lede.startswith(shown.removesuffix(" …")) and lede[len(shown) - 2] == " "  # cut between words
    assert short_title(_titled("")) == "a"  # no title: the article id
