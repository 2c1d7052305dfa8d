"""Odd input never corrupts the index: each case gets a clear message and exit code, good input in
the same run is still ingested, and the index checks clean afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import Settings
from assistant.embeddings import LocalMiniLM
from assistant.maintenance import check, status
from assistant.store.chroma import documents
from assistant.store.index import Index

pytestmark = pytest.mark.integration
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def cli(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


@pytest.fixture()
def seeded(tmp_path: Path) -> Path:
    index = tmp_path / "index"
    assert cli("ingest", "--index", str(index), str(SEEDS)).exit_code == 0
    return index


def chunk_texts(index: Path) -> list[str]:
    return [text for _, text, _ in documents(Index(Settings(index=index), LocalMiniLM()).collection)]


def test_a_folder_of_bad_files_beside_a_good_one(seeded: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("Harbour council vote\nThe council approved the harbour plan on Tuesday by nine votes to two.\n", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "blank.md").write_text("  \n\t\n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 100)
    (folder / "latin1.txt").write_bytes("Caf\xe9 owners protest\nThe caf\xe9 owners of the old town protested on Monday.\n".encode("latin-1"))
    (folder / "huge.txt").open("wb").truncate(50_000_000)  # a 50 MB "article" (sparse: costs no disk)
    (folder / "lines.jsonl").write_text('{"id": "ok-1", "text": "Rail strike ends after a week of talks between the union and operators."}\n{"title": "no text"}\nnot json\n', encoding="utf-8")
    (folder / "page.html").write_text(
        "<html><head><title>Museum reopens</title><style>body{color:red}</style><script>var secretTracker = 1;</script></head>"
        "<body><h1>Museum reopens</h1><p>The city museum reopened on Sunday after a two-year renovation.</p></body></html>",
        encoding="utf-8",
    )
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    before = status(Index(Settings(index=seeded), LocalMiniLM()))

    result = cli("ingest", "--json", "--index", str(seeded), str(folder))

    assert result.exit_code == 2, "something given was skipped"
    assert "Traceback" not in result.output
    summary = json.loads(result.stdout)
    assert summary["added"] == 4  # good.txt, latin1.txt, lines.jsonl's good line, page.html
    skipped = " ".join(summary["skipped"])
    for name, reason in (("empty.txt", "empty"), ("blank.md", "empty"), ("binary.txt", "binary"), ("huge.txt", "MB"), ("lines.jsonl:2", "text"), ("lines.jsonl:3", "malformed")):
        assert name in skipped and reason in skipped, (name, skipped)
    warnings = " ".join(summary["warnings"])
    assert "latin1.txt" in warnings and "UTF-8" in warnings
    assert "loop" in warnings
    texts = " ".join(chunk_texts(seeded))
    assert "city museum reopened" in texts and "secretTracker" not in texts and "color:red" not in texts
    after = Index(Settings(index=seeded), LocalMiniLM())
    assert status(after).articles == before.articles + 4
    assert check(after) == []


def test_unreadable_file_is_skipped_and_reported(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "perm"
    folder.mkdir()
    (folder / "locked.txt").write_text("Locked\nYou cannot read this.\n", encoding="utf-8")
    (folder / "open.txt").write_text("Open article\nThe bridge reopened to traffic on Friday morning.\n", encoding="utf-8")
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:  # root reads anything, so refuse like the OS would for a user
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = cli("ingest", "--json", "--index", str(seeded), str(folder))
    assert result.exit_code == 2
    summary = json.loads(result.stdout)
    assert summary["added"] == 1
    assert any("locked.txt" in s and "Permission denied" in s for s in summary["skipped"])


@pytest.mark.parametrize(("question", "expected"), [("x" * 100_000, "characters long"), ("", "empty"), ("   \n ", "empty")])
def test_unusable_questions_are_one_line_errors(seeded: Path, question: str, expected: str) -> None:
    result = cli("ask", "--index", str(seeded), question)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_nothing_usable_leaves_the_index_as_it_was(seeded: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_bytes(b"\x00" * 10)
    before = status(Index(Settings(index=seeded), LocalMiniLM()))
    result = cli("ingest", "--index", str(seeded), str(junk))
    assert result.exit_code == 2
    assert "nothing to ingest" in result.stderr
    after = Index(Settings(index=seeded), LocalMiniLM())
    assert (status(after).articles, status(after).chunks) == (before.articles, before.chunks)
    assert check(after) == []
