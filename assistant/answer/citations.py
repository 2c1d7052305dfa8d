"""Citations: parse [n] markers, validate them against the passages shown, pick verbatim quotes.

Pure functions (plus ``MarkerStream`` for text arriving in pieces). A marker refers to passage n
of those shown to the answerer; anything else is dropped and reported, never shown as a source.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..chunking import split_sentences
from ..tokens import terms
from ..types import Passage
from . import Citation, SentenceCheck

MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
# Similarity of two texts in [0, 1]; lexical by default, the caller may pass an embedding one.
Similarity = Callable[[str, list[str]], list[float]]


def lexical_similarity(claim: str, candidates: list[str]) -> list[float]:
    """Share of the claim's content terms found in each candidate."""
    wanted = terms(claim)
    if not wanted:
        return [0.0 for _ in candidates]
    return [len(wanted & terms(c)) / len(wanted) for c in candidates]


def marker_numbers(text: str) -> list[int]:
    return [n for match in MARKER.finditer(text) for n in _numbers(match)]


def _numbers(match: re.Match[str]) -> list[int]:
    """The passage numbers of one marker: "[2, 3; 1]" → [2, 3, 1]."""
    return [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))]


@dataclass
class Validated:
    text: str  # the answer with invalid markers removed
    claims: list[tuple[str, list[int]]]  # (sentence without markers, valid passage numbers cited)
    dropped: list[str]
    spans: list[tuple[int, int]] = field(default_factory=list)  # each claim's sentence in ``text`` (markers included)


def validate(text: str, passage_count: int) -> Validated:
    """Keep markers that name a shown passage; drop (and report) the rest."""
    dropped: list[str] = []

    def clean(match: re.Match[str]) -> str:
        numbers = _numbers(match)
        valid = [n for n in numbers if 1 <= n <= passage_count]
        dropped.extend(f"[{n}]" for n in numbers if not 1 <= n <= passage_count)
        return "".join(f"[{n}]" for n in dict.fromkeys(valid))

    cleaned = re.sub(r" {2,}", " ", re.sub(r" +([.,;:!?])", r"\1", MARKER.sub(clean, text))).strip()
    claims: list[tuple[str, list[int]]] = []
    spans: list[tuple[int, int]] = []
    for start, end in split_sentences(cleaned):
        sentence = cleaned[start:end]
        leading = LEADING_MARKERS.match(sentence)
        if leading and claims:  # "… OpenAI. [1] Next claim": the marker belongs to the sentence before
            claims[-1][1].extend(n for n in marker_numbers(leading.group()) if n not in claims[-1][1])
            spans[-1] = (spans[-1][0], start + leading.end())
            sentence, start = sentence[leading.end():], start + leading.end()
        claim = re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", sentence)).strip()
        if claim:
            claims.append((claim, list(dict.fromkeys(marker_numbers(sentence)))))
            spans.append((start + len(sentence) - len(sentence.lstrip()), end))
    return Validated(cleaned, claims, dropped, spans)


def best_quote(claim: str, passage: Passage, similarity: Similarity = lexical_similarity) -> tuple[str, int, int, float]:
    """The passage sentence that best supports ``claim``: (quote, article start, article end, score)."""
    spans = split_sentences(passage.text)
    if not spans:
        return passage.text, passage.start, passage.end, 0.0
    sentences = [passage.text[s:e] for s, e in spans]
    scores = similarity(claim, sentences)
    best = max(range(len(spans)), key=lambda i: scores[i])
    start, end = spans[best]
    return sentences[best], passage.start + start, passage.start + end, float(scores[best])


