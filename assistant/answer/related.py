"""Words that say the same thing in other words, from WordNet 3.0: "tongues" / "languages",
"price" / "valued", "intolerably" / "unacceptably", "applications" / "uses".

No paraphrase, NLI or reranker model ships on PyPI, and the local MiniLM puts a sentence that
answers a reworded question below sentences about something else (eval/reports/paraphrase-similarity.md).
WordNet knows many of the word pairs such questions turn on. The table (data/wordnet/related.tsv.gz,
1.2 MB, built by scripts/build_wordnet_related.py) maps each single-word lemma to the single words
WordNet relates to it in its commonest senses. It is read only when a question is asked again in
other words (the engine does that after the question's own words found nothing), and only for the
question's words that no indexed text uses: a word the articles use is not what they say in other
words, and leaving it alone keeps WordNet's looser relations ("public" / "open") out of the answer.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from ..tokens import stem, tokenize

# The inflections to strip to find a lemma ("tongues" → "tongue", "judged" → "judge", "studies" → "study").
_ENDINGS = (("ies", "y"), ("es", ""), ("es", "e"), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ly", ""))


class RelatedWords:
    """The question's ``words`` (lower case) that may be met in other words, and how."""

    def __init__(self, words: frozenset[str]) -> None:
        self.words = words

    def links(self, word: str, tokens: list[str]) -> bool:
        """``word``, one of the question's ``words``, and a word of ``tokens`` (a sentence's) are related in
        WordNet, in either direction: "tongues" names "language" as a hypernym; "applications" names "use"."""
        if word not in self.words:
            return False
        own = _key(word)
        related = related_stems(word)
        return any(_key(token) in related or own in related_stems(token) for token in tokens)

    def expansion(self, question: str) -> str:
        """The question, then the words related to its ``words``: what a word search looks for (the question
        kept whole, so that the retriever can still take its time words out)."""
        asked = tokenize(question)
        related = dict.fromkeys(w for word in asked if word in self.words for w in sorted(related_to(word)) if w not in asked)
        return " ".join([question, *related])


def related_to(word: str) -> set[str]:
    """The words WordNet relates to ``word`` (any inflection of a lemma)."""
    table = _table()
    return {related for lemma in _lemmas(word.lower(), table) for related in table[lemma].split()}


@cache
def related_stems(word: str) -> frozenset[str]:
    return frozenset(_key(w) for w in related_to(word))


def _key(word: str) -> str:
    """The stem, an adverb's by its adjective's ("intolerably" as "intolerable"): WordNet relates the adjectives."""
    if word.endswith("bly") and len(word) > 5:
        word = word[:-1] + "e"
    elif word.endswith("ly") and len(word) > 6:
        word = word[:-2]
    return stem(word)


def _lemmas(word: str, table: dict[str, str]) -> list[str]:
    forms = [word, *(word[: -len(ending)] + replacement for ending, replacement in _ENDINGS if word.endswith(ending) and len(word) > len(ending) + 2)]
    return [form for form in dict.fromkeys(forms) if form in table]


@cache
def _table() -> dict[str, str]:
    """The packaged table (lemma → its related words, space-separated), read once per process (about 0.05 s)."""
    data = resources.files("assistant").joinpath("data/wordnet/related.tsv.gz").read_bytes()
    return dict(line.split("\t", 1) for line in gzip.decompress(data).decode("utf-8").splitlines())
