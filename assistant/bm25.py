"""Tokenisation shared by the BM25 index, the evidence weights and the citation check."""

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


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]
