"""The index: a Chroma collection (embedded or a `chroma run` server) + sidecar + manifest.

Layout of the index directory: ``chroma/`` (embedded store only), ``sidecar/`` and ``write.lock``.
Chroma holds two collections: the chunks and the manifest (``<name>__manifest``). With
``chroma_url`` both live on the server, shared by every client; the directory then keeps this
client's BM25 sidecar (rebuilt when the manifest digest changes) and the writer lock.

Queries on an embedded index read the sidecar's snapshot of the collection (assistant/sidecar.py)
and do not open Chroma at all while it is current. It is current unless ``sidecar.stale`` exists:
every writer creates that file before its first write to Chroma, and only a rebuild made under the
write lock removes it, so a crash between the two leaves readers going to Chroma, never to a
snapshot that misses what was written.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .config import Settings
from .embeddings import Embedder, embedder_name
from .errors import ConfigError, IndexBusyError, IndexCorruptError, IndexMismatchError, StoreUnavailableError
from .manifest import ChromaManifestStore, Entry, Manifest
from .sidecar import Sidecar

# Chroma's default ef_search (100) lost recall on near-duplicate news: raise both ef values.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 200, "max_neighbors": 32}
PAGE = 5000  # ids/documents fetched from Chroma per request
VECTOR_PAGE = 500  # vectors read back per request when checking or rebuilding
DAMAGED = ("the vector index is damaged (a write was interrupted); "
           "run 'assistant doctor --fix', then 'assistant ingest' again")


def day_number(iso: str) -> int:
    """Days since 1970-01-01 for an ISO date, -1 when unknown: sortable, filterable in Chroma."""
    try:
        return (date.fromisoformat(iso) - date(1970, 1, 1)).days
    except (TypeError, ValueError):
        return -1


def _client(settings: Settings) -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"--chroma-url must look like http://HOST:PORT, got {settings.chroma_url!r}")
        try:
            client = chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 8000), ssl=url.scheme == "https", settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises a zoo of transport errors
            raise StoreUnavailableError(f"cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__}); start it with 'chroma run --path DIR --host HOST --port PORT'") from None
        return client
    return chromadb.PersistentClient(path=str(settings.index / "chroma"), settings=chroma_settings)


@dataclass
class IndexStatus:
    articles: int
    chunks: int
    embedding_model: str
    index: str
    chroma: str
    size_bytes: int
    bm25_fresh: bool


class Index:
    """Open (or create) the index for ``settings`` with ``embedder``; refuses a different embedding model.

    Chroma is opened on first use: a reader whose sidecar snapshot is current never needs it.
    """

    def __init__(self, settings: Settings, embedder: Embedder, create: bool = False) -> None:
        self.settings = settings
        self.embedder = embedder
        self.path = settings.index
        if not create and not settings.chroma_url and not (self.path / "chroma").exists():
            from .errors import EmptyIndexError

            raise EmptyIndexError(f"no index at {self.path}; build one with 'assistant ingest PATH' (or point --index at an existing one)")
        self.path.mkdir(parents=True, exist_ok=True)
        self.sidecar = Sidecar(self.path / "sidecar")
        self._client: Any = None
        self._collection: Any = None
        self._store: Any = None
        self._manifest_store: ChromaManifestStore | None = None
        self._manifest: Manifest | None = None  # loaded on first use: readers need only its digest
        self._marked_stale = False
        if create:
            self._open(create=True)
        else:  # the sidecar records the model too: a reader is refused without opening Chroma
            self._check_model(getattr(self.sidecar.read_meta(), "embedding_model", ""))

    def _open(self, create: bool = False) -> None:
        """Connect to Chroma and open the collection (readers) or create it (writers)."""
        self._client = _client(self.settings)
        if create:
            self._finish_rebuild()
            # Writers create the collection through langchain-chroma (cosine, HNSW ef raised, model recorded).
            self._collection = self.store._collection
        else:
            # Readers open it with chromadb alone: langchain_chroma's import chain costs seconds per `ask`.
            try:
                self._collection = self.client.get_collection(self.settings.collection, embedding_function=None)
            except Exception:  # chromadb raises NotFoundError (embedded) or a transport error (server)
                from .errors import EmptyIndexError

                if self._finish_rebuild():  # only a missing collection can mean an interrupted repair
                    self._collection = self.client.get_collection(self.settings.collection, embedding_function=None)
                else:
                    raise EmptyIndexError(f"no collection {self.settings.collection!r} in {self._where()}; build one with 'assistant ingest PATH'") from None
        self._check_model((self._collection.metadata or {}).get("embedding_model", ""))
        self._manifest_store = ChromaManifestStore(self._client, f"{self.settings.collection}__manifest")
        self._migrate_json_manifest()

    @property
    def client(self) -> Any:
        if self._client is None:
            self._open()
        return self._client

    @property
    def manifest_store(self) -> ChromaManifestStore:
        if self._manifest_store is None:
            self._open()
        assert self._manifest_store is not None
        return self._manifest_store

    def _migrate_json_manifest(self) -> None:
        """Indexes made before the manifest moved into Chroma kept it in manifest.json: import it once."""
        legacy = self.path / "manifest.json"
        if not legacy.exists() or self.manifest.articles:
            return
        import json

        try:
            entries = json.loads(legacy.read_text(encoding="utf-8"))["articles"]
            for article_id, entry in entries.items():
                self.manifest.articles[article_id] = Entry(**entry)
                self.manifest.dirty.add(article_id)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexCorruptError(f"cannot read the old manifest {legacy} ({exc}); move it away and re-ingest") from None
        self.save_manifest()
        legacy.rename(legacy.with_suffix(".json.migrated"))

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = self.manifest_store.load()
        return self._manifest

    def is_empty(self) -> bool:
        if self.snapshot_current():
            return not self.sidecar.read_meta().articles  # type: ignore[union-attr]
        return self.manifest_store.count() == 0

    def save_manifest(self) -> None:
        if self.manifest.dirty or self.manifest.forgotten:
            self._mark_stale()
        self.manifest_store.save(self.manifest)

    def _check_model(self, recorded: str) -> None:
        wanted = embedder_name(self.embedder)
        if recorded and recorded != wanted:
            raise IndexMismatchError(
                f"the index at {self.path} was built with {recorded!r}, not {wanted!r}; "
                f"use --embedding-model {recorded} or re-index into a new --index DIR"
            )

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._open()
        return self._collection

    @property
    def store(self) -> Any:
        """The collection as a LangChain vector store (langchain-chroma), created on first use."""
        if self._store is None:
            from langchain_chroma import Chroma

            self._store = Chroma(
                client=self.client,
                collection_name=self.settings.collection,
                embedding_function=self.embedder,  # type: ignore[arg-type]  # has the Embeddings methods (embeddings.Embedder)
                collection_metadata={"embedding_model": embedder_name(self.embedder), "embedding_dim": getattr(self.embedder, "dimension", 0) or 0, "schema": 1},
                collection_configuration={"hnsw": HNSW},  # type: ignore[arg-type,typeddict-item]
                create_collection_if_not_exists=True,
            )
        return self._store

    def _where(self) -> str:
        return self.settings.chroma_url or str(self.path / "chroma")

    def write_lock(self, wait_seconds: float = 10.0) -> Any:
        """An exclusive lock for writers; readers never take it."""
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.path / "write.lock"))
        try:
            lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise IndexBusyError(f"another 'assistant ingest' is writing to {self.path}; wait for it to finish and retry") from None
        return lock

    # --- chunk-level access -------------------------------------------------

    def all_ids(self) -> list[str]:
        ids: list[str] = []
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=PAGE, offset=offset)["ids"]
            ids.extend(page)
            if len(page) < PAGE:
                return ids
            offset += PAGE

    def iter_documents(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        offset = 0
        while True:
            page = self.collection.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
            yield from zip(page["ids"], page["documents"], page["metadatas"])
            if len(page["ids"]) < PAGE:
                return
            offset += PAGE

    def upsert(self, ids: list[str], embeddings: Any, documents: list[str], metadatas: list[dict[str, Any]]) -> None:
        self._mark_stale()
        with _writing():
            for first in range(0, len(ids), PAGE):
                window = slice(first, first + PAGE)
                self.collection.upsert(ids=ids[window], embeddings=embeddings[window], documents=documents[window], metadatas=metadatas[window])

    def delete(self, ids: list[str]) -> None:
        if ids:
            self._mark_stale()
        with _writing():
            for first in range(0, len(ids), PAGE):
                self.collection.delete(ids=ids[first : first + PAGE])

    def delete_articles(self, article_ids: list[str]) -> None:
        self._mark_stale()
        with _writing():
            for first in range(0, len(article_ids), 500):
                self.collection.delete(where={"article_id": {"$in": article_ids[first : first + 500]}})

    def unreadable_chunks(self) -> list[str]:
        """Chunks whose vectors Chroma cannot read back.

        A process killed while chromadb persists its HNSW files leaves labels the files no longer hold
        (reproduced with SIGKILL during upserts): those chunks vanish from dense search, and the next
        write to the collection fails. Reading every vector back is the only check that finds it.
        """
        ids = self.all_ids()
        readable = {chunk_id for got in self._vector_pages(ids) for chunk_id in got["ids"]}
        return [chunk_id for chunk_id in ids if chunk_id not in readable]

    def rebuild_vectors(self, skip: set[str]) -> None:
        """Copy every readable chunk into a fresh collection and swap it in (doctor --fix).

        Chunks in ``skip`` (unreadable vectors) are left out; their articles then count as
        incomplete, so reconcile() forgets them and the next ingest embeds them again.
        The old collection is deleted only after the copy is complete; a crash before the
        final rename is finished by _finish_rebuild() when the index is next opened.
        """
        self._mark_stale()
        temp = f"{self.settings.collection}__rebuild"
        self._drop(temp)  # a copy an earlier, interrupted repair left half done
        target = self.client.create_collection(temp, metadata=self.collection.metadata, configuration={"hnsw": HNSW}, embedding_function=None)
        ids = [chunk_id for chunk_id in self.all_ids() if chunk_id not in skip]
        for first in range(0, len(ids), VECTOR_PAGE):
            page = self.collection.get(ids=ids[first : first + VECTOR_PAGE], include=["embeddings", "documents", "metadatas"])
            target.add(ids=page["ids"], embeddings=page["embeddings"], documents=page["documents"], metadatas=page["metadatas"])
        self.client.delete_collection(self.settings.collection)
        target.modify(name=self.settings.collection)
        self._collection = self.client.get_collection(self.settings.collection, embedding_function=None)
        self._store = None

    def _finish_rebuild(self) -> bool:
        """A repair that died between deleting the old collection and renaming the copy: rename it now.

        Returns whether it did."""
        try:
            names = {getattr(c, "name", c) for c in self.client.list_collections()}
        except Exception:  # server unreachable: the caller reports that
            return False
        temp = f"{self.settings.collection}__rebuild"
        if temp in names and self.settings.collection not in names:
            self.client.get_collection(temp, embedding_function=None).modify(name=self.settings.collection)
            return True
        return False

    def _drop(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception:  # not there: nothing to drop
            pass

    # --- the sidecar -------------------------------------------------------------

    @property
    def _stale_marker(self) -> Path:
        return self.path / "sidecar.stale"

    def _mark_stale(self) -> None:
        """Called before any write to Chroma: the snapshot may no longer match it (see the module doc)."""
        if not self._marked_stale:
            self._stale_marker.touch()
            self._marked_stale = True

    def snapshot_current(self) -> bool:
        """Queries can read the sidecar's snapshot instead of Chroma (embedded index, no write since it was built)."""
        return not (self.settings.chroma_url or self._marked_stale or self._stale_marker.exists() or not self.sidecar.has_snapshot())

    def sidecar_fresh(self) -> bool:
        """The sidecar was built from the indexed content (the digest recorded with the manifest, or computed),
        and an embedded index's sidecar holds the snapshot written after the last write."""
        if not self.settings.chroma_url and (self._stale_marker.exists() or not self.sidecar.has_snapshot()):
            return False
        return self.sidecar.digest() == (self.manifest_store.recorded_digest() or self.manifest.digest())

    def rebuild_sidecar(self) -> None:
        """Rebuild the sidecar from Chroma; with the snapshot (embedded index), vectors carried over by id.

        Callers that hold the write lock (ingest, doctor --fix) clear the stale marker; see chunks().
        """
        import numpy as np

        chunks = list(self.iter_documents())
        vectors = None
        if not self.settings.chroma_url:
            old = self.sidecar.vectors([chunk_id for chunk_id, _, _ in chunks]) if self.sidecar.has_snapshot() else {}
            new = self._read_vectors([chunk_id for chunk_id, _, _ in chunks if chunk_id not in old])
            dimension = len(next(iter(old.values()), next(iter(new.values()), []))) or getattr(self.embedder, "dimension", 0)
            vectors = np.zeros((len(chunks), dimension), dtype=np.float32)  # an unreadable vector stays 0: never near
            for row, (chunk_id, _, _) in enumerate(chunks):
                vector = old.get(chunk_id, new.get(chunk_id))
                if vector is not None:
                    vectors[row] = vector
        digest = self.manifest.digest()
        self.sidecar.build(chunks, digest, embedder_name(self.embedder), len(self.manifest.articles), vectors)
        shutil.rmtree(self.path / "bm25", ignore_errors=True)  # where indexes before the snapshot kept BM25

    def refresh_sidecar(self, writer: bool, force: bool = False) -> None:
        """Rebuild the sidecar if it is not fresh; a ``writer`` (holding the write lock) then clears the stale marker."""
        if force or not self.sidecar_fresh():
            self.rebuild_sidecar()
        if writer:
            self._stale_marker.unlink(missing_ok=True)
            self._marked_stale = False

    def _read_vectors(self, ids: list[str]) -> dict[str, Any]:
        """Vectors from Chroma by id; those it cannot read (a damaged segment) are left out."""
        import numpy as np

        found: dict[str, Any] = {}
        for got in self._vector_pages(ids):
            for chunk_id, vector in zip(got["ids"], got["embeddings"]):
                vector = np.asarray(vector, dtype=np.float32)
                found[chunk_id] = vector / max(float(np.linalg.norm(vector)), 1e-12)  # cosine, as the collection
        return found

    def _vector_pages(self, ids: list[str]) -> Iterator[dict[str, Any]]:
        """Chroma's answers for ``ids`` with their vectors, a page at a time; unreadable ones are absent."""
        for first in range(0, len(ids), VECTOR_PAGE):
            yield from self._get_vectors(ids[first : first + VECTOR_PAGE])

    def _get_vectors(self, ids: list[str]) -> Iterator[dict[str, Any]]:
        """Chroma's answers for ``ids`` with their vectors: one request, or one per id if some cannot be read.

        Only chromadb's own error for a vector its HNSW files no longer hold means "cannot be read";
        any other failure (server down, timeout) means "could not ask" and raises StoreUnavailableError,
        so that a repair never drops chunks it merely failed to fetch.
        """
        try:
            got = self.collection.get(ids=ids, include=["embeddings"])
        except Exception as exc:
            if not unreadable_vector_error(exc):
                raise StoreUnavailableError(f"{self._where()} did not answer while reading vectors ({type(exc).__name__}); nothing was changed, retry when it is up") from None
            if len(ids) > 1:
                for chunk_id in ids:
                    yield from self._get_vectors([chunk_id])
            return
        yield got

    def chunks(self) -> Any:
        """What queries read chunks from: the sidecar's snapshot when current, else Chroma.

        A reader finding the sidecar out of date rebuilds it (a shared server's content changed, or a
        writer crashed). On an embedded index it needs the write lock to do so, and skips the rebuild
        while a writer holds it, answering from Chroma meanwhile.
        """
        if self.snapshot_current():
            return self.sidecar
        if self.settings.chroma_url:
            if self.settings.hybrid and not self.sidecar_fresh():
                self.rebuild_sidecar()
            return ChromaChunks(self.collection)
        if not self.sidecar_fresh():
            try:
                lock = self.write_lock(wait_seconds=0)
            except IndexBusyError:
                return ChromaChunks(self.collection)
            try:
                self.refresh_sidecar(writer=True)
            finally:
                lock.release()
        return self.sidecar

    def status(self) -> IndexStatus:
        return IndexStatus(
            articles=len(self.manifest.articles),
            chunks=self.collection.count(),
            embedding_model=str((self.collection.metadata or {}).get("embedding_model", "")),
            index=str(self.path),
            chroma=self.settings.chroma_url or str(self.path / "chroma"),
            size_bytes=index_size(self.path),
            bm25_fresh=self.sidecar_fresh(),
        )

    def stored_chunks(self) -> dict[tuple[str, str], list[str]]:
        """Chunk ids in Chroma grouped by (article id, content hash prefix)."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for chunk_id in self.all_ids():
            grouped.setdefault(_article_key(chunk_id), []).append(chunk_id)
        return grouped

    def live_keys(self) -> set[tuple[str, str]]:
        return {(article_id, entry.hash[:12]) for article_id, entry in self.manifest.articles.items()}

    def check(self) -> list[str]:
        """Problems found (manifest vs Chroma vs BM25 sidecar), each with its fix; empty when healthy."""
        with self._answering():
            return self._check()

    def _check(self) -> list[str]:
        problems = []
        stored = self.stored_chunks()
        for article_id, entry in self.manifest.articles.items():
            found = len(stored.get((article_id, entry.hash[:12]), []))
            if found != entry.chunks:
                problems.append(f"article {article_id}: manifest has {entry.chunks} chunks, Chroma {found}; fix: assistant doctor --fix, then ingest again")
        live = self.live_keys()
        orphans = sum(len(ids) for key, ids in stored.items() if key not in live)
        if orphans:
            problems.append(f"{orphans} chunks in Chroma belong to no indexed article; fix: assistant doctor --fix")
        digest = self.manifest.digest()
        if not self.sidecar_fresh():
            problems.append("the sidecar (BM25 and the read snapshot) is out of date; fix: assistant doctor --fix")
        if self.manifest_store.recorded_digest() not in (None, digest):
            problems.append("the digest recorded with the manifest is stale; fix: assistant doctor --fix")
        unreadable = self.unreadable_chunks()
        if unreadable:
            problems.append(f"{len(unreadable)} chunks have vectors Chroma cannot read (a write was interrupted); fix: assistant doctor --fix, then ingest again")
        return problems

    def reconcile(self, stored: dict[tuple[str, str], list[str]]) -> int:
        """Forget articles whose chunks a crash left incomplete (the next ingest embeds them again).

        Returns how many were forgotten. Must be called under the write lock.
        """
        dropped = 0
        for article_id, entry in list(self.manifest.articles.items()):
            if len(stored.get((article_id, entry.hash[:12]), [])) != entry.chunks:
                self.manifest.forget(article_id)
                dropped += 1
        if dropped:
            self.save_manifest()
        return dropped

    def repair(self) -> None:
        """doctor --fix: rebuild a damaged vector segment, forget incomplete articles, delete orphans, rebuild BM25.

        Raises StoreUnavailableError when Chroma stops answering; what was not yet changed stays as it was.
        """
        with self._answering():
            self._repair()

    @contextmanager
    def _answering(self) -> Iterator[None]:
        """Transport failures (a server that stopped or timed out) as one typed error."""
        import httpx

        try:
            yield
        except (httpx.HTTPError, ConnectionError, TimeoutError) as exc:
            raise StoreUnavailableError(f"{self._where()} did not answer ({type(exc).__name__}); nothing more was changed, retry when it is up") from None

    def _repair(self) -> None:
        unreadable = self.unreadable_chunks()
        if unreadable:
            self.rebuild_vectors(set(unreadable))
        stored = self.stored_chunks()
        self.reconcile(stored)
        live = self.live_keys()
        self.delete([chunk_id for key, ids in stored.items() if key not in live for chunk_id in ids])
        self.save_manifest()  # records the digest again
        self.refresh_sidecar(writer=True, force=True)


class ChromaChunks:
    """The questions retrieval asks of stored chunks, answered by the Chroma collection itself
    (a `chroma run` server, or an embedded index while a writer holds it); see Sidecar for the other."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection
        self._size: int | None = None  # asked once: a round trip per query otherwise

    def count(self) -> int:
        if self._size is None:
            self._size = int(self.collection.count())
        return self._size

    def nearest(self, vector: Any, n: int, filters: Any) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks within ``filters`` (HNSW), best first."""
        if not self.count():
            return []
        result = self.collection.query(query_embeddings=[vector.tolist()], n_results=min(n, self.count()), where=filters.chroma_where(), include=["distances"])
        return [(chunk_id, 1.0 - float(distance)) for chunk_id, distance in zip(result["ids"][0], result["distances"][0])]

    def similarities(self, ids: list[str], vector: Any) -> dict[str, float]:
        import numpy as np

        got = self.collection.get(ids=ids, include=["embeddings"])
        return {chunk_id: float(np.dot(np.asarray(stored, dtype=np.float32), vector)) for chunk_id, stored in zip(got["ids"], got["embeddings"])}

    def passages(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        got = self.collection.get(ids=ids, include=["documents", "metadatas"])
        return {chunk_id: (text, meta) for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"])}


@contextmanager
def _writing() -> Iterator[None]:
    """chromadb's failure to apply a write to a damaged HNSW segment, as a typed error with its fix."""
    try:
        yield
    except Exception as exc:
        if type(exc).__name__ == "InternalError" and ("hnsw" in str(exc).lower() or "compaction" in str(exc).lower()):
            raise IndexCorruptError(DAMAGED) from None
        raise


def unreadable_vector_error(exc: Exception) -> bool:
    """chromadb's error for a vector its HNSW segment no longer holds (embedded, or relayed by a server)."""
    return type(exc).__name__ == "InternalError" and "error getting embedding" in str(exc).lower()


def article_of(chunk_id: str) -> str:
    """The article a chunk id (``article:hash12:start-end``) belongs to."""
    return chunk_id.rsplit(":", 2)[0]


def _article_key(chunk_id: str) -> tuple[str, str]:
    try:
        article_id, digest, _ = chunk_id.rsplit(":", 2)
    except ValueError:
        raise IndexCorruptError(f"unexpected chunk id {chunk_id!r} in the collection; is --collection shared with another tool?") from None
    return article_id, digest


def index_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
