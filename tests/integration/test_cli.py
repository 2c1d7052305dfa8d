"""The `assistant` command through typer's CliRunner: real Chroma on disk, the real local embedder."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import assistant.embeddings
from assistant.answer import CANNOT_ANSWER
from assistant.cli import app

pytestmark = pytest.mark.integration

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_COUNT = len(list(SEEDS.glob("*.txt")))
MICROSOFT_QUESTION = "How much has Microsoft invested in OpenAI?"
HEAVY_MODULES = {"chromadb", "onnxruntime", "langchain_chroma", "numpy", "bm25s"}

# click < 8.2 mixes stderr into stdout unless told not to; newer click (and typer's own runner) keep both.
_RUNNER_KWARGS = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters else {}


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner(**_RUNNER_KWARGS).invoke(app, [str(a) for a in args])


def assert_one_line_error(result, exit_code: int | None = None) -> str:  # type: ignore[no-untyped-def]
    """A failure is a non-zero exit, exactly one line on stderr, and never a traceback."""
    assert result.exit_code != 0, result.output
    if exit_code is not None:
        assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    stderr = result.stderr.strip()
    assert stderr.count("\n") == 0, stderr
    assert stderr.startswith("error:"), stderr
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return stderr


@pytest.fixture(scope="module", autouse=True)
def one_model(embedder) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Every command builds its embedder through make_embedder: hand it the session's loaded model."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(assistant.embeddings, "LocalMiniLM", lambda *args, **kwargs: embedder)
        yield


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("cli") / "index"
    result = run("ingest", "--index", index, SEEDS)
    assert result.exit_code == 0, result.output
    assert f"{SEED_COUNT} added, 0 updated, 0 unchanged, 0 removed" in result.stdout
    return index


def file_text(name: str) -> str:
    return (SEEDS / name).read_bytes().decode("utf-8-sig")


# --- help and start-up -------------------------------------------------------------


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("ingest", "ask", "status"):
        assert command in result.stdout


def test_no_arguments_shows_help() -> None:
    result = run()
    assert "ingest" in result.output and "ask" in result.output
    assert "Traceback" not in result.output


def test_importing_the_cli_loads_no_heavy_modules() -> None:
    """The non-flaky form of "--help is fast": nothing heavy is imported before a command runs."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import assistant.cli"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines() if line.startswith("import time:")}
    assert "assistant.cli" in imported and "typer" in imported  # the parse works
    heavy = sorted(name for name in imported if name.split(".")[0] in HEAVY_MODULES)
    assert heavy == []


# --- ingest ------------------------------------------------------------------------


def test_reingest_json_embeds_nothing(index_dir: Path) -> None:
    result = run("ingest", "--json", "--index", index_dir, SEEDS)

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"added", "updated", "unchanged", "removed", "chunks_embedded", "seconds", "skipped", "warnings"}
    assert data["chunks_embedded"] == 0
    assert (data["added"], data["updated"], data["unchanged"], data["removed"]) == (0, 0, SEED_COUNT, 0)
    assert data["skipped"] == [] and data["warnings"] == []
    assert result.stderr.strip() == ""


