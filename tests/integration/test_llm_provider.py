"""The generative path against real HTTP servers on 127.0.0.1: llama.cpp's OpenAI-compatible
server with SmolLM2-135M (contract, not facts: the model is tiny) and a scripted server for faults."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from servers import ScriptedOpenAIServer, llama_cpp_server
from typer.testing import CliRunner

from assistant.answer.citations import marker_numbers
from assistant.cli import app
from assistant.config import Settings
from assistant.engine import Assistant
from assistant.ingest import ingest

pytestmark = pytest.mark.integration
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
QUESTION = "How much has Microsoft invested in OpenAI?"
SECRET = "sk-test-DO-NOT-LEAK-4242"


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("llm") / "index"
    ingest([SEEDS], Settings(index=index))
    return index


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    with llama_cpp_server(tmp_path_factory.mktemp("llama")) as url:
        yield url


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=input)


def test_llama_server_streams_and_cites_only_shown_passages(seed_index: Path, llama_url: str) -> None:
    # min_relevance 0: the question always reaches the model, so this cannot pass by abstaining.
    settings = Settings(index=seed_index, base_url=llama_url, model="smollm2", timeout=120, min_relevance=0)
    pieces: list[str] = []
    answer = Assistant(settings).ask(QUESTION, on_token=pieces.append)
    assert answer.engine.startswith("llm") or answer.engine == "extractive-fallback"
    assert not answer.abstained, answer.text
    assert len(pieces) > 1, "the answer should arrive in several streamed pieces"
    streamed = "".join(pieces)
    assert streamed.strip()
    shown = len(answer.passages)
    assert shown > 0
    assert all(1 <= n <= shown for n in marker_numbers(streamed)), "the stream never shows a marker naming no passage"
    assert answer.citations, "an answer must carry citations (marked or attached)"
    for citation in answer.citations:
        assert 1 <= citation.n <= shown
        article = (SEEDS / f"{citation.passage.article_id}.txt").read_text(encoding="utf-8")
        assert article[citation.start : citation.end] == citation.quote


def test_cli_ask_against_llama_server_prints_valid_sources(seed_index: Path, llama_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_MIN_RELEVANCE", "0")  # always reach the model: no passing by abstaining
    result = run("ask", "--index", str(seed_index), "--base-url", llama_url, "--model", "smollm2", "--timeout", "120", QUESTION)
    assert result.exit_code == 0, result.output
    streamed = run("ask", "--json", "--index", str(seed_index), "--base-url", llama_url, "--model", "smollm2", "--timeout", "120", QUESTION)
    data = json.loads(streamed.stdout)
    assert data["engine"] == "llm"
    numbers = {c["n"] for c in data["citations"]}
    assert numbers <= set(range(1, len(data["passages"]) + 1))
    assert not data["abstained"] and numbers, data["answer"]
    assert "Sources" in result.output
    for n in numbers:
        assert f"[{n}]" in result.output


def test_chat_with_llama_server_keeps_conversation(seed_index: Path, llama_url: str) -> None:
    transcript = "Which startup did Microsoft partner with?\nHow much was it valued at?\n/sources\n/quit\n"
    result = run("chat", "--index", str(seed_index), "--base-url", llama_url, "--model", "smollm2", "--timeout", "120", input=transcript)
    assert result.exit_code == 0, result.output
    assert "Retrieved passages" in result.output
    assert "Retrieved for:" in result.output


def test_429_twice_then_success(seed_index: Path) -> None:
    with ScriptedOpenAIServer([429, 429, "Microsoft has invested roughly $13 billion in OpenAI [1]."]) as server:
        result = run("ask", "--json", "--index", str(seed_index), "--base-url", server.url, "--model", "m", "--timeout", "20", QUESTION)
        assert result.exit_code == 0, result.output
        assert len(server.requests) == 3
    data = json.loads(result.stdout)
    assert "$13 billion" in data["answer"]
    assert [c["n"] for c in data["citations"]] == [1]


def test_500_forever_fails_in_one_line_within_timeout(seed_index: Path) -> None:
    with ScriptedOpenAIServer([500]) as server:
        result = run("ask", "--index", str(seed_index), "--base-url", server.url, "--model", "m", "--timeout", "4", QUESTION)
        finished = time.monotonic()
    assert result.exit_code != 0
    assert "HTTP 500" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert len(server.requests) >= 2, "5xx must be retried"
    # Measured from the first model request (loading the index is not the provider's time).
    assert finished - server.times[0] < 4 + 1, "retries must stay within the configured timeout"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (["garbage"], "malformed"),
        ([401], "rejected the API key"),
        ([404], "not found"),
    ],
)
def test_provider_faults_are_one_line_and_never_leak_the_key(seed_index: Path, script: list, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with ScriptedOpenAIServer(script) as server:
        result = run("ask", "--index", str(seed_index), "--base-url", server.url, "--model", "m", "--timeout", "5", QUESTION)
        sent_key = any(SECRET in value for _, headers, _ in server.requests for name, value in headers.items() if name.lower() == "authorization")
    assert sent_key, "the key must reach the server"
    assert result.exit_code != 0
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert SECRET not in result.output and SECRET not in result.stderr
    for stored in seed_index.rglob("*"):  # Chroma's files, the BM25 sidecar, the lock
        if stored.is_file():
            assert SECRET.encode() not in stored.read_bytes(), stored


def test_connection_refused_is_one_line(seed_index: Path) -> None:
    from servers import free_port

    result = run("ask", "--index", str(seed_index), "--base-url", f"http://127.0.0.1:{free_port()}/v1", "--model", "m", "--timeout", "3", QUESTION)
    assert result.exit_code != 0
    assert "cannot connect" in result.stderr


def test_chat_keeps_running_after_a_provider_error(seed_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_MAX_RETRIES", "1")  # first question: 500, retry, 500 → error; second: answered
    with ScriptedOpenAIServer([500, 500, "Mistral AI is the startup [1]."]) as server:
        transcript = f"{QUESTION}\nWhich startup did Microsoft partner with?\n/quit\n"
        result = run("chat", "--index", str(seed_index), "--base-url", server.url, "--model", "m", "--timeout", "10", "--no-stream", input=transcript)
    assert result.exit_code == 0, result.output
    assert "HTTP 500" in result.stderr
    assert "Mistral AI is the startup [1]." in result.stdout
    assert "Sources" in result.stdout
