"""Loaders: every supported format, and every way a file can be bad without stopping the run."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.articles import Problem, load_file, load_paths
from assistant.types import Article, iso_date


def load_one(path: Path) -> tuple[list[Article], list[Problem]]:
    problems: list[Problem] = []
    return load_file(path, problems), problems


# --- plain text and markdown -------------------------------------------------------


def test_txt_title_from_first_line_source_is_file_name_id_is_stem(tmp_path: Path) -> None:
    path = tmp_path / "acme-deal.txt"
    content = "\n  Acme buys Widget Co  \nAcme Corp. said on Monday it would buy Widget Co.\n"
    path.write_text(content, encoding="utf-8")

    articles, problems = load_one(path)

    assert problems == []
    [article] = articles
    assert article.id == "acme-deal"
    assert article.title == "Acme buys Widget Co"
    assert article.source == "acme-deal.txt"
    assert article.text == content  # offsets refer to the file's own text: nothing is stripped
    assert article.origin == os.path.abspath(path)
    assert article.published == "" and article.url == ""


def test_markdown_title_drops_heading_marks_text_kept_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    content = "## Mistral raises money\n\nThe *Paris* startup raised €105 million.\n"
    path.write_text(content, encoding="utf-8")

    [article], problems = load_one(path)

    assert problems == []
    assert article.title == "Mistral raises money"
    assert article.text == content
    assert article.source == "notes.md"
    assert article.id == "notes"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("CNN —\n\nArman doesn’t sleep much anymore.\n\nMore.", "Arman doesn’t sleep much anymore."),  # a dateline is not a headline
        ("Washington CNN —\nBiden spoke.", "Biden spoke."),
        ("London (Reuters) -\nThe pound fell.", "The pound fell."),
        ("Up - and down\nBody.", "Up - and down"),  # a dash inside a headline is kept
        ("# Mistral raises money\nBody.", "Mistral raises money"),
        ("CNN Business —\n\n" + "Kanye West is acquiring Parler, the platform favored by many conservatives. " * 2 + "\n", "Kanye West is acquiring Parler, the platform favored by many conservatives."),  # a lede: its first sentence
    ],
)
def test_title_from_text_skips_datelines_and_cuts_a_lede_to_its_first_sentence(tmp_path: Path, text: str, title: str) -> None:
    path = tmp_path / "untitled.jsonl"
    path.write_text(json.dumps({"id": "a1", "text": text}) + "\n", encoding="utf-8")

    [article], problems = load_one(path)

    assert problems == []
    assert article.title == title


def test_file_name_with_spaces_gives_id_safe_slug(tmp_path: Path) -> None:
    path = tmp_path / "Big News: today!.txt"
    path.write_text("Headline\nBody.\n", encoding="utf-8")

    [article], _ = load_one(path)

    assert article.id == "Big-News-today"
    assert ":" not in article.id  # chunk ids are split on ':'
    assert article.source == "Big News: today!.txt"


# --- HTML --------------------------------------------------------------------------


def test_html_title_from_title_tag_scripts_and_styles_dropped(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Microsoft backs Mistral</title>"
        "<style>.lead { color: red }</style><script>var tracker = 'SECRET-JS';</script></head>"
        "<body><h1>Headline in body</h1><p>Microsoft made a  small investment.</p>"
        "<script>alert('INLINE-JS')</script><noscript>enable js</noscript><p>Second paragraph.</p></body></html>",
        encoding="utf-8",
    )

    [article], problems = load_one(path)

    assert problems == []
    assert article.title == "Microsoft backs Mistral"
    assert article.id == "page"
    assert article.source == "page.html"
    assert "Microsoft made a small investment." in article.text  # whitespace runs collapsed
    assert "Second paragraph." in article.text
    for hidden in ("SECRET-JS", "INLINE-JS", "color: red", "enable js", "<p>"):
        assert hidden not in article.text


def test_html_without_title_uses_h1(tmp_path: Path) -> None:
    path = tmp_path / "no-title.htm"
    path.write_text("<body><h1>The H1 title</h1><p>Body text.</p></body>", encoding="utf-8")

    [article], _ = load_one(path)

    assert article.title == "The H1 title"
    assert "Body text." in article.text


def test_html_with_no_visible_text_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "blank.html"
    path.write_text("<html><head><script>only()</script></head><body>  </body></html>", encoding="utf-8")

    articles, problems = load_one(path)

    assert articles == []
    assert len(problems) == 1 and problems[0].fatal
    assert "no visible text" in problems[0].message


# --- JSON and JSONL ----------------------------------------------------------------


def test_json_single_object(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"text": "Body of the article.", "title": "A title", "published": "2024-02-26T08:00:00Z"}), encoding="utf-8")

    [article], problems = load_one(path)

    assert problems == []
    assert article.id == "one"  # no id field: the file stem
    assert article.title == "A title"
    assert article.text == "Body of the article."
    assert article.published == "2024-02-26"
    assert article.source == "one.json"


def test_json_list_of_objects_gets_numbered_ids_and_reports_bad_items(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text(json.dumps([{"text": "First."}, {"title": "no text"}, {"text": "Third.", "id": "custom id"}, "not an object"]), encoding="utf-8")

    articles, problems = load_one(path)

    assert [(a.id, a.text) for a in articles] == [("many-1", "First."), ("custom-id", "Third.")]
    assert len(problems) == 2 and all(p.fatal for p in problems)
    assert "item 2" in problems[0].path and "text" in problems[0].message
    assert "item 4" in problems[1].path and "JSON object" in problems[1].message


def test_malformed_json_file_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "text": "x",\n  oops\n}', encoding="utf-8")

    articles, problems = load_one(path)

    assert articles == []
    assert len(problems) == 1 and problems[0].fatal
    assert "line 3" in problems[0].message


def test_jsonl_fields(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    rows = [
        {"text": "Alpha body.", "title": "Alpha", "url": "https://www.example.com/a", "published": "2024/02/26", "id": "a1"},
        {"text": "Beta body.", "doc_id": "b-2", "publish_date": "2023-12-08", "source": "Reuters"},
        {"text": "Gamma first line\nmore"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")

    articles, problems = load_one(path)

    assert problems == []
    alpha, beta, gamma = articles
    assert (alpha.id, alpha.title, alpha.url, alpha.published) == ("a1", "Alpha", "https://www.example.com/a", "2024-02-26")
    assert alpha.source == "example.com"  # from the URL's host, without www.
    assert (beta.id, beta.source, beta.published, beta.title) == ("b-2", "Reuters", "2023-12-08", "Beta body.")
    assert gamma.id == "feed-3"  # line number when there is no id
    assert gamma.title == "Gamma first line"
    assert gamma.source == "feed.jsonl"
    assert all(a.origin == os.path.abspath(path) for a in articles)


def test_jsonl_line_without_text_is_a_problem_other_lines_loaded(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        '{"text": "One.", "id": "one"}\n{"title": "no body", "id": "two"}\n{"text": "   ", "id": "blank"}\n{"text": "Four.", "id": "four"}\n', encoding="utf-8"
    )

    articles, problems = load_one(path)

    assert [a.id for a in articles] == ["one", "four"]
    assert [p.path for p in problems] == [f"{path}:2", f"{path}:3"]
    assert all(p.fatal and "text" in p.message for p in problems)


def test_jsonl_malformed_line_reports_line_number(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text('{"text": "Good one.", "id": "g1"}\n\n{"text": "unterminated\n{"text": "Good two.", "id": "g2"}\n', encoding="utf-8")

    articles, problems = load_one(path)

    assert [a.id for a in articles] == ["g1", "g2"]
    assert len(problems) == 1
    assert problems[0].path == f"{path}:3"  # the blank line 2 still counts
    assert problems[0].fatal and "malformed JSON" in problems[0].message
    assert str(problems[0]).startswith(f"{path}:3: ")


# --- bad files ---------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  "], ids=["empty", "whitespace-only"])
def test_empty_and_whitespace_only_files_are_skipped(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "nothing.txt"
    path.write_bytes(content)

    articles, problems = load_one(path)

    assert articles == []
    assert len(problems) == 1 and problems[0].fatal
    assert "empty" in problems[0].message


def test_binary_file_with_txt_extension_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)

    articles, problems = load_one(path)

    assert articles == []
    assert len(problems) == 1 and problems[0].fatal
    assert "binary" in problems[0].message


def test_invalid_utf8_is_loaded_with_replacement_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Café crème\nThe café opened in 1999.\n".encode("latin-1"))

    [article], problems = load_one(path)

    assert article.text == "Caf\ufffd cr\ufffdme\nThe caf\ufffd opened in 1999.\n"
    assert article.title == "Caf\ufffd cr\ufffdme"
    assert len(problems) == 1
    assert problems[0].fatal is False
    assert "UTF-8" in problems[0].message and "byte 3" in problems[0].message


def test_utf8_bom_is_not_part_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffTitle\nBody.\n".encode())

    [article], problems = load_one(path)

    assert problems == []
    assert article.text == "Title\nBody.\n"
    assert article.title == "Title"


def test_missing_path_is_a_problem(tmp_path: Path) -> None:
    result = load_paths([tmp_path / "does-not-exist"])

    assert result.articles == [] and result.files_read == []
    assert len(result.problems) == 1 and result.problems[0].fatal
    assert "no such file" in result.problems[0].message


# --- folders -----------------------------------------------------------------------


def test_folder_is_read_recursively_skipping_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "a.txt").write_text("A title\nA body.", encoding="utf-8")
    (tmp_path / "sub" / "deeper" / "b.md").write_text("B title\nB body.", encoding="utf-8")
    (tmp_path / ".hidden" / "c.txt").write_text("hidden", encoding="utf-8")
    (tmp_path / ".dotfile.txt").write_text("hidden too", encoding="utf-8")
    (tmp_path / "SOURCES").write_text("not an article", encoding="utf-8")
    (tmp_path / "data.csv").write_text("x,y", encoding="utf-8")

    result = load_paths([tmp_path])

    assert sorted(a.id for a in result.articles) == ["a", "b"]
    assert sorted(Path(f).name for f in result.files_read) == ["a.txt", "b.md"]
    assert result.problems == []


def test_symlink_loop_terminates_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "story.txt").write_text("Story\nText of the story.", encoding="utf-8")
    os.symlink("..", tmp_path / "news" / "loop")  # news/loop -> tmp_path, which contains news/ again

    result = load_paths([tmp_path])

    assert [a.id for a in result.articles] == ["story"]  # the file is read once, not once per lap
    warnings = [p for p in result.problems if not p.fatal]
    assert warnings and all("visited" in p.message for p in warnings)
    assert not any(p.fatal for p in result.problems)


def test_same_file_given_twice_is_loaded_once(tmp_path: Path) -> None:
    path = tmp_path / "once.txt"
    path.write_text("Once\nOnly once.", encoding="utf-8")

    result = load_paths([path, tmp_path, path])

    assert [a.id for a in result.articles] == ["once"]
    assert result.files_read == [os.path.abspath(path)]


def test_duplicate_ids_from_two_files_get_distinct_stable_ids(tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.txt").write_text(f"Report from {folder}\nBody {folder}.", encoding="utf-8")
    (tmp_path / "z.jsonl").write_text('{"text": "From JSONL.", "id": "report"}\n', encoding="utf-8")

    first = load_paths([tmp_path])
    again = load_paths([tmp_path])

    ids = [a.id for a in first.articles]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert "report" in ids  # the first one keeps the plain id
    assert all(i.startswith("report") for i in ids)
    assert ids == [a.id for a in again.articles]  # derived from the path, so stable across runs
    assert {a.text for a in first.articles} == {"Report from x\nBody x.", "Report from y\nBody y.", "From JSONL."}


def test_duplicate_ids_within_one_file_keep_the_first(tmp_path: Path) -> None:
    path = tmp_path / "dups.jsonl"
    path.write_text('{"text": "First.", "id": "same"}\n{"text": "Second.", "id": "same"}\n', encoding="utf-8")

    result = load_paths([path])

    assert [(a.id, a.text) for a in result.articles] == [("same", "First.")]
    assert len(result.problems) == 1 and "duplicate" in result.problems[0].message


# --- dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-06-15", "2022-06-15"),
        ("2022/06/15", "2022-06-15"),
        ("2022.6.5", "2022-06-05"),
        ("2024-02-26T08:30:00Z", "2024-02-26"),
        ("2024-02-26 08:30:00+01:00", "2024-02-26"),
        ("  2024-02-26  ", "2024-02-26"),
        (0, "1970-01-01"),
        (1708905600, "2024-02-26"),
        (1708905600.5, "2024-02-26"),
        ("2022-13-01", ""),
        ("2023-02-30", ""),
        ("June 15, 2022", ""),
        ("yesterday", ""),
        ("", ""),
        (None, ""),
        (10**20, ""),
    ],
)
def test_iso_date(value: object, expected: str) -> None:
    assert iso_date(value) == expected


# --- property ----------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300) | st.lists(
    st.sampled_from(["Title", "\n", "\r\n", " ", "\t", "é", "日本", "\u2028", "\x00", "\ufeff", "Body."]), max_size=30
).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_loaded_txt_text_is_the_decoded_file_content(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "article.txt"
        path.write_bytes(text.encode("utf-8"))
        decoded = path.read_bytes().decode("utf-8-sig")  # a leading BOM is an encoding mark, not text

        problems: list[Problem] = []
        articles = load_file(path, problems)

    for article in articles:
        assert article.text == decoded
        assert article.title == article.title.strip()
        assert article.title == "" or article.title.lstrip("#").strip() in decoded
    loadable = decoded.strip() != "" and "\x00" not in text
    assert len(articles) == (1 if loadable else 0)
    assert (problems == []) == loadable
