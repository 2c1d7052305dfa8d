"""Lexical search for clients of a Chroma server, asked of the server: no client copies the corpus.

An embedded index keeps BM25 in its sidecar (store/sidecar.py), built from every chunk's text. A
client of a `chroma run` server would have to read the whole collection to build one, on its first
question and after every ingest by anyone. Instead it asks the server, which already indexes the
documents for full-text filters: for each content word of the question, which chunks contain it
(a case-insensitive whole-word ``$regex`` document filter, ids only, at most CAP). A chunk scores
the IDF of the question's words it contains, with the document frequency Chroma just counted:
BM25 with binary term frequency, which is what can be known without reading the texts. Texts are
read only for the few chunks that make the final cut (retrieval.py).

Out of scope: dense search and reading chunks (store/readers.py), fusion and ranking (retrieval.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..tokens import tokenize
from ..types import Filters
from .bm25 import idf
from .readers import chroma_where

CAP = 1000  # chunks asked for per word; a word in more of them is too common to rank by
MAX_WORDS = 12  # of a question's content words, the longest (the likeliest to be rare) are asked for
ASKED_AT_ONCE = 4  # requests in flight: each is a scan on the server, which has cores of its own


class ServerLexical:
    """Word search through a Chroma collection's document filters (the Lexical interface of the sidecar)."""

    def __init__(self, collection: Any, size: int) -> None:
        self.collection = collection
        self.size = size
        self.frequencies: dict[str, int] = {}  # word → chunks containing it (CAP + 1: at least that many)
        self._hits: dict[tuple[str, str], list[str]] = {}  # (word, filter) → ids, for the question being asked
        self._question = ""

    def search(self, question: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        """The ``n`` best (chunk id, score) for ``question`` within ``filters``, best first."""
        if question != self._question:  # retrieval asks twice per question (all dates, then the time frame)
            self._hits, self._question = {}, question
        words = sorted(set(tokenize(question)), key=lambda w: (-len(w), w))[:MAX_WORDS]
        where = chroma_where(filters)
        key = repr(where)
        todo = [w for w in words if (w, key) not in self._hits]
        if todo:
            with ThreadPoolExecutor(min(ASKED_AT_ONCE, len(todo))) as pool:
                for word, ids in zip(todo, pool.map(lambda w: self._containing(w, where), todo)):
                    self._hits[(word, key)] = ids
                    if where is None:
                        self.frequencies[word] = len(ids)
        scores: dict[str, float] = {}
        for word in words:
            ids = self._hits[(word, key)]
            if len(ids) > CAP:  # too common to choose by
                continue
            weight = idf(self.size, self.frequencies.get(word, len(ids)))
            for chunk_id in ids:
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weight
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:n]

    def _containing(self, word: str, where: dict[str, Any] | None) -> list[str]:
        pattern = rf"(?i)\b{re.escape(word)}\b"
        return list(self.collection.get(where_document={"$regex": pattern}, where=where, include=[], limit=CAP + 1)["ids"])

    def document_frequencies(self) -> tuple[Mapping[str, int], int]:
        """(word → chunks containing it, chunks): the words of the questions asked so far, counted by the server."""
        return self.frequencies, self.size