def citations_for(checked: Validated, passages: list[Passage], similarity: Similarity = lexical_similarity, min_support: float = 0.3) -> list[Citation]:
    """One citation per cited passage, quoting its sentence that best supports the first claim citing it;
    without any marker, attached (flagged) from the passages that best support each claim."""
    citations: dict[int, Citation] = {}
    for claim, numbers in checked.claims:
        for n in numbers:
            if n not in citations:
                quote, start, end, score = best_quote(claim, passages[n - 1], similarity)
                citations[n] = Citation(n, passages[n - 1], quote, start, end, score)
    if citations or not passages:
        return sorted(citations.values(), key=lambda c: c.n)
    for claim, _ in checked.claims:
        options = [(best_quote(claim, p, similarity), n) for n, p in enumerate(passages, start=1)]
        (quote, start, end, score), n = max(options, key=lambda o: o[0][3])
        if score >= min_support and n not in citations:
            citations[n] = Citation(n, passages[n - 1], quote, start, end, score, attached=True)
    return sorted(citations.values(), key=lambda c: c.n)


class MarkerStream:
    """Filters streamed text: holds back a possibly unfinished "[12" and removes invalid markers."""

    def __init__(self, passage_count: int) -> None:
        self.passage_count = passage_count
        self._pending = ""
        self.seen: list[int] = []
        self.dropped: list[str] = []

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and re.fullmatch(r"\[[\d,;\s]*", text[cut:]):
            self._pending, text = text[cut:], text[:cut]
        else:
            self._pending = ""
        return self._filter(text)

    def close(self) -> str:
        rest, self._pending = self._pending, ""
        return self._filter(rest)

    def _filter(self, text: str) -> str:
        def keep(match: re.Match[str]) -> str:
            numbers = _numbers(match)
            valid = [n for n in numbers if 1 <= n <= self.passage_count]
            self.seen.extend(valid)
            self.dropped.extend(f"[{n}]" for n in numbers if n not in valid)
            return "".join(f"[{n}]" for n in valid)

        return MARKER.sub(keep, text)



def check_sentences(checked: Validated, citations: list[Citation], passages: list[Passage], similarity: Similarity, bar: float) -> list[SentenceCheck]:
    """Each sentence of the answer scored against the passages it cites (or, citing none, those the
    answer cites, else all shown): its best-supporting sentence there, by ``similarity``."""
    cited = [c.n for c in citations] or list(range(1, len(passages) + 1))
    checks = []
    for (claim, numbers), (start, end) in zip(checked.claims, checked.spans, strict=True):
        support = max((best_quote(claim, passages[n - 1], similarity)[3] for n in numbers or cited), default=0.0)
        checks.append(SentenceCheck(claim, start, end, tuple(numbers), support, support >= bar))
    return checks


def retarget(checked: Validated, passages: list[Passage], similarity: Similarity, bar: float) -> tuple[Validated, list[str]]:
    """Each cited sentence cites the best-ranked shown passage that supports it.

    Small models often cite the wrong number ("… in Barcelona [2]" when passage 1 says it), or a
    lower-ranked passage when the best-ranked one says the same. A sentence's markers are replaced by
    the best-ranked passage whose support by ``similarity`` clears ``bar``; a sentence no passage
    supports keeps its markers (and is marked unsupported). Returns the re-validated answer and the
    moves ("[2]→[1]").
    """
    text, moves, offset = checked.text, [], 0
    for (claim, numbers), (start, end) in zip(checked.claims, checked.spans, strict=True):
        if not numbers:
            continue
        target = next((n for n, p in enumerate(passages, start=1) if best_quote(claim, p, similarity)[3] >= bar), None)
        if target is None or numbers == [target]:
            continue
        sentence = text[start + offset : end + offset]
        first = MARKER.search(sentence)
        assert first is not None  # the claim has markers
        rewritten = sentence[: first.start()] + f"[{target}]" + MARKER.sub("", sentence[first.end():])
        text = text[: start + offset] + rewritten + text[end + offset :]
        offset += len(rewritten) - len(sentence)
        moves.append(f"{''.join(f'[{n}]' for n in numbers)}\u2192[{target}]")
    if not moves:
        return checked, []
    again = validate(text, len(passages))
    again.dropped = checked.dropped
    return again, moves
