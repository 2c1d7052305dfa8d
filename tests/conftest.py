"""Shared fixtures: an isolated environment for every test, one local embedder per session.

Nothing here touches the network: the index lives in ``tmp_path``, the config file does not
exist, and provider variables that could leak in from the developer's shell are removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

# Variables outside the ASSISTANT_ prefix that would switch the answerer to a remote model,
# or (FORCE_COLOR) put terminal escapes into captured output.
LEAKY_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "FORCE_COLOR")


def _scrub(mp: pytest.MonkeyPatch) -> None:
    for name in LEAKY_VARS:
        mp.delenv(name, raising=False)
    for name in [key for key in os.environ if key.startswith("ASSISTANT_")]:
        mp.delenv(name, raising=False)
    mp.setenv("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session", autouse=True)
def _session_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same isolation for module- and session-scoped fixtures, which run before the per-test one."""
    home = tmp_path_factory.mktemp("session-env")
    with pytest.MonkeyPatch.context() as mp:
        _scrub(mp)
        mp.setenv("ASSISTANT_CONFIG", str(home / "no-such-config.toml"))
        mp.setenv("ASSISTANT_INDEX", str(home / "index"))
        yield


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own index directory and no config file, API key or endpoint."""
    _scrub(monkeypatch)
    monkeypatch.setenv("ASSISTANT_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "no-such-config.toml"))


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real local MiniLM (int8 ONNX), loaded once for the whole session."""
    from assistant.embeddings import LocalMiniLM

    model = LocalMiniLM()
    model.embed_query("warm up")  # loads the ONNX session and the tokenizer now, once
    return model


@pytest.fixture(scope="session")
def chunked(embedder):  # type: ignore[no-untyped-def]
    """path → (the article's text, its chunks as Passages, the way the index would hand them over)."""
    from assistant.articles import load_file
    from assistant.chunking import chunk_article
    from assistant.types import Passage

    def passages_from(path: Path) -> tuple[str, list[Passage]]:
        [article] = load_file(path, [])
        chunks = chunk_article(article.id, article.content_hash, article.text, embedder.token_spans, 200, 1)
        return article.text, [
            Passage(c.id, article.id, article.title, article.source, "", "", c.start, c.end, c.text, score=1.0 / (i + 1)) for i, c in enumerate(chunks)
        ]

    return passages_from


@pytest.fixture
def seed_dir() -> Path:
    """The articles the project ships with."""
    assert SEEDS.is_dir(), SEEDS
    return SEEDS
