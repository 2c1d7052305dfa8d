"""The shared vocabulary: articles, chunks and their ids, passages, filters, time frames, dates.

A leaf: it imports nothing from the package, and every other module may import it. It owns the
data shapes and the few rules that define them (the chunk-id format, how dates are written);
it does not own how they are stored, retrieved or shown.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

EPOCH = date(1970, 1, 1)


# --- dates ---------------------------------------------------------------------------------------


def parse_date(value: Any) -> date | None:
    """'2022/06/15', '2022-06-15', an ISO datetime or epoch seconds as a date; None when unknown."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    match = re.match(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", str(value).strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def iso_date(value: Any) -> str:
    """``parse_date`` written as 'YYYY-MM-DD', or '' when unknown (how articles and chunks store dates)."""
    found = parse_date(value)
    return found.isoformat() if found else ""


def day_number(value: date | str | None) -> int:
    """Days since 1970-01-01, -1 when unknown: sortable, and filterable in Chroma's metadata."""
    found = value if isinstance(value, date) else parse_date(value)
    return (found - EPOCH).days if found else -1


# --- articles and chunks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Article:
    """One article. ``text`` is what offsets refer to; ``origin`` is the file it came from."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    url: str = ""
    published: str = ""  # ISO date (YYYY-MM-DD) or ""
    origin: str = ""

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index: text and metadata."""
        payload = json.dumps([self.text, self.title, self.source, self.url, self.published])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


HASH_CHARS = 12  # of an article's content hash, in its chunk ids


class ChunkId(NamedTuple):
    """A chunk's id: ``{article_id}:{first 12 of the content hash}:{start}-{end}``.

    Stable for the same content and new when it changes, so an id names exactly one text.
    """

    article_id: str
    digest: str  # the first 12 hex digits of the article's content hash
    start: int
    end: int

    @classmethod
    def of(cls, article_id: str, content_hash: str, start: int, end: int) -> ChunkId:
        return cls(article_id, content_hash[:HASH_CHARS], start, end)

    @classmethod
    def parse(cls, text: str) -> ChunkId:
        """Raises ValueError for a string that is not a chunk id."""
        article_id, digest, span = text.rsplit(":", 2)
        start, end = span.split("-")
        return cls(article_id, digest, int(start), int(end))

    @property
    def key(self) -> tuple[str, str]:
        """(article id, hash prefix): which version of which article the chunk belongs to."""
        return self.article_id, self.digest

    def __str__(self) -> str:
        return f"{self.article_id}:{self.digest}:{self.start}-{self.end}"


def article_of(chunk_id: str) -> str:
    """The article a chunk id belongs to."""
    return chunk_id.rsplit(":", 2)[0]


@dataclass(frozen=True)
class Chunk:
    """A slice of an article: ``text == article.text[start:end]``, always."""

    id: str
    article_id: str
    start: int
    end: int
    text: str


SHORT_TITLE_CHARS = 80  # Passage.short_title


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk (or a verbatim window of one) with its article's metadata and its scores."""

    chunk_id: str
    article_id: str
    title: str
    source: str
    url: str
    published: str
    start: int
    end: int
    text: str
    score: float = 0.0
    dense: float = 0.0  # cosine similarity to the question
    lexical: float = 0.0  # BM25 score (0 when BM25 did not find it)

    @classmethod
    def of(cls, chunk_id: str, text: str, meta: dict[str, Any], **scores: float) -> Passage:
        """From a stored chunk's text and metadata."""
        return cls(
            chunk_id=chunk_id,
            article_id=str(meta.get("article_id", "")),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            url=str(meta.get("url", "")),
            published=str(meta.get("published", "")),
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", 0)),
            text=text,
            **scores,
        )

    def short_title(self) -> str:
        """The title as shown to people and models: one longer than a headline (an untitled article is
        titled by its lede) is cut at a word."""
        title = self.title
        if len(title) <= SHORT_TITLE_CHARS:
            return title
        return title[:SHORT_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"


# --- time frames and filters ---------------------------------------------------------------------


@dataclass(frozen=True)
class TimeFrame:
    """Publication dates a question is about: [start, end], both included, and where that came from."""

    start: date
    end: date
    source: str  # question | flags | as_of | none ("none": no frame; start/end are unused)
    words: str = ""  # the question's words it was read from
    firm: bool = True  # False for vague words ("recently", a bare weekday): preferred only if the candidates agree

    def describe(self) -> str:
        """One line for the terminal, e.g. "Articles from 13–19 June 2022"."""
        if self.source == "none":
            return "Articles from any date (date preference off)"
        words = f' ("{self.words}")' if self.words else ""
        if not self.firm:  # preferred softly: older articles keep most of their score
            return f"Articles from any date, {span_text(self.start, self.end)} first{words}"
        return f"Articles from {span_text(self.start, self.end)}{words}"

    def to_json(self) -> dict[str, str | bool | None]:
        if self.source == "none":
            return {"start": None, "end": None, "source": "none"}
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "source": self.source, "firm": self.firm}


NO_FRAME = TimeFrame(date.min, date.max, "none")


def month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def span_text(start: date, end: date) -> str:
    """A date range as people write it: "13–19 June 2022", "June 2022", "2023"."""
    if start == end:
        return f"{start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        if (start, end) == month_span(start.year, start.month):
            return f"{start:%B %Y}"
        return f"{start.day}\u2013{end.day} {end:%B %Y}"
    if start.year == end.year:
        if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
            return str(start.year)
        return f"{start.day} {start:%B} \u2013 {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} \u2013 {end.day} {end:%B %Y}"


@dataclass(frozen=True)
class Filters:
    """Hard filters (publication dates, source) and what the soft date preference reads.

    ``as_of`` is when the question is asked (default today; ``explicit_as_of`` when the user set it);
    ``frame`` is a time frame given from outside (a chat follow-up inherits the previous one), else
    read from the question (retrieval.frame_for).
    """

    since: date | None = None
    until: date | None = None
    source: str | None = None
    as_of: date | None = None
    explicit_as_of: bool = False
    frame: TimeFrame | None = None

    def day_range(self) -> tuple[int | None, int | None]:
        """since/until as day numbers (None where open)."""
        return (day_number(self.since) if self.since else None, day_number(self.until) if self.until else None)

    def window(self, start: date, end: date) -> Filters:
        """These filters narrowed to [start, end] (the source filter kept)."""
        return Filters(since=max(start, self.since) if self.since else start, until=min(end, self.until) if self.until else end, source=self.source)
