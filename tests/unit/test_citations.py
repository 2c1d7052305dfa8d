"""Citations: [n] markers validated against the passages shown, quotes verbatim at article offsets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.answer import Citation
from assistant.answer.citations import MarkerStream, citations_for, lexical_similarity, marker_numbers, validate
from assistant.types import Passage


def cite(text: str, passages: list[Passage]) -> tuple[str, list[Citation], list[str]]:
    """Validate an answer's markers and cite: (cleaned text, citations, dropped markers)."""
    checked = validate(text, len(passages))
    return checked.text, citations_for(checked, passages), checked.dropped


# Two "articles"; passages are slices of them at known offsets, as the index would return them.
ARTICLE_A = (
    "Microsoft Strikes Deal With Mistral\n"
    "Microsoft has announced a partnership with Mistral AI. "
    "Microsoft has invested roughly $13 billion in OpenAI since 2019. "
    "The deal drew scrutiny from regulators in Europe."
)
ARTICLE_B = (
    "The EU AI Act\n"
    "Lawmakers reached a political agreement in December 2023. "
    "The act bans social scoring systems outright. "
    "Mistral lobbied against strict rules for foundation models."
)
ARTICLES = {"a": ARTICLE_A, "b": ARTICLE_B}


def passage(article_id: str, first: str, last: str, score: float = 1.0) -> Passage:
    """The passage of article ``article_id`` from the sentence starting ``first`` to the one ending ``last``."""
    text = ARTICLES[article_id]
    start = text.index(first)
    end = text.index(last) + len(last)
    return Passage(
        chunk_id=f"{article_id}:000000000000:{start}-{end}",
        article_id=article_id,
        title=text.splitlines()[0],
        source=f"{article_id}.txt",
        url="",
        published="2024-02-26",
        start=start,
        end=end,
        text=text[start:end],
        score=score,
    )


PASSAGES = [
    passage("a", "Microsoft has announced", "regulators in Europe."),
    passage("b", "Lawmakers reached", "foundation models."),
]


def assert_verbatim(citation) -> None:  # type: ignore[no-untyped-def]
    p = citation.passage
    article = ARTICLES[p.article_id]
    assert citation.quote == article[citation.start : citation.end]
    assert citation.quote == p.text[citation.start - p.start : citation.end - p.start]
    assert p.start <= citation.start < citation.end <= p.end


# --- validate ----------------------------------------------------------------------


def test_validate_keeps_valid_markers_and_drops_out_of_range() -> None:
    checked = validate("Microsoft invested [1]. EU rules [2]. Zero [0]. Too far [99].", passage_count=2)

    assert checked.text == "Microsoft invested [1]. EU rules [2]. Zero. Too far."
    assert checked.dropped == ["[0]", "[99]"]
    assert [numbers for _, numbers in checked.claims] == [[1], [2], [], []]
    assert all("[" not in claim for claim, _ in checked.claims)


def test_validate_comma_list_becomes_separate_markers() -> None:
    checked = validate("Both agree [1, 2].", passage_count=2)
    assert checked.text == "Both agree [1][2]."
    assert [numbers for _, numbers in checked.claims] == [[1, 2]]
    assert "[" not in checked.claims[0][0] and checked.claims[0][0].startswith("Both agree")
    assert checked.dropped == []


def test_validate_adjacent_markers_and_mixed_validity() -> None:
    adjacent = validate("Both agree [1][2].", passage_count=2)
    assert adjacent.text == "Both agree [1][2]."
    assert adjacent.claims[0][1] == [1, 2]

    mixed = validate("Claim [2, 7; 1].", passage_count=2)
    assert mixed.text == "Claim [2][1]."
    assert mixed.dropped == ["[7]"]
    assert mixed.claims[0][1] == [2, 1]


def test_validate_repeated_marker_counted_once() -> None:
    checked = validate("Claim [1][1] again [1].", passage_count=1)
    assert checked.claims[0][1] == [1]


def test_validate_with_no_passages_drops_every_marker() -> None:
    checked = validate("Something [1].", passage_count=0)
    assert checked.text == "Something."
    assert checked.dropped == ["[1]"]
    assert checked.claims == [("Something.", [])]


def test_marker_numbers() -> None:
    assert marker_numbers("a [1] b [2, 3] c [4;5] [x] [ 6 ]") == [1, 2, 3, 4, 5]


# --- cite --------------------------------------------------------------------------


def test_cite_maps_markers_to_passages_with_verbatim_quotes() -> None:
    text, citations, dropped = cite(
        "Microsoft has invested about $13 billion in OpenAI [1]. The AI Act bans social scoring [2]. Invented [3].",
        PASSAGES,
    )

    assert dropped == ["[3]"]
    assert "[3]" not in text
    assert [c.n for c in citations] == [1, 2]
    first, second = citations
    assert first.passage is PASSAGES[0] and second.passage is PASSAGES[1]
    assert first.quote == "Microsoft has invested roughly $13 billion in OpenAI since 2019."
    assert second.quote == "The act bans social scoring systems outright."
    for citation in citations:
        assert_verbatim(citation)
        assert citation.attached is False
        assert citation.score > 0.5


def test_cite_one_marker_cited_by_two_claims_gives_one_citation() -> None:
    _, citations, _ = cite("Mistral partnered with Microsoft [1]. Regulators in Europe scrutinised the deal [1].", PASSAGES)
    assert [c.n for c in citations] == [1]
    assert_verbatim(citations[0])


