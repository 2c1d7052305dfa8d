"""Loaders: files and folders of .txt .md .html .json .jsonl → Article (assistant/types.py).

A bad file never stops a run: it becomes a ``Problem`` (path + one-line reason) and the
rest is still loaded. Out of scope: PDFs, office documents, fetching URLs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .chunking import split_sentences
from .types import Article, iso_date

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES

# Bigger files are almost always dumps or logs, not articles; embedding one would take an hour.
MAX_FILE_BYTES = 20_000_000


@dataclass(frozen=True)
class Problem:
    """Something that could not be loaded, and why."""

    path: str
    message: str
    fatal: bool = True  # False: a warning, the article was still loaded

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)


def slug(value: str) -> str:
    """A stable, filesystem- and id-safe form of a name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-.")
    return cleaned[:120] or hashlib.sha1(value.encode()).hexdigest()[:16]


def iter_files(paths: Iterable[Path], problems: list[Problem]) -> Iterator[Path]:
    """Supported files under ``paths``, recursively, each once; symlink loops and hidden entries skipped."""
    seen_dirs: set[str] = set()
    seen_files: set[str] = set()
    for path in paths:
        if not path.exists():
            problems.append(Problem(str(path), "no such file or directory"))
            continue
        if path.is_file():
            real = os.path.realpath(path)
            if real not in seen_files:
                seen_files.add(real)
                yield path
            continue
        for root, dirs, files in os.walk(path, followlinks=True, onerror=lambda e: problems.append(Problem(str(e.filename), e.strerror or str(e)))):
            real_root = os.path.realpath(root)
            if real_root in seen_dirs:  # a symlink loop, or a folder reached twice
                problems.append(Problem(root, "skipped: folder already visited (symlink loop?)", fatal=False))
                dirs[:] = []
                continue
            seen_dirs.add(real_root)
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                    continue
                file_path = Path(root) / name
                real = os.path.realpath(file_path)
                if real not in seen_files:
                    seen_files.add(real)
                    yield file_path


def read_text(path: Path, problems: list[Problem]) -> str | None:
    """The file decoded as UTF-8 (with replacement and a warning if invalid); None if unusable."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(Problem(str(path), f"skipped: {size / 1e6:.0f} MB is over the {MAX_FILE_BYTES // 1_000_000} MB limit for one file; split it into articles (e.g. JSONL)"))
            return None
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(str(path), f"cannot read: {exc.strerror or exc}"))
        return None
    if b"\x00" in raw[:8192]:
        problems.append(Problem(str(path), "skipped: binary file, not text"))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(str(path), f"invalid UTF-8 at byte {exc.start}; decoded with replacement characters", fatal=False))
        text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        problems.append(Problem(str(path), "skipped: empty file"))
        return None
    return text


# A dateline or byline line such as "CNN —" or "London (Reuters) -": where it opens a text, it is not
# the headline (182 of the 217 RealTime QA articles without titles got "CNN —" as theirs, and every
# chunk of them was embedded under it).
_DATELINE = re.compile(r"^.{0,60}?\s[—–-]+$")
TITLE_CHARS = 300


def _first_line_title(text: str) -> str:
    """A title for a text that names none: its first line that is not a dateline; a lede paragraph
    (longer than a headline) is cut to its first sentence."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if not line or _DATELINE.match(line):
            continue
        if len(line) > TITLE_CHARS // 2:
            start, end = split_sentences(line)[0]
            line = line[start:end]
        return line[:TITLE_CHARS]
    return ""


def html_to_text(html: str) -> tuple[str, str]:
    """(title, visible text) of an HTML page; scripts, styles and templates are dropped."""
    from bs4 import BeautifulSoup  # lazy: only HTML ingests pay for it

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg", "head"] if soup.title is None else ["script", "style", "noscript", "template", "svg"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    if not title and soup.h1:
        title = soup.h1.get_text(" ", strip=True)
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in soup.get_text("\n").splitlines())
    return title, "\n".join(line for line in lines if line)


def _article_from_object(obj: Any, fallback_id: str, path: Path) -> Article | str:
    """An Article from one JSON object, or the reason it cannot be one."""
    if not isinstance(obj, dict):
        return "expected a JSON object"
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return "missing or empty 'text' field"
    url = str(obj.get("url") or "")
    source = str(obj.get("source") or urlparse(url).netloc.removeprefix("www.") or path.name)
    raw_id = obj.get("id", obj.get("doc_id"))
    return Article(
        id=slug(str(raw_id)) if raw_id not in (None, "") else fallback_id,
        text=text,
        title=str(obj.get("title") or _first_line_title(text)),
        source=source,
        url=url,
        published=iso_date(obj.get("published", obj.get("publish_date"))),
        origin=os.path.abspath(path),
    )


def load_file(path: Path, problems: list[Problem]) -> list[Article]:
    """Articles in one file (several for JSON/JSONL); problems are appended, never raised."""
    text = read_text(path, problems)
    if text is None:
        return []
    suffix = path.suffix.lower()
    stem = slug(path.stem)
    if suffix in TEXT_SUFFIXES:
        return [Article(id=stem, text=text, title=_first_line_title(text), source=path.name, origin=os.path.abspath(path))]
    if suffix in HTML_SUFFIXES:
        title, body = html_to_text(text)
        if not body.strip():
            problems.append(Problem(str(path), "skipped: no visible text in the HTML"))
            return []
        return [Article(id=stem, text=body, title=title or _first_line_title(body), source=path.name, origin=os.path.abspath(path))]
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(Problem(str(path), f"malformed JSON at line {exc.lineno}: {exc.msg}"))
            return []
        objects = data if isinstance(data, list) else [data]
        numbered = [(i + 1, obj) for i, obj in enumerate(objects)]
        label = "item"
    else:
        numbered = []
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                numbered.append((line_no, json.loads(line)))
            except json.JSONDecodeError as exc:
                problems.append(Problem(f"{path}:{line_no}", f"malformed JSON line: {exc.msg}"))
        label = "line"
    articles = []
    for number, obj in numbered:
        fallback = stem if len(numbered) == 1 else f"{stem}-{number}"
        made = _article_from_object(obj, fallback, path)
        if isinstance(made, str):
            problems.append(Problem(f"{path}:{number}" if label == "line" else f"{path} {label} {number}", f"skipped: {made}"))
        else:
            articles.append(made)
    return articles


def load_paths(paths: Iterable[Path]) -> LoadResult:
    """Load every supported file under ``paths``. Duplicate ids from different files get a path-hash suffix."""
    result = LoadResult()
    origin_of: dict[str, str] = {}
    taken: set[str] = set()
    for file_path in iter_files(paths, result.problems):
        result.files_read.append(os.path.abspath(file_path))
        for article in load_file(file_path, result.problems):
            owner = origin_of.setdefault(article.id, article.origin)
            if owner != article.origin:
                suffix = hashlib.sha1(article.origin.encode()).hexdigest()[:8]
                article = replace(article, id=f"{article.id}-{suffix}")
                origin_of.setdefault(article.id, article.origin)
            if article.id in taken:
                result.problems.append(Problem(article.origin, f"skipped: duplicate article id {article.id!r} in the same file"))
                continue
            taken.add(article.id)
            result.articles.append(article)
    return result
