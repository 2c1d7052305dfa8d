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
SUFFIXES = ("ship", "ment", "ation", "ing", "ed", "s", "e")  # "-es" is "-s" then the final e: "taxes", "prices", "agrees"
# The stem left must be this long: a plural's four letters ("news" is not "new"), a verb's or a final
# e's three ("fined" and "fine", "based" and "base" meet at "fin", "bas").
# "-ation" leaves four: "valuation" and "valued" meet at "valu", "nation" and "relation" stay whole.
_MIN_STEM = {"s": 4, "ship": 4, "ment": 4, "ation": 4}


def tokenize(text: str) -> list[str]:
    """Lower-case words of two or more characters, stop words removed."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def stem(word: str) -> str:
    """``word`` without one of SUFFIXES (so that "invested", "investment" and "invest" match); short words are kept."""
    for suffix in SUFFIXES:
        if len(word) - len(suffix) >= _MIN_STEM.get(suffix, 3) and word.endswith(suffix):
            word = word[: -len(suffix)]
            if suffix not in ("e", "ed") and word.endswith("e") and len(word) > 3:
                word = word[:-1]  # "times" → "time" → "tim", as "time"; "agreement" → "agre", as "agree"
            break
    return word


def terms(text: str) -> set[str]:
    """The stemmed terms of ``text``."""
    return {stem(t) for t in tokenize(text)}
