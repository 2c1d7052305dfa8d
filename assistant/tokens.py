"""Words: the tokenisation BM25, the support scorer and the citation checks share, and a light stemmer.

It owns what counts as a term; it does not weigh terms (answer/support.py) or index them (store/sidecar.py).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# A short English stop list: bm25s' own tokenizer pulls in more than a query needs at start-up.
STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i if in into is it its
    of on or our she so than that the their them then there these they this to was we were what
    when where which who whom why will with would you your do does did how about after also can
    could more most other over some such up out all any no not only said says""".split()
)
SUFFIXES = ("ing", "ed", "es", "s")


def tokenize(text: str) -> list[str]:
    """Lower-case words of two or more characters, stop words removed."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def stem(word: str) -> str:
    """``word`` without one of SUFFIXES (so that "invested" and "invest" match); short words are kept."""
    for suffix in SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> set[str]:
    """The stemmed terms of ``text``."""
    return {stem(t) for t in tokenize(text)}
