"""Sentence splitting and chunking: offsets always slice the article, no chunk is over budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.articles import Article, load_file
from assistant.chunking import approximate_token_spans, chunk_article, split_sentences

HASH = "0123456789abcdef" * 4


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


# --- split_sentences ---------------------------------------------------------------


def test_split_sentences_basic_spans_are_trimmed() -> None:
    text = "  First one.  Second one?   Third!\n\nFourth line  \n"
    assert sentences(text) == ["First one.", "Second one?", "Third!", "Fourth line"]


def test_split_sentences_offset_is_added() -> None:
    text = "Alpha beta. Gamma delta."
    assert split_sentences(text, offset=100) == [(100, 111), (112, 124)]


@pytest.mark.parametrize(
    "text",
    [
        "Microsoft Corp. said it invested in Mistral.",
        "Mr. Smith and Mrs. Jones met Dr. Brown on Monday.",
        "The U.S. government opened an inquiry into the deal.",
        "Regulators in the U.K. Competition authority looked at it.",
        "Shares rose 3 p.m. Monday in New York.",
        "The author J. Smith wrote it.",
        "Acme Inc. Bought a rival.",
    ],
)
def test_abbreviations_and_initials_do_not_split(text: str) -> None:
    assert sentences(text) == [text]


def test_a_company_suffix_ends_a_sentence_when_a_sentence_opener_follows() -> None:
    text = "It raised money from investors including Salesforce Inc. and Nvidia Corp. The financing valued the firm at $2 billion."
    assert sentences(text) == ["It raised money from investors including Salesforce Inc. and Nvidia Corp.", "The financing valued the firm at $2 billion."]
    assert sentences("He moved to the U.S. In 2019 he founded it.") == ["He moved to the U.S.", "In 2019 he founded it."]


def test_quotes_and_brackets_close_the_sentence() -> None:
    text = 'He said "it is done." Then he left. (Reuters.) The end.'
    assert sentences(text) == ['He said "it is done."', "Then he left.", "(Reuters.)", "The end."]


def test_lowercase_after_period_does_not_split() -> None:
    assert sentences("Version 2.0 was released. it was fast.") == ["Version 2.0 was released. it was fast."]


def test_newlines_are_boundaries() -> None:
    assert sentences("Headline without period\nBody starts here") == ["Headline without period", "Body starts here"]


_SPLIT_TEXT = st.text(max_size=300) | st.lists(
    st.sampled_from(["Mr.", "Corp.", "U.S.", "Hello.", "end!", "Why?", '"Quoted."', "(Paren.)", "\n", " ", "  ", "A", "word", "é", "\t"]),
    max_size=40,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_SPLIT_TEXT, st.integers(0, 1000))
def test_split_sentences_spans_are_trimmed_ordered_and_inside(text: str, offset: int) -> None:
    spans = split_sentences(text, offset)
    previous_end = offset
    for start, end in spans:
        assert previous_end <= start < end <= offset + len(text)
        segment = text[start - offset : end - offset]
        assert segment == segment.strip()
        assert "\n" not in segment
        previous_end = end
    covered = {i for start, end in spans for i in range(start - offset, end - offset)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


# --- chunk_article -----------------------------------------------------------------

_WORDS = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(
        [
            "Mr.",
            "Corp.",
            "U.S.",
            "Hello.",
            "end!",
            "Why?",
            "\n",
            "\n\n",
            "\r\n",
            "J.",
            "é",
            "日本語のニュース",
            "x" * 300,
            "a.b.c",
            '"Quoted."',
            "\t",
            "\u2028",
            "\u00a0",
            "$13",
        ]
    ),
)
_TEXTS = st.lists(_WORDS, max_size=120).map(" ".join) | st.text(max_size=800)


def _token_count(text: str) -> int:
    return len(approximate_token_spans([text])[0])


@settings(max_examples=400, deadline=None)
@given(_TEXTS, st.integers(min_value=1, max_value=80), st.integers(min_value=0, max_value=3))
def test_chunk_offsets_coverage_and_budget(text: str, max_tokens: int, overlap: int) -> None:
    chunks = chunk_article("art", HASH, text, max_tokens=max_tokens, overlap_sentences=overlap)

    covered = [False] * len(text)
    for chunk in chunks:
        assert chunk.article_id == "art"
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert _token_count(chunk.text) <= max_tokens
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert missing == []
    assert len({c.id for c in chunks}) == len(chunks)
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    if not text.strip():
        assert chunks == []


@settings(max_examples=150, deadline=None)
@given(_TEXTS, st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_chunk_ids_stable_and_change_with_content_hash(text: str, other_hash: str) -> None:
    first = chunk_article("art", HASH, text, max_tokens=40)
    second = chunk_article("art", HASH, text, max_tokens=40)
    assert first == second

    rehashed = chunk_article("art", other_hash, text, max_tokens=40)
    assert [(c.start, c.end) for c in rehashed] == [(c.start, c.end) for c in first]
    if other_hash[:12] != HASH[:12]:
        assert not {c.id for c in rehashed} & {c.id for c in first}
    for chunk in first:
        assert chunk.id == f"art:{HASH[:12]}:{chunk.start}-{chunk.end}"


def test_chunk_ids_change_when_the_article_changes() -> None:
    old = Article(id="a", text="One sentence here. Another sentence there.")
    new = Article(id="a", text="One sentence here. Another sentence changed.")
    old_ids = {c.id for c in chunk_article(old.id, old.content_hash, old.text)}
    new_ids = {c.id for c in chunk_article(new.id, new.content_hash, new.text)}
    assert old.content_hash != new.content_hash
    assert old_ids and new_ids and not old_ids & new_ids


def test_neighbouring_chunks_share_one_sentence() -> None:
    text = " ".join(f"Sentence number {i} has six words." for i in range(12))
    chunks = chunk_article("a", HASH, text, max_tokens=20, overlap_sentences=1)  # 7 tokens each: two per chunk
    assert len(chunks) > 3
    for left, right in zip(chunks, chunks[1:], strict=False):
        assert right.start < left.end  # overlap
        shared = text[right.start : left.end]
        assert sentences(shared) == [shared]  # exactly one whole sentence repeated


def test_long_sentence_is_cut_at_token_boundaries() -> None:
    text = " ".join(f"w{i}" for i in range(95))  # one sentence of 95 tokens
    chunks = chunk_article("a", HASH, text, max_tokens=30)
    assert [_token_count(c.text) for c in chunks] == [30, 30, 30, 5]
    assert " ".join(c.text for c in chunks) == text


def test_empty_text_has_no_chunks() -> None:
    assert chunk_article("a", HASH, "") == []
    assert chunk_article("a", HASH, " \n\t ") == []


# --- the real word-piece tokenizer ------------------------------------------------


def test_seed_articles_chunk_under_200_word_pieces(seed_dir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for path in sorted(seed_dir.glob("*.txt")):
        [article] = load_file(path, [])
        chunks = chunk_article(article.id, article.content_hash, article.text, embedder.token_spans, max_tokens=200)
        assert len(chunks) >= 2, "a seed article is longer than one chunk"
        for chunk in chunks:
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert len(embedder.token_spans([chunk.text])[0]) <= 200
            checked += 1
    assert checked > 0


def test_hangul_sentence_chunks_stay_under_budget(embedder) -> None:  # type: ignore[no-untyped-def]
    text = "서울은 " + " ".join(["한국어문장입니다"] * 60)  # one long sentence; each syllable is 3 word pieces
    chunks = chunk_article("k", HASH, text, embedder.token_spans, max_tokens=200)
    assert len(chunks) > 1
    counts = [len(embedder.token_spans([c.text])[0]) for c in chunks]
    assert max(counts) <= 200, counts
