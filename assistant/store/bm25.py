"""BM25 over segments: one bm25s index per segment of the sidecar, scored as if they were one index.

bm25s cannot add documents to an index, so an ingest that adds ten articles to a large index
writes them as a new small segment instead of rebuilding the whole. bm25s stores each term's score
with the segment's own IDF baked in; scoring a query here rescales each term's scores by the ratio
of the IDF over all segments to the segment's own, so that a rare word is rare by the whole index,
as one rebuilt index would score it (the length normalisation stays per segment: chunks are packed
to a similar length everywhere). Rows deleted since a segment was written are taken out of the
document frequencies, so the IDF is that of the live chunks, as after a rebuild. Out of scope: tokenising (tokens.py) and deciding when to merge
segments (store/sidecar.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..tokens import tokenize

EMPTY = "\u2205"  # the token of a chunk without any term: bm25s needs at least one


def build(directory: Path, texts: list[str]) -> None:
    """Index ``texts`` (title and text of each chunk) into ``directory``."""
    import bm25s

    model = bm25s.BM25()
    model.index([tokenize(text) or [EMPTY] for text in texts], show_progress=False)
    model.save(str(directory), show_progress=False)


def idf(documents: int, frequency: int) -> float:
    """bm25s' default ("lucene") IDF."""
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


class SegmentedBM25:
    """The BM25 scores of several bm25s segments as one index."""

    def __init__(self, directories: list[Path], deleted: list[Any] | None = None) -> None:
        """``deleted``: per segment, a boolean array over its rows (or None when none is deleted)."""
        import bm25s

        # Memory-mapped: a question reads a few columns. A rebuild renames the sidecar away; the
        # mapped files stay valid until this reader closes them.
        self.models = [bm25s.BM25.load(str(d), mmap=True, show_progress=False) for d in directories]
        deleted = deleted or [None] * len(self.models)
        gone = [_deleted_per_term(m.scores, mask) if mask is not None and mask.any() else None for m, mask in zip(self.models, deleted)]
        self.exact = len(self.models) == 1 and gone[0] is None  # bm25s' own scores are the answer
        self.documents = sum(int(m.scores["num_docs"]) - (int(mask.sum()) if mask is not None else 0) for m, mask in zip(self.models, deleted))
        self.frequencies = DocumentFrequency([(m.vocab_dict, m.scores["indptr"], g) for m, g in zip(self.models, gone)])

    def scores(self, query: str) -> Any:
        """BM25 score of every chunk (segments in order) for ``query``; None when no query term is indexed."""
        import numpy as np

        terms = [t for t in tokenize(query) if any(t in m.vocab_dict for m in self.models)]
        if not terms:
            return None
        if self.exact:  # one segment, nothing deleted: its own IDF is the index's
            return self.models[0].get_scores(terms)
        parts = []
        for model in self.models:
            own = int(model.scores["num_docs"])
            part = np.zeros(own, dtype=np.float32)
            for term in terms:
                if term not in model.vocab_dict:
                    continue
                local = idf(own, self.frequencies.written(model, term))
                if local > 0:
                    part += model.get_scores([term]) * (idf(self.documents, self.frequencies[term]) / local)
            parts.append(part)
        return np.concatenate(parts)


def _deleted_per_term(scores: Any, deleted: Any) -> Any:
    """For each term column of a segment's sparse score matrix, how many of its rows are deleted."""
    import numpy as np

    seen = np.concatenate([[0], np.cumsum(deleted[np.asarray(scores["indices"])], dtype=np.int64)])
    indptr = np.asarray(scores["indptr"])
    return seen[indptr[1:]] - seen[indptr[:-1]]


class DocumentFrequency(Mapping[str, int]):
    """term → live chunks containing it, summed over segments, read from bm25s' sparse score
    matrices (column lengths, less the deleted rows) on each lookup rather than copying a vocabulary
    of a hundred thousand terms."""

    def __init__(self, segments: list[tuple[dict[str, int], Any, Any]]) -> None:
        self._segments = segments  # (vocabulary, column pointers, deleted rows per column or None)

    @staticmethod
    def _column(vocab: dict[str, int], indptr: Any, gone: Any, term: str) -> int:
        j = vocab.get(term)
        if j is None or j >= len(indptr) - 1:  # bm25s may keep a vocabulary entry (the empty token) with no column
            return 0
        return int(indptr[j + 1] - indptr[j]) - (int(gone[j]) if gone is not None else 0)

    def written(self, model: Any, term: str) -> int:
        """The frequency ``model``'s segment was written with (its baked-in IDF), deleted rows included."""
        return self._column(model.vocab_dict, model.scores["indptr"], None, term)

    def __getitem__(self, term: str) -> int:
        total = sum(self._column(vocab, indptr, gone, term) for vocab, indptr, gone in self._segments)
        if not total:
            raise KeyError(term)
        return total

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and any(self._column(vocab, indptr, gone, term) for vocab, indptr, gone in self._segments)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for vocab, _, _ in self._segments:
            for term in vocab:
                if term not in seen:
                    seen.add(term)
                    yield term

    def __len__(self) -> int:
        return sum(1 for _ in self)