def test_cite_without_markers_attaches_supported_citations() -> None:
    text, citations, dropped = cite("Lawmakers reached a political agreement in December 2023.", PASSAGES)

    assert text == "Lawmakers reached a political agreement in December 2023."
    assert dropped == []
    assert len(citations) == 1
    [citation] = citations
    assert citation.attached is True
    assert citation.n == 2 and citation.passage is PASSAGES[1]
    assert citation.quote == "Lawmakers reached a political agreement in December 2023."
    assert citation.score >= 0.3
    assert_verbatim(citation)


def test_cite_without_markers_and_unrelated_answer_has_no_citations() -> None:
    text, citations, dropped = cite("Lima is the capital of Peru.", PASSAGES)
    assert text == "Lima is the capital of Peru."
    assert citations == []
    assert dropped == []


def test_cite_with_no_passages() -> None:
    text, citations, dropped = cite("Anything at all [1].", [])
    assert text == "Anything at all."
    assert citations == []
    assert dropped == ["[1]"]


def test_citation_json_carries_offsets_and_quote() -> None:
    _, [citation], _ = cite("Microsoft invested $13 billion in OpenAI [1].", PASSAGES[:1])
    data = citation.to_json()
    assert {"n", "article_id", "chunk_id", "start", "end", "quote", "score", "attached"} <= set(data)
    assert ARTICLE_A[data["start"] : data["end"]] == data["quote"]
    assert data["article_id"] == "a" and data["chunk_id"] == PASSAGES[0].chunk_id


def test_cite_marker_after_the_full_stop_belongs_to_the_sentence_before() -> None:
    """Models often write "Claim. [1] Next claim. [2]"; each marker must quote support for the claim before it."""
    answer = "Microsoft invested $13 billion in OpenAI. [1] Mistral lobbied against the rules. [2]"
    checked = validate(answer, 2)
    assert [numbers for _, numbers in checked.claims] == [[1], [2]]

    _, citations, _ = cite(answer, PASSAGES)
    assert [c.quote for c in citations] == [
        "Microsoft has invested roughly $13 billion in OpenAI since 2019.",
        "Mistral lobbied against strict rules for foundation models.",
    ]


# --- MarkerStream ------------------------------------------------------------------


def run_stream(pieces: list[str], passage_count: int) -> tuple[str, list[int], list[str]]:
    stream = MarkerStream(passage_count)
    out = "".join(stream.feed(p) for p in pieces) + stream.close()
    return out, stream.seen, stream.dropped


def test_marker_stream_holds_back_partial_markers() -> None:
    stream = MarkerStream(passage_count=2)
    assert stream.feed("Foo [") == "Foo "
    assert stream.feed("1] bar [9") == "[1] bar "
    assert stream.feed("9]") == ""
    assert stream.close() == ""
    assert stream.seen == [1]
    assert stream.dropped == ["[99]"]


def test_marker_stream_close_flushes_unfinished_text() -> None:
    stream = MarkerStream(passage_count=2)
    assert stream.feed("ends with [1") == "ends with "
    assert stream.close() == "[1"
    assert stream.seen == []


def test_marker_stream_lists_and_non_markers() -> None:
    out, seen, dropped = run_stream(["See [1, ", "3; 2] and [note] and [", "x]."], passage_count=2)
    assert out == "See [1][2] and [note] and [x]."
    assert seen == [1, 2]
    assert dropped == ["[3]"]


STREAM_TEXT = "Foo [1] bar [99] baz [2, 3][0] and [note] [1;2] end [4"


def test_marker_stream_every_split_point_matches_whole() -> None:
    whole = run_stream([STREAM_TEXT], passage_count=3)
    assert whole[0] == "Foo [1] bar  baz [2][3] and [note] [1][2] end [4"
    for i in range(len(STREAM_TEXT) + 1):
        assert run_stream([STREAM_TEXT[:i], STREAM_TEXT[i:]], 3) == whole, i
    assert run_stream(list(STREAM_TEXT), 3) == whole  # one character at a time


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="[]0123456789,; ab", max_size=60),
    st.lists(st.integers(min_value=0, max_value=60), max_size=8),
    st.integers(min_value=0, max_value=5),
)
def test_marker_stream_any_split_matches_whole(text: str, cuts: list[int], passage_count: int) -> None:
    points = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    assert "".join(pieces) == text

    streamed = run_stream(pieces, passage_count)
    whole = run_stream([text], passage_count)

    assert streamed == whole
    _, seen, dropped = whole
    assert sorted(seen) == sorted(n for n in marker_numbers(text) if 1 <= n <= passage_count)
    assert len(dropped) == len(marker_numbers(text)) - len(seen)


def test_retarget_moves_a_marker_to_the_passage_that_supports_its_sentence() -> None:
    from assistant.answer.citations import retarget

    answer = "Microsoft has invested roughly $13 billion in OpenAI since 2019 [2]. Mistral lobbied against strict rules [2]."
    checked, moves = retarget(validate(answer, 2), PASSAGES, lexical_similarity, bar=0.6)
    assert moves == ["[2]\u2192[1]"]
    assert checked.text == "Microsoft has invested roughly $13 billion in OpenAI since 2019 [1]. Mistral lobbied against strict rules [2]."
    assert [numbers for _, numbers in checked.claims] == [[1], [2]]
    # A sentence no passage supports keeps its marker (and is marked unsupported later).
    same, none = retarget(validate("Volcanoes erupted in Iceland [1].", 2), PASSAGES, lexical_similarity, bar=0.6)
    assert none == [] and same.text == "Volcanoes erupted in Iceland [1]."
