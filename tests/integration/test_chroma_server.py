"""Client/server mode against a real `chroma run` on 127.0.0.1: ingest, ask, chat, status, doctor,
and readers querying while a writer ingests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import chroma_server, free_port
from test_crash_safety import write_corpus
from typer.testing import CliRunner

from assistant.cli import app

pytestmark = pytest.mark.integration
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as (url, _):
        yield url


def cli(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=input)


def test_ingest_ask_chat_status_doctor_over_http(chroma_url: str, tmp_path: Path) -> None:
    local = str(tmp_path / "client")
    first = cli("ingest", "--json", "--chroma-url", chroma_url, "--index", local, str(SEEDS))
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["added"] == len(list(SEEDS.glob("*.txt")))
    again = cli("ingest", "--json", "--chroma-url", chroma_url, "--index", local, str(SEEDS))
    assert json.loads(again.stdout)["chunks_embedded"] == 0

    # A second client with its own (empty) local directory sees the same manifest on the server.
    other = str(tmp_path / "other-client")
    shared = cli("ingest", "--json", "--chroma-url", chroma_url, "--index", other, str(SEEDS))
    assert json.loads(shared.stdout)["chunks_embedded"] == 0

    answer = cli("ask", "--json", "--chroma-url", chroma_url, "--index", other, "How much has Microsoft invested in OpenAI?")
    assert answer.exit_code == 0, answer.output
    assert "$13 billion" in json.loads(answer.stdout)["answer"]

    status = json.loads(cli("status", "--json", "--chroma-url", chroma_url, "--index", local).stdout)
    assert status["chroma"] == chroma_url and status["articles"] == len(list(SEEDS.glob("*.txt")))
    assert cli("doctor", "--chroma-url", chroma_url, "--index", local).exit_code == 0

    chat = cli("chat", "--chroma-url", chroma_url, "--index", local, input="Which startup did Microsoft partner with?\nHow much was it valued at?\n/sources\n/quit\n")
    assert chat.exit_code == 0, chat.output
    assert "The financing valued the firm at about $2 billion." in chat.stdout


def test_unreachable_server_is_one_line_error(tmp_path: Path) -> None:
    result = cli("ask", "--chroma-url", f"http://127.0.0.1:{free_port()}", "--index", str(tmp_path / "i"), "Anything?")
    assert result.exit_code != 0
    assert "cannot reach the Chroma server" in result.stderr
    assert "Traceback" not in result.output


def test_several_readers_while_one_ingests(chroma_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_CHROMA_URL": chroma_url, "ASSISTANT_INDEX": str(tmp_path / "writer"), "ASSISTANT_COLLECTION": "busy", "ASSISTANT_COMMIT_CHUNKS": "32"}
    subprocess.run([sys.executable, "-m", "assistant", "ingest", str(SEEDS)], env=env, check=True, capture_output=True, timeout=300)
    write_corpus(tmp_path / "more", 300, seed=3)  # enough work that the writer outlives the readers
    writer = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", str(tmp_path / "more")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        reader_env = {**env, "ASSISTANT_INDEX": str(tmp_path / "reader")}
        readers = [
            subprocess.Popen([sys.executable, "-m", "assistant", "ask", "--json", "How much has Microsoft invested in OpenAI?"], env=reader_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        outputs = [reader.communicate(timeout=300) for reader in readers]
        assert writer.poll() is None, "readers should have run while the writer was still ingesting"
        for reader, (stdout, stderr) in zip(readers, outputs):
            assert reader.returncode == 0, stderr
            assert "$13 billion" in json.loads(stdout)["answer"]
    finally:
        writer.wait(timeout=900)
    assert writer.returncode == 0, writer.stderr.read().decode() if writer.stderr else ""


def test_doctor_fix_stops_without_changes_when_the_server_stops_mid_repair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """"Could not ask" is not "cannot be read": a server that stops during a repair drops nothing."""
    from chromadb.api.models.Collection import Collection

    import assistant.maintenance

    data, port, local = tmp_path / "server", free_port(), str(tmp_path / "client")
    with chroma_server(data, port) as (url, _):
        assert cli("ingest", "--chroma-url", url, "--index", local, str(SEEDS)).exit_code == 0
        # Something for the repair to do: a chunk of no indexed article (as an interrupted ingest leaves).
        import chromadb

        host, port_text = url.removeprefix("http://").split(":")
        stray = chromadb.HttpClient(host=host, port=int(port_text)).get_collection("articles")
        stray.add(ids=["gone:000000000000:0-5"], embeddings=[[0.1] * 384], documents=["stray"], metadatas=[{"article_id": "gone"}])
    original_get, original_repair = Collection.get, assistant.maintenance.repair
    state = {"repairing": False, "stopped": False}

    def repair(index):  # type: ignore[no-untyped-def]
        state["repairing"] = True
        original_repair(index)

    with chroma_server(data, port) as (url, process):
        before = json.loads(cli("status", "--json", "--chroma-url", url, "--index", local).stdout)

        def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            if state["repairing"] and not state["stopped"] and "embeddings" in (kwargs.get("include") or []):
                process.terminate()  # the real server goes away while the repair reads vectors back
                process.wait(15)
                state["stopped"] = True
            return original_get(self, *args, **kwargs)

        monkeypatch.setattr(Collection, "get", get)
        monkeypatch.setattr(assistant.maintenance, "repair", repair)
        result = cli("doctor", "--fix", "--chroma-url", url, "--index", local)
        monkeypatch.undo()
    assert state["stopped"], "the server must have been stopped during the repair"
    assert result.exit_code == 10, result.output
    assert "did not answer" in result.stderr and "nothing was changed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output

    with chroma_server(data, port) as (url, _):
        after = json.loads(cli("status", "--json", "--chroma-url", url, "--index", local).stdout)
        assert (after["articles"], after["chunks"]) == (before["articles"], before["chunks"]) and after["articles"] == len(list(SEEDS.glob("*.txt")))
        fixed = cli("doctor", "--fix", "--chroma-url", url, "--index", local)
        assert fixed.exit_code == 0, fixed.output
        assert json.loads(cli("status", "--json", "--chroma-url", url, "--index", local).stdout)["chunks"] == before["chunks"] - 1, "only the stray chunk went"


def test_a_client_asks_the_server_for_words_and_copies_nothing(chroma_url: str, tmp_path: Path) -> None:
    from datetime import date

    from assistant.config import Settings
    from assistant.embeddings import LocalMiniLM
    from assistant.store.index import Index
    from assistant.tokens import tokenize
    from assistant.types import Filters

    writer, reader = tmp_path / "writer", tmp_path / "reader"
    assert cli("ingest", "--chroma-url", chroma_url, "--index", str(writer), str(SEEDS)).exit_code == 0
    answer = cli("ask", "--json", "--chroma-url", chroma_url, "--index", str(reader), "When was Mistral founded?")
    assert answer.exit_code == 0, answer.output
    assert not (reader / "sidecar").exists() and not (writer / "sidecar").exists(), "no client keeps a copy of the collection"

    index = Index(Settings(index=reader, chroma_url=chroma_url), LocalMiniLM())
    lexical = index.lexical()
    assert lexical is not None
    question = "Which hearings did the European Parliament schedule?"
    hits = lexical.search(question, 10, Filters())
    texts = index.chunks().passages([chunk_id for chunk_id, _ in hits])
    assert hits and all(set(tokenize(question)) & set(tokenize(texts[c][0])) for c, _ in hits), "each hit contains a word of the question"
    assert "parliament" in texts[hits[0][0]][0].lower(), "the rarest word ranks first"
    frequencies, documents = lexical.document_frequencies()
    assert documents == index.chunks().count() and 0 < frequencies["parliament"] < documents
    assert lexical.search(question, 10, Filters(since=date(2100, 1, 1))) == [], "the filters are the server's"


def test_an_ingest_after_a_finished_one_reads_only_its_articles_from_the_server(chroma_url: str, tmp_path: Path, embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from assistant.config import Settings
    from assistant.ingest import ingest
    from assistant.maintenance import check
    from assistant.store import chroma
    from assistant.store.index import Index
    from assistant.store.manifest import ChromaManifestStore

    settings = Settings(index=tmp_path / "client", chroma_url=chroma_url, collection="incremental")
    ingest([SEEDS], settings, index=Index(settings, embedder, create=True))
    index = Index(settings, embedder)
    assert index.manifest_store.writer_finished()

    loads: list[list[str] | None] = []
    original = ChromaManifestStore.load
    monkeypatch.setattr(ChromaManifestStore, "load", lambda self, ids=None: loads.append(ids) or original(self, ids))
    monkeypatch.setattr(chroma, "all_ids", lambda collection: pytest.fail("the whole collection's ids were read"))
    note = tmp_path / "note.txt"
    note.write_text("Harbour note\nThe depot shipped 14 crates of apples on Monday.\n", encoding="utf-8")
    assert ingest([note], settings, index=Index(settings, embedder, create=True)).added == 1
    changed = tmp_path / "000_14502852d82c6bda.txt"
    changed.write_text((SEEDS / changed.name).read_text(encoding="utf-8") + "\nThe company opened an office in Bordeaux in 2024.\n", encoding="utf-8")
    assert ingest([changed], settings, index=Index(settings, embedder, create=True)).updated == 1
    assert loads == [["note"], [changed.stem]]
    monkeypatch.undo()
    assert check(Index(settings, embedder)) == [], "the digest and chunks a partial writer left agree with the whole index"

    # A writer that died after its first write leaves the flag set: the next one reconciles.
    Index(settings, embedder).manifest_store.mark_writing(True)
    loads.clear()
    monkeypatch.setattr(ChromaManifestStore, "load", lambda self, ids=None: loads.append(ids) or original(self, ids))
    ingest([note], settings, index=Index(settings, embedder, create=True))
    assert loads == [None] and Index(settings, embedder).manifest_store.writer_finished()
