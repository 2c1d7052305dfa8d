"""Queries on an embedded index read the sidecar's snapshot of Chroma: same answers, no chromadb
import, and never a snapshot that misses a write (the stale marker protocol in assistant/index.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Assistant
from assistant.ingest import ingest
from assistant.maintenance import check
from assistant.retrieval import Retriever
from assistant.store.index import Index
from assistant.store.readers import ChromaChunks
from assistant.store.sidecar import Sidecar
from assistant.types import Filters

pytestmark = pytest.mark.integration

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
QUESTIONS = [
    "How much has Microsoft invested in OpenAI?",
    "Who invested in Mistral AI?",
    "What did regulators say about the deal?",
    "Which company makes the Le Chat assistant?",
]
NEW_ARTICLE = "Zebra Fusion title\nZebra Fusion Ltd. opened a tidal power plant in Orkney on Tuesday, its chief engineer said.\n"


@pytest.fixture(scope="module")
def seed_settings(tmp_path_factory: pytest.TempPathFactory, embedder) -> Settings:  # type: ignore[no-untyped-def]
    settings = Settings(index=tmp_path_factory.mktemp("snapshot") / "index", offline=True)
    ingest([SEEDS], settings, index=Index(settings, embedder, create=True))
    return settings


def test_the_snapshot_ranks_exactly_as_chroma_does(seed_settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    index = Index(seed_settings, embedder)
    from_snapshot = Retriever(index, seed_settings)
    assert isinstance(from_snapshot.chunks, Sidecar)
    from_chroma = Retriever(index, seed_settings)
    from_chroma.chunks = ChromaChunks(index.collection)
    for question in QUESTIONS:
        expected = from_chroma.retrieve(question, 6, Filters(since=None))
        got = from_snapshot.retrieve(question, 6, Filters(since=None))
        assert [p.chunk_id for p in got] == [p.chunk_id for p in expected], question
        assert [p.text for p in got] == [p.text for p in expected]
        assert [p.score for p in got] == pytest.approx([p.score for p in expected], abs=1e-5)


def test_ask_on_a_current_snapshot_imports_neither_chromadb_nor_langchain(seed_settings: Settings) -> None:
    script = (
        "import json, sys\n"
        "from assistant.config import Settings\n"
        "from assistant.engine import Assistant\n"
        f"answer = Assistant(Settings(index={str(seed_settings.index)!r}, offline=True)).ask({QUESTIONS[0]!r})\n"
        "heavy = sorted(m for m in ('chromadb', 'langchain_core', 'langchain_chroma') if m in sys.modules)\n"
        "print(json.dumps({'answer': answer.text, 'passages': len(answer.passages), 'heavy': heavy}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "$13 billion" in result["answer"] and result["passages"] > 0
    assert result["heavy"] == []  # ~1 s and ~0.2 s of imports a cold ask does without


def test_the_console_command_prints_everything_and_keeps_exit_codes(seed_settings: Settings) -> None:
    """`ask` on a current snapshot ends with os._exit (assistant.cli._exit): output and exit codes must survive it."""
    from typer.testing import CliRunner

    from assistant.cli import app

    arguments = ["ask", "--offline", "--index", str(seed_settings.index)]
    command = [sys.executable, "-m", "assistant", *arguments]
    answered = subprocess.run([*command, "--show-passages", QUESTIONS[0]], capture_output=True, text=True, timeout=300)
    assert answered.returncode == 0, answered.stderr
    in_process = CliRunner().invoke(app, [*arguments, "--show-passages", QUESTIONS[0]])  # exits normally
    assert "$13 billion" in answered.stdout and answered.stdout == in_process.stdout
    refused = subprocess.run([*command, "   "], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and refused.stderr.startswith("error: the question is empty") and refused.stderr.count("\n") == 1


@pytest.fixture
def crashed_before_refresh(tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> Settings:  # type: ignore[no-untyped-def]
    """An index whose last ingest wrote Chroma and the manifest, then died before rebuilding the sidecar."""
    settings = Settings(index=tmp_path / "index", offline=True)
    ingest([SEEDS], settings, index=Index(settings, embedder, create=True))
    (tmp_path / "zebra.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    with monkeypatch.context() as mp:
        mp.setattr(Index, "finish_write", lambda self: None)  # the process dies before it touches the sidecar
        ingest([tmp_path / "zebra.txt"], settings, index=Index(settings, embedder, create=True))
    assert (settings.index / "sidecar.stale").exists()
    return settings


@pytest.fixture
def writer_holding_the_lock(crashed_before_refresh: Settings) -> Iterator[None]:
    lock = crashed_before_refresh.index / "write.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import time; from filelock import FileLock; lock = FileLock({str(lock)!r}); lock.acquire(); print('held', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


def _finds_zebra(settings: Settings, embedder) -> tuple[bool, object]:  # type: ignore[no-untyped-def]
    assistant = Assistant(settings, index=Index(settings, embedder))
    passages = assistant.retriever.retrieve("Where did Zebra Fusion open a tidal power plant?", 3, Filters())
    return any(p.article_id == "zebra" for p in passages), assistant.retriever.chunks


def test_a_reader_after_a_crash_rebuilds_the_snapshot_first(crashed_before_refresh: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    found, chunks = _finds_zebra(crashed_before_refresh, embedder)
    assert found and isinstance(chunks, Sidecar)
    assert not (crashed_before_refresh.index / "sidecar.stale").exists()
    assert check(Index(crashed_before_refresh, embedder)) == []


def test_a_reader_while_a_writer_holds_the_index_asks_chroma(crashed_before_refresh: Settings, writer_holding_the_lock: None, embedder) -> None:  # type: ignore[no-untyped-def]
    found, chunks = _finds_zebra(crashed_before_refresh, embedder)
    assert found and isinstance(chunks, ChromaChunks)
    assert (crashed_before_refresh.index / "sidecar.stale").exists(), "only a writer's rebuild may clear the marker"