def test_ingest_uses_assistant_index_env(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Acme title\nAcme Corp. bought Widget Co for $5 million on Monday.\n", encoding="utf-8")
    result = run("ingest", "--json", tmp_path / "a.txt")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 1
    assert (tmp_path / "index" / "chroma").is_dir()  # ASSISTANT_INDEX from the autouse fixture


def test_missing_path_is_one_line_error(tmp_path: Path) -> None:
    result = run("ingest", "--index", tmp_path / "index", tmp_path / "no-such-folder")
    message = assert_one_line_error(result, exit_code=2)
    assert "no-such-folder" in message
    assert not (tmp_path / "index").exists()


def test_malformed_json_line_skipped_good_lines_ingested(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        '{"id": "one", "title": "Acme buys Widget", "text": "Acme Corp. agreed to buy Widget Co for $5 million."}\n'
        '{"id": "two", "text": "unterminated\n'
        '{"id": "three", "title": "Rain in Lima", "text": "It rained in Lima for the first time in a decade."}\n',
        encoding="utf-8",
    )
    index = tmp_path / "index"

    result = run("ingest", "--index", index, feed)

    assert result.exit_code == 2, result.output
    stderr_lines = result.stderr.strip().splitlines()
    assert len(stderr_lines) == 1 and stderr_lines[0].startswith("warning:")
    assert f"{feed}:2" in stderr_lines[0] and "malformed JSON" in stderr_lines[0]
    assert "Traceback" not in result.output
    assert "2 added" in result.stdout

    status = run("status", "--json", "--index", index)
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["articles"] == 2


def test_binary_file_given_directly_exits_2_with_json_report(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text("Good title\nA perfectly good article about Mistral AI in Paris.\n", encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"\x00\xff" * 64)

    result = run("ingest", "--json", "--index", tmp_path / "index", folder)

    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["added"] == 1
    assert len(data["skipped"]) == 1 and "bad.txt" in data["skipped"][0]


# --- ask ---------------------------------------------------------------------------


def test_ask_json(index_dir: Path) -> None:
    result = run("ask", "--json", "--index", index_dir, MICROSOFT_QUESTION)

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"question", "answer", "abstained", "citations"} <= set(data)
    assert data["question"] == MICROSOFT_QUESTION
    assert data["abstained"] is False
    assert "$13 billion" in data["answer"]
    assert data["citations"]
    for citation in data["citations"]:
        assert {"article_id", "chunk_id", "start", "end", "quote", "score"} <= set(citation)
        assert citation["chunk_id"].startswith(citation["article_id"] + ":")
        assert file_text(citation["article_id"] + ".txt")[citation["start"] : citation["end"]] == citation["quote"]
        assert f"[{citation['n']}]" in data["answer"]


def test_ask_plain_prints_answer_and_sources(index_dir: Path) -> None:
    result = run("ask", "--index", index_dir, MICROSOFT_QUESTION)

    assert result.exit_code == 0, result.output
    assert "$13 billion" in result.stdout
    assert "Sources" in result.stdout
    assert "[1]" in result.stdout
    sources = result.stdout.split("Sources", 1)[1]
    assert "chars " in sources and ".txt" in sources


def test_ask_unanswerable_abstains(index_dir: Path) -> None:
    result = run("ask", "--json", "--index", index_dir, "What is the capital of Peru?")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["abstained"] is True
    assert data["answer"] == CANNOT_ANSWER
    assert data["citations"] == []


@pytest.mark.parametrize("question", ["", "   "])
def test_ask_empty_question_is_one_line_error(index_dir: Path, question: str) -> None:
    result = run("ask", "--index", index_dir, question)
    assert "empty" in assert_one_line_error(result, exit_code=2)


def test_ask_bad_date_is_one_line_error(index_dir: Path) -> None:
    result = run("ask", "--index", index_dir, "--since", "last week", MICROSOFT_QUESTION)
    assert "--since" in assert_one_line_error(result, exit_code=2)


def test_ask_without_index_is_one_line_error(tmp_path: Path) -> None:
    result = run("ask", "--index", tmp_path / "missing", MICROSOFT_QUESTION)
    assert "assistant ingest" in assert_one_line_error(result, exit_code=3)


def test_ask_on_index_with_no_articles_is_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    story = folder / "story.txt"
    story.write_text("Story\nThe only article, soon deleted.\n", encoding="utf-8")
    index = tmp_path / "index"
    assert run("ingest", "--index", index, folder).exit_code == 0
    story.unlink()
    pruned = run("ingest", "--json", "--prune", "--index", index, folder)
    assert pruned.exit_code == 0, pruned.output
    assert json.loads(pruned.stdout)["removed"] == 1

    result = run("ask", "--index", index, MICROSOFT_QUESTION)

    assert "empty" in assert_one_line_error(result, exit_code=3)


# --- status ------------------------------------------------------------------------


def test_status_json(index_dir: Path) -> None:
    result = run("status", "--json", "--index", index_dir)

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"articles", "chunks", "embedding_model", "index"} <= set(data)
    assert data["articles"] == SEED_COUNT
    assert data["chunks"] > SEED_COUNT
    assert data["embedding_model"] == "all-MiniLM-L6-v2-onnx-int8"
    assert data["index"] == str(index_dir)
    assert data["bm25_fresh"] is True


def test_status_plain(index_dir: Path) -> None:
    result = run("status", "--index", index_dir)
    assert result.exit_code == 0, result.output
    assert f"articles        {SEED_COUNT}" in result.stdout
    assert "up to date" in result.stdout


def test_status_without_index_is_one_line_error(tmp_path: Path) -> None:
    result = run("status", "--index", tmp_path / "missing")
    assert_one_line_error(result, exit_code=3)


def test_ask_says_which_time_frame_it_used(index_dir: Path) -> None:
    question = "What did Microsoft announce this week?"
    plain = run("ask", "--index", index_dir, "--as-of", "2024-02-28", question)
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.splitlines()[0].startswith("Articles from 26\u201328 February 2024")  # Monday to the as-of Wednesday
    data = json.loads(run("ask", "--json", "--index", index_dir, "--as-of", "2024-02-28", question).stdout)
    assert data["time_frame"] == {"start": "2024-02-26", "end": "2024-02-28", "source": "question", "firm": True}
    explicit = json.loads(run("ask", "--json", "--index", index_dir, "--as-of", "2024-02-28", MICROSOFT_QUESTION).stdout)
    assert explicit["time_frame"]["source"] == "as_of"
    flags = json.loads(run("ask", "--json", "--index", index_dir, "--since", "2024-01-01", MICROSOFT_QUESTION).stdout)
    assert flags["time_frame"]["source"] == "flags" and flags["time_frame"]["start"] == "2024-01-01"
    assert explicit["time_frame"]["firm"] is True
    default = json.loads(run("ask", "--json", "--index", index_dir, MICROSOFT_QUESTION).stdout)
    today = date.today()
    assert default["time_frame"] == {"start": (today - timedelta(days=7)).isoformat(), "end": today.isoformat(), "source": "as_of", "firm": False}
    softly = run("ask", "--index", index_dir, MICROSOFT_QUESTION)
    assert softly.stdout.splitlines()[0].startswith("Articles from any date, ") and softly.stdout.splitlines()[0].endswith(" first")
