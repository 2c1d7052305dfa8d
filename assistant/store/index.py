"""The index: a Chroma collection of chunks (embedded or a `chroma run` server), its manifest and its sidecar.

Layout of the index directory: ``chroma/`` (embedded store only), ``sidecar/`` and ``write.lock``.
Chroma holds two collections: the chunks and the manifest (``<name>__manifest``). With
``chroma_url`` both live on the server, shared by every client; the directory then keeps only the
writer lock: a client reads chunks from the server and asks it for words too
(store/server_lexical.py), so it never copies the collection.

Queries on an embedded index read the sidecar's snapshot of the collection and do not open Chroma
at all while it is current. It is current unless ``sidecar.stale`` exists: every writer creates
that file before its first write to Chroma, and only a rebuild made under the write lock removes
it, so a crash between the two leaves readers going to Chroma, never to a snapshot that misses what
was written. This module owns that protocol and the choice of read path; checking and repairing
an index is maintenance.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..embeddings import Embedder
from ..errors import EmptyIndexError, IndexBusyError, IndexMismatchError
from ..types import ChunkId
from . import chroma
from .manifest import ChromaManifestStore, Manifest
from .readers import ChromaChunks, ChunkReader, Lexical
from .server_lexical import ServerLexical
from .sidecar import Sidecar

REBUILD_SHARE = 0.2  # a write that adds more than this share of the sidecar's rows (and over APPEND_ALWAYS) rebuilds it
APPEND_ALWAYS = 1000  # chunks: fewer are always appended


@dataclass
class WriteLog:
    """The chunks a writer upserted and the ids it deleted, in order."""

    ids: list[str]
    vectors: list[Any]
    texts: list[str]
    metas: list[dict[str, Any]]
    removed: list[str]

    def add(self, ids: list[str], vectors: Any, texts: list[str], metas: list[dict[str, Any]]) -> None:
        self.ids += ids
        self.vectors += list(vectors)
        self.texts += texts
        self.metas += metas

    def size(self) -> int:
        return len(self.ids)


class Index:
    """Open (or create) the index for ``settings`` with ``embedder``; refuses a different embedding model.

    Chroma is opened on first use: a reader whose sidecar snapshot is current never needs it.
    """

    def __init__(self, settings: Settings, embedder: Embedder, create: bool = False) -> None:
        self.settings = settings
        self.embedder = embedder
        self.path = settings.index
        if not create and not settings.chroma_url and not (self.path / "chroma").exists():
            raise EmptyIndexError(f"no index at {self.path}; build one with 'assistant ingest PATH' (or point --index at an existing one)")
        self.path.mkdir(parents=True, exist_ok=True)
        self.sidecar = Sidecar(self.path / "sidecar")
        self._client: Any = None
        self._collection: Any = None
        self._manifest_store: ChromaManifestStore | None = None
        self._manifest: Manifest | None = None  # loaded on first use: readers need only its digest
        self._marked_stale = False
        self._log: WriteLog | None = None  # what this writer added and removed, while the sidecar can be extended with it
        self._server_reader: ChromaChunks | None = None
        if create:
            self._open(create=True)
        elif not settings.chroma_url:  # the sidecar records the model too: a reader is refused without opening Chroma
            meta = self.sidecar.read_meta()
            self._check_model(meta.embedding_model if meta else "")

    # --- Chroma, opened on first use ------------------------------------------------------

    def _open(self, create: bool = False) -> None:
        """Connect to Chroma and open the collection (readers) or create it (writers)."""
        self._client = chroma.connect(self.settings)
        name = self.settings.collection
        chroma.finish_swap(self._client, name)  # a repair interrupted before its final rename
        if create:
            metadata = {"embedding_model": self.embedder.name, "embedding_dim": self.embedder.dimension, "schema": 1}
            self._collection = chroma.create_collection(self._client, name, metadata)
        else:
            self._collection = chroma.open_collection(self._client, name)
            if self._collection is None:
                raise EmptyIndexError(f"no collection {name!r} in {self.where()}; build one with 'assistant ingest PATH'")
        self._check_model((self._collection.metadata or {}).get("embedding_model", ""))
        self._manifest_store = ChromaManifestStore(self._client, f"{name}__manifest")

    @property
    def client(self) -> Any:
        if self._client is None:
            self._open()
        return self._client

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._open()
        return self._collection

    def reopen(self) -> None:
        """Open the collection again (after maintenance swapped a rebuilt one in)."""
        self._collection = chroma.open_collection(self.client, self.settings.collection)

    @property
    def manifest_store(self) -> ChromaManifestStore:
        if self._manifest_store is None:
            self._open()
        assert self._manifest_store is not None
        return self._manifest_store

    @property
    def manifest(self) -> Manifest:
        """Every entry, loaded on first use (unless ``load_manifest`` loaded some first)."""
        if self._manifest is None:
            self._manifest = self.manifest_store.load()
        return self._manifest

    def load_manifest(self, article_ids: list[str] | None = None) -> None:
        """(Re)load the manifest, as a writer starts: every entry, or only those of ``article_ids``
        (an ingest into a large index that touches a few)."""
        self._manifest = self.manifest_store.load(article_ids)

    def where(self) -> str:
        return self.settings.chroma_url or str(self.path / "chroma")

    def _check_model(self, recorded: str) -> None:
        wanted = self.embedder.name
        if recorded and recorded != wanted:
            raise IndexMismatchError(
                f"the index at {self.path} was built with {recorded!r}, not {wanted!r}; "
                f"use --embedding-model {recorded} or re-index into a new --index DIR"
            )

    def is_empty(self) -> bool:
        if self.snapshot_current():
            return not self.sidecar.read_meta().articles  # type: ignore[union-attr]
        return self.manifest_store.count() == 0

    # --- writing ---------------------------------------------------------------------------

    def write_lock(self, wait_seconds: float = 10.0) -> Any:
        """An exclusive lock for writers; readers never take it."""
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.path / "write.lock"))
        try:
            lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise IndexBusyError(f"another 'assistant ingest' is writing to {self.path}; wait for it to finish and retry") from None
        return lock

    def save_manifest(self) -> None:
        if self.manifest.dirty or self.manifest.forgotten:
            self.mark_stale()
        self.manifest_store.save(self.manifest)

    def begin_write(self) -> bool:
        """Start logging this writer's changes (under the write lock): if the sidecar matches Chroma now,
        ``finish_write`` extends it with them instead of rebuilding it from the whole collection.

        Returns whether the last writer finished (a crashed one leaves the stale marker, or on a
        server the manifest's ``writing`` flag): then Chroma holds no incomplete article and no
        orphan chunk to reconcile.
        """
        if self.settings.chroma_url:  # no sidecar to extend
            self._log = None
            return self.manifest_store.writer_finished()
        extendable = self.sidecar_fresh()
        self._log = WriteLog([], [], [], [], []) if extendable else None
        return extendable

    def finish_write(self) -> None:
        """Bring the sidecar in step with what was written: appended when it could be, else rebuilt."""
        log, self._log = self._log, None
        if log is not None and not self.sidecar.needs_rebuild(len(log.removed)) and log.size() <= max(REBUILD_SHARE * self.sidecar.count(), APPEND_ALWAYS):
            import numpy as np

            vectors = np.asarray(log.vectors, dtype=np.float32).reshape(len(log.ids), -1) if log.ids else None
            if vectors is not None:
                vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)  # cosine, as the collection
            elif self.sidecar.has_snapshot():
                vectors = np.zeros((0, self.embedder.dimension), dtype=np.float32)
            self.sidecar.append(list(zip(log.ids, log.texts, log.metas)), vectors, log.removed, self.manifest.digest(), self.manifest.count())
            self._stale_marker.unlink(missing_ok=True)
            self._marked_stale = False
            return
        self.refresh_sidecar(writer=True)

    def upsert(self, ids: list[str], embeddings: Any, documents: list[str], metadatas: list[dict[str, Any]]) -> None:
        self.mark_stale()
        if self._log is not None:
            self._log.add(ids, embeddings, documents, metadatas)
        with chroma.writing():
            for first in range(0, len(ids), chroma.PAGE):
                window = slice(first, first + chroma.PAGE)
                self.collection.upsert(ids=ids[window], embeddings=embeddings[window], documents=documents[window], metadatas=metadatas[window])

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.mark_stale()
        if self._log is not None:
            self._log.removed += ids
        with chroma.writing():
            for first in range(0, len(ids), chroma.PAGE):
                self.collection.delete(ids=ids[first : first + chroma.PAGE])

    def stored_chunks(self, keys: set[tuple[str, str]] | None = None) -> dict[tuple[str, str], list[str]]:
        """Chunk ids in Chroma grouped by article version (ChunkId.key); with ``keys``, only theirs.

        A writer whose sidecar matched Chroma when it began (see ``begin_write``) reads them from the
        sidecar: the same ids, without paging through a large collection on every ingest.
        """
        from ..errors import IndexCorruptError

        if keys is not None and (self._log is not None or self.settings.chroma_url):  # a prefix test per id: no parsing of every id
            prefixes = {f"{article_id}:{digest}": (article_id, digest) for article_id, digest in keys}
            candidates = self.sidecar.live_ids() if self._log is not None else chroma.ids_of_articles(self.collection, sorted({a for a, _ in keys}))
            wanted: dict[tuple[str, str], list[str]] = {}
            for chunk_id in candidates:
                key = prefixes.get(chunk_id.rpartition(":")[0])
                if key is not None:
                    wanted.setdefault(key, []).append(chunk_id)
            return wanted
        grouped: dict[tuple[str, str], list[str]] = {}
        for chunk_id in self.sidecar.live_ids() if self._log is not None else chroma.all_ids(self.collection):
            try:
                key = ChunkId.parse(chunk_id).key
            except ValueError:
                raise IndexCorruptError(f"unexpected chunk id {chunk_id!r} in the collection; is --collection shared with another tool?") from None
            if keys is None or key in keys:
                grouped.setdefault(key, []).append(chunk_id)
        return grouped

    # --- the sidecar and the read path ---------------------------------------------------------

    @property
    def _stale_marker(self) -> Path:
        return self.path / "sidecar.stale"

    def mark_stale(self) -> None:
        """Called before any write to Chroma: the snapshot may no longer match it (see the module doc);
        on a server, the manifest says a writer is at work until it finishes."""
        if not self._marked_stale:
            if self.settings.chroma_url:
                self.manifest_store.mark_writing(True)
            else:
                self._stale_marker.touch()
            self._marked_stale = True

    def snapshot_current(self) -> bool:
        """Queries can read the sidecar's snapshot instead of Chroma (embedded index, no write since it was built)."""
        return not (self.settings.chroma_url or self._marked_stale or self._stale_marker.exists() or not self.sidecar.has_snapshot())

    def sidecar_fresh(self) -> bool:
        """The sidecar was built from the indexed content (the digest recorded with the manifest, or computed),
        and an embedded index's sidecar holds the snapshot written after the last write."""
        if self.settings.chroma_url:  # a server's clients keep no sidecar
            return True
        if self._stale_marker.exists() or not self.sidecar.has_snapshot():
            return False
        return self.sidecar.digest() == (self.manifest_store.recorded_digest() or self.manifest.digest())

    def rebuild_sidecar(self) -> None:
        """Rebuild the sidecar (BM25 and the read snapshot) from Chroma, vectors carried over by id."""
        import numpy as np

        if self.settings.chroma_url:  # a server's clients keep no sidecar
            return
        chunks = list(chroma.documents(self.collection))
        old = self.sidecar.vectors([chunk_id for chunk_id, _, _ in chunks]) if self.sidecar.has_snapshot() else {}
        new = self.read_vectors([chunk_id for chunk_id, _, _ in chunks if chunk_id not in old])
        dimension = len(next(iter(old.values()), next(iter(new.values()), []))) or self.embedder.dimension
        vectors = np.zeros((len(chunks), dimension), dtype=np.float32)  # an unreadable vector stays 0: never near
        for row, (chunk_id, _, _) in enumerate(chunks):
            vector = old.get(chunk_id, new.get(chunk_id))
            if vector is not None:
                vectors[row] = vector
        self.sidecar.build(chunks, self.manifest.digest(), self.embedder.name, self.manifest.count(), vectors)

    def refresh_sidecar(self, writer: bool, force: bool = False) -> None:
        """Rebuild the sidecar if it is not fresh; a ``writer`` (holding the write lock) then clears the stale marker."""
        if force or not self.sidecar_fresh():
            self.rebuild_sidecar()
        if writer:
            if self.settings.chroma_url:
                if self._marked_stale or not self.manifest_store.writer_finished():
                    self.manifest_store.mark_writing(False)
            else:
                self._stale_marker.unlink(missing_ok=True)
            self._marked_stale = False

    def read_vectors(self, ids: list[str]) -> dict[str, Any]:
        """Vectors from Chroma by id, normalised; those it cannot read (a damaged segment) are left out."""
        import numpy as np

        found: dict[str, Any] = {}
        for got in chroma.readable_vectors(self.collection, ids, self.where()):
            for chunk_id, vector in zip(got["ids"], got["embeddings"]):
                vector = np.asarray(vector, dtype=np.float32)
                found[chunk_id] = vector / max(float(np.linalg.norm(vector)), 1e-12)  # cosine, as the collection
        return found

    def chunks(self) -> ChunkReader:
        """What queries read chunks from: the sidecar's snapshot when current, else Chroma.

        A reader finding the sidecar out of date rebuilds it (a shared server's content changed, or a
        writer crashed). On an embedded index it needs the write lock to do so, and skips the rebuild
        while a writer holds it, answering from Chroma meanwhile.
        """
        if self.settings.chroma_url:
            if self._server_reader is None:
                self._server_reader = ChromaChunks(self.collection)
            return self._server_reader
        if self.snapshot_current():
            return self.sidecar
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

    def lexical(self) -> Lexical | None:
        """What word search reads: the sidecar's BM25, or for a server's client the server (None: no sidecar yet)."""
        if self.settings.chroma_url:
            return ServerLexical(self.collection, self.chunks().count())
        return self.sidecar if self.sidecar.exists() else None
