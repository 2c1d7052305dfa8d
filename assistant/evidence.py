"""How well a retrieved sentence supports a question: the score both answer engines abstain on.

No NLI or QA model ships on PyPI, so support is three cheap signals:
- dense similarity of question and sentence (the local MiniLM),
- IDF-weighted coverage of the question's terms by the sentence and its article title
  (rare words such as "revenue" or "Activision" must be there; "Microsoft" matters less),
- answer-type checks: "how many X" needs a number and X; "when" needs a date; names in the
  question (Sam Altman) must occur in the sentence's passage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

from .bm25 import tokenize
from .citations import SUFFIXES, stem
from .embeddings import Embedder
from .retrieval import Passage

DENSE_WEIGHT = 0.5
NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion|trillion)\b", re.I)
DATE = re.compile(r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|last (week|month|year)|spring|summer|autumn|fall|winter)\b", re.I)
HOW_MANY = re.compile(r"\bhow many (\w+)", re.I)
NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)")  # two or more capitalised words, not sentence-initial


class TermWeights:
    """IDF per stemmed term, from the BM25 sidecar; terms the corpus never uses weigh most.

    Computed on demand per term (a question and a few passages need dozens, the vocabulary of a
    news corpus has ~100k: merging all of it up front cost 0.7 s of every cold `ask`).
    """

    def __init__(self, document_frequency: Mapping[str, int], documents: int) -> None:
        self._df = document_frequency
        self._documents = documents
        self._cache: dict[str, float] = {}

    def __call__(self, term: str) -> float:
        key = stem(term)
        weight = self._cache.get(key)
        if weight is None:
            # BM25's IDF, merged over the forms that share the stem (df of the stem = max over its forms);
            # stem() only strips these suffixes, so the forms of a stem are the stem plus one of them.
            forms = [key, *(key + suffix for suffix in SUFFIXES)]
            df = max(self._df.get(form, 0) for form in forms if stem(form) == key)
            weight = self._cache[key] = self.idf(df) if self._documents else 1.0
        return weight

    def idf(self, df: int) -> float:
        return math.log(1 + (self._documents - df + 0.5) / (df + 0.5))

    @classmethod
    def uniform(cls) -> TermWeights:
        return cls({}, 0)


def weighted_coverage(question: str, text: str, weights: Callable[[str], float]) -> float:
    wanted = set(tokenize(question))
    if not wanted:
        return 0.0
    present = {stem(t) for t in tokenize(text)}
    total = sum(weights(t) for t in wanted)
    return sum(weights(t) for t in wanted if stem(t) in present) / total if total else 0.0


def type_checks(question: str, sentence: str, passage: Passage) -> bool:
    """False when the sentence cannot be the kind of answer the question asks for."""
    lowered = question.lower()
    if ("how many" in lowered or "how much" in lowered) and not NUMBER.search(sentence):
        return False
    many = HOW_MANY.search(question)
    if many and stem(many.group(1).lower()) not in {stem(t) for t in tokenize(sentence)}:
        return False
    if re.match(r"^\s*(when|in what year|what year|on what date)\b", lowered) and not DATE.search(sentence):
        return False
    context = f"{passage.title} {passage.text}".lower()
    return all(name.lower() in context for name in NAME.findall(question))


def support_scores(question: str, sentences: list[tuple[str, Passage]], embedder: Embedder, weights: Callable[[str], float], budget: int | None = None) -> list[float]:
    """Support of each (sentence, its passage) for the question, in [0, 1]; 0 when a type check fails.

    With ``budget``, only that many sentences are embedded, those covering the question's terms best;
    the rest keep their coverage part alone. Embedding is nearly all the cost (~8 ms a sentence here,
    ~20 sentences a question); a budget of 12 chose the same best sentence for 53 of the 54 seed
    questions and abstained on the same ones (eval/reports/cold-ask.md).
    """
    import numpy as np

    if not sentences:
        return []
    scores = [0.0] * len(sentences)
    eligible = [i for i, (sentence, passage) in enumerate(sentences) if type_checks(question, sentence, passage)]
    for i in eligible:
        sentence, passage = sentences[i]
        scores[i] = (1 - DENSE_WEIGHT) * weighted_coverage(question, f"{passage.title} {sentence}", weights)
    chosen = sorted(eligible, key=lambda i: -scores[i])[:budget]
    if not chosen:
        return scores
    vectors = np.asarray(embedder.embed_documents([question, *(sentences[i][0] for i in chosen)]), dtype=np.float32)
    for i, similarity in zip(chosen, vectors[1:] @ vectors[0]):
        scores[i] += DENSE_WEIGHT * float(similarity)
    return scores


def idf_weights(document_frequency: Mapping[str, int], documents: int) -> TermWeights:
    """BM25's IDF over ``documents`` chunks, merged over terms that share a stem."""
    return TermWeights(document_frequency, documents)


SUPPORT_BAR = 0.5  # an answer sentence scoring below this against what it cites is marked unsupported
_NUMBER_WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}


def claim_similarity(embedder: Embedder, weights: Callable[[str], float]) -> Callable[[str, list[str]], list[float]]:
    """How well each candidate sentence supports a claim (an answer sentence), on the support scale:
    IDF-weighted coverage of the claim's terms and dense similarity, as ``support_scores`` weighs them."""
    import numpy as np

    cache: dict[tuple[str, tuple[str, ...]], list[float]] = {}  # a sentence is checked against a passage more than once

    def similarity(claim: str, candidates: list[str]) -> list[float]:
        key = (claim, tuple(candidates))
        if not candidates:
            return []
        if key not in cache:
            vectors = np.asarray(embedder.embed_documents([claim, *candidates]), dtype=np.float32)
            dense = vectors[1:] @ vectors[0]
            cache[key] = [(1 - DENSE_WEIGHT) * weighted_coverage(claim, text, weights) + DENSE_WEIGHT * max(0.0, float(d)) for text, d in zip(candidates, dense)]
        return cache[key]

    return similarity


def mentions(phrase: str, texts: list[str]) -> float:
    """Share of a short phrase's words that occur in ``texts`` (a word matches one that shares its
    first five letters, "Europe" / "European"; number words match digits; a missing number scores 0):
    is a short answer there?"""

    def key(word: str) -> str:
        word = _NUMBER_WORDS.get(word, word)
        return word if word.isdigit() else word[:5]

    wanted = {key(w) for w in tokenize(phrase)} or {key(w) for w in re.findall(r"\w+", phrase.lower())}
    if not wanted:
        return 0.0
    present = {key(w) for text in texts for w in re.findall(r"\w+", text.lower())}
    if any(w.isdigit() and w not in present for w in wanted):
        return 0.0  # a number is the answer's point: "$40 billion" is not "$13 billion"
    return len(wanted & present) / len(wanted)
