"""Presentation details that a person (or a model) reads: titles as printed in source lines and prompts."""

from __future__ import annotations

from assistant.answer import Answer, SentenceCheck
from assistant.answer.prompts import format_passages
from assistant.render import answer_markup
from assistant.types import SHORT_TITLE_CHARS, Passage


def _titled(title: str) -> Passage:
    return Passage("a:h:0-1", "a", title, "cnn.com", "", "2022-06-21", 0, 1, "x")


def test_a_headline_is_shown_whole_and_a_lede_title_is_cut_at_a_word() -> None:
    headline = "Microsoft Strikes Deal With France’s Mistral, OpenAI Rival"
    assert _titled(headline).short_title() == headline
    lede = "Dartmouth College announced Tuesday it was eliminating student loans for undergraduates and replacing them with grants."
    shown = _titled(lede).short_title()
    assert shown.endswith(" …") and len(shown) <= SHORT_TITLE_CHARS + 2
    assert lede.startswith(shown.removesuffix(" …")) and lede[len(shown) - 2] == " "  # cut between words
    assert _titled("").short_title() == ""
    assert f'title="{shown}"' in format_passages([_titled(lede)])  # the model reads the same short title


def test_the_short_answer_is_bold_and_an_unsupported_sentence_dim() -> None:
    text = "$13 billion\nMicrosoft invested $13 billion. [1] It rains. [1]"
    unsupported = SentenceCheck("It rains.", text.index("It rains."), len(text), (1,), 0.1, False)
    answer = Answer("How much?", text, abstained=False, short_answer="$13 billion", sentences=[unsupported])
    assert answer_markup(answer) == "[bold]$13 billion[/bold]\nMicrosoft invested $13 billion. [1] [dim]It rains. [1][/dim]"


def test_a_fallback_answer_says_why_the_models_reply_was_not_used(capsys) -> None:  # type: ignore[no-untyped-def]
    from assistant.answer.generative import DECLINED
    from assistant.render import print_answer

    answer = Answer("How much?", "$13 billion\nMicrosoft invested $13 billion. [1]", abstained=False, engine="extractive-fallback", fallback=DECLINED)
    print_answer(answer, streamed=True)
    assert f"{DECLINED}; this is the extractive answer" in " ".join(capsys.readouterr().err.split())
