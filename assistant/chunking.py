"""Article text → Chunks: sentence-aware packing under a word-piece budget, with offsets; and the
sentence splitter every stage that quotes sentences uses.

Invariant: ``chunk.text == article.text[chunk.start:chunk.end]``. No chunk exceeds the
token budget, so the embedder (MiniLM reads 256 word pieces) never silently cuts one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .types import Chunk, ChunkId

# For each text, the (start, end) character span of each token. The local embedder passes
# its real WordPiece offsets; ``approximate_token_spans`` is the fallback for other models.
TokenSpans = Callable[[list[str]], list[list[tuple[int, int]]]]

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "lt", "col", "st", "jr", "sr",
    "inc", "corp", "co", "ltd", "no", "vs", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "e.g", "i.e", "a.m", "p.m", "fig", "est",
}
# Abbreviations that also end sentences ("…investors including Salesforce Inc. and Nvidia Corp. The
# financing valued…"): a boundary after them when a word that opens sentences, not names, follows.
_ALSO_ENDS = {"inc", "corp", "co", "ltd", "jr", "sr", "u.s", "u.k"}
_OPENS_SENTENCE = re.compile(r"\s+[\"“‘(]?(?:The|A|An|It|Its|He|She|They|We|I|This|That|These|Those|There|In|On|At|But|And|Yet|So|As|After|Before|While|Since|If|When)\b")
# A boundary candidate: terminal punctuation (+ closing quotes/brackets) then whitespace.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"([A-Za-z.]+)\.$")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")


def is_sentence(text: str) -> bool:
    """Whether ``text`` ends as a sentence does: a lede does, a headline does not."""
    return bool(_SENTENCE_END.search(text.strip()))


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in ``text`` (+ ``offset``), whitespace trimmed; lines are boundaries."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        line_start = line.start()
        cursor = line_start
        for match in _BOUNDARY.finditer(line.group()):
            end = line_start + match.end()
            word = _WORD_BEFORE.search(text[cursor:line_start + match.start() + 1])
            if word and word.group(1).lower() in _ABBREVIATIONS and not (word.group(1).lower() in _ALSO_ENDS and _OPENS_SENTENCE.match(line.group(), match.end())):
                continue
            if len(word.group(1)) == 1 if word else False:  # an initial such as "J. Smith"
                continue
            spans.append((cursor, end))
            cursor = end
        spans.append((cursor, line.end()))
    trimmed = []
    for start, end in spans:
        segment = text[start:end]
        left = len(segment) - len(segment.lstrip())
        right = len(segment.rstrip())
        if right > left:
            trimmed.append((offset + start + left, offset + start + right))
    return trimmed


def approximate_token_spans(texts: list[str]) -> list[list[tuple[int, int]]]:
    """Words and punctuation marks: at least as many pieces as most subword tokenizers make."""
    return [[m.span() for m in re.finditer(r"\w+|[^\w\s]", t)] for t in texts]


def _units(text: str, token_spans: TokenSpans, budget: int) -> list[tuple[int, int, int]]:
    """Sentences as (start, end, tokens); sentences over budget are cut at token boundaries."""
    sentences = split_sentences(text)
    spans_per_sentence = token_spans([text[s:e] for s, e in sentences])
    units = []
    for (start, end), spans in zip(sentences, spans_per_sentence):
        if len(spans) <= budget:
            units.append((start, end, len(spans)))
            continue
        first = 0
        while first < len(spans):
            last = min(first + budget, len(spans)) - 1
            # Never cut inside a character that maps to several word pieces (e.g. Hangul syllables).
            while last + 1 < len(spans) and last > first and spans[last + 1][0] < spans[last][1]:
                last -= 1
            piece_start = spans[first][0] if first else 0
            piece_end = spans[last][1] if last < len(spans) - 1 else end - start
            units.append((start + piece_start, start + piece_end, last - first + 1))
            first = last + 1
    return units


def chunk_article(
    article_id: str,
    content_hash: str,
    text: str,
    token_spans: TokenSpans = approximate_token_spans,
    max_tokens: int = 200,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Pack sentences into chunks of at most ``max_tokens``; neighbours share ``overlap_sentences``.

    Ids are ``ChunkId``s: stable for the same content, new when it changes.
    """
    units = _units(text, token_spans, max_tokens)
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and total + units[j][2] <= max_tokens:
            total += units[j][2]
            j += 1
        j = max(j, i + 1)
        start, end = units[i][0], units[j - 1][1]
        chunks.append(Chunk(str(ChunkId.of(article_id, content_hash, start, end)), article_id, start, end, text[start:end]))
        if j >= len(units):
            break
        i = max(i + 1, j - overlap_sentences)
    return chunks
