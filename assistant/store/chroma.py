"""Chroma through its public API: connecting (an embedded store or a `chroma run` server), creating
and opening collections, reading them in pages, and telling chromadb's failures apart.

Everything that talks to chromadb directly lives here, so that the rest of the store reads as what
it does (manifest, snapshot, read path), not how Chroma pages or fails. Out of scope: what the
records mean (store/index.py) and deciding what to repair (maintenance.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from ..config import Settings
from ..errors import ConfigError, IndexCorruptError, StoreUnavailableError

# Chroma's default ef_search lost recall on near-duplicate news: both ef values are raised.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 200, "max_neighbors": 32}
PAGE = 5000  # records per request when reading ids, texts or metadata
VECTOR_PAGE = 500  # records per request when reading vectors back
DAMAGED = "the vector index is damaged (a write was interrupted); run 'assistant doctor --fix', then 'assistant ingest' again"


def connect(settings: Settings) -> Any:
    """A chromadb client: an HttpClient for ``settings.chroma_url``, else a PersistentClient in the index directory."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if not settings.chroma_url:
        return chromadb.PersistentClient(path=str(settings.index / "chroma"), settings=chroma_settings)
    url = urlparse(settings.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"--chroma-url must look like http://HOST:PORT, got {settings.chroma_url!r}")
    try:
        client = chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 8000), ssl=url.scheme == "https", settings=chroma_settings)
        client.heartbeat()
    except Exception as exc:  # chromadb raises a zoo of transport errors
        raise StoreUnavailableError(f"cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__}); start it with 'chroma run --path DIR --host HOST --port PORT'") from None
    return client


def create_collection(client: Any, name: str, metadata: dict[str, Any]) -> Any:
    """The collection ``name``, created with cosine space and the raised HNSW ef values if it is new."""
    return client.get_or_create_collection(name=name, embedding_function=None, metadata=metadata, configuration={"hnsw": HNSW})


def open_collection(client: Any, name: str) -> Any | None:
    """The collection ``name``, or None when it does not exist (a server that does not answer raises)."""
    try:
        return client.get_collection(name, embedding_function=None)
    except Exception as exc:  # NotFoundError (embedded) or a 404 relayed by a server
        if type(exc).__name__ in ("NotFoundError", "InvalidCollectionException", "ValueError") or "does not exist" in str(exc).lower():
            return None
        raise StoreUnavailableError(f"the Chroma store did not answer ({type(exc).__name__}); retry when it is up") from None


def collection_names(client: Any) -> set[str]:
    return {collection.name for collection in client.list_collections()}


def drop(client: Any, name: str) -> None:
    """Delete collection ``name`` if it exists."""
    if name in collection_names(client):
        client.delete_collection(name)


def pages(collection: Any, include: list[str], page: int = PAGE) -> Iterator[dict[str, Any]]:
    """Every record of ``collection`` (its ids and ``include``), one page at a time."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        yield got
        if len(got["ids"]) < page:
            return
        offset += page


def all_ids(collection: Any) -> list[str]:
    return [chunk_id for got in pages(collection, []) for chunk_id in got["ids"]]


def ids_of_articles(collection: Any, article_ids: list[str], page: int = 500) -> list[str]:
    """The ids of the chunks whose metadata names one of ``article_ids`` (a filtered read on the server)."""
    return [chunk_id for first in range(0, len(article_ids), page) for chunk_id in collection.get(where={"article_id": {"$in": article_ids[first : first + page]}}, include=[])["ids"]]


def by_ids(collection: Any, ids: list[str], include: list[str], page: int = PAGE) -> Iterator[dict[str, Any]]:
    """Chroma's answers for ``ids``, a page of them per request."""
    for first in range(0, len(ids), page):
        yield collection.get(ids=ids[first : first + page], include=include)


def readable_vectors(collection: Any, ids: list[str], where: str) -> Iterator[dict[str, Any]]:
    """Chroma's answers for ``ids`` with their vectors, a page at a time; ids whose vectors it cannot
    read (a damaged HNSW segment) are left out, found by asking again one id at a time.

    Only chromadb's own error for such a vector means "cannot be read"; any other failure (a server
    down, a timeout) raises StoreUnavailableError, so that no caller mistakes "could not ask" for
    "cannot be read" and drops chunks it merely failed to fetch.
    """
    for first in range(0, len(ids), VECTOR_PAGE):
        yield from _vectors(collection, ids[first : first + VECTOR_PAGE], where)


def _vectors(collection: Any, ids: list[str], where: str) -> Iterator[dict[str, Any]]:
    try:
        got = collection.get(ids=ids, include=["embeddings"])
    except Exception as exc:
        if not unreadable_vector_error(exc):
            raise StoreUnavailableError(f"{where} did not answer while reading vectors ({type(exc).__name__}); nothing was changed, retry when it is up") from None
        if len(ids) > 1:
            for chunk_id in ids:
                yield from _vectors(collection, [chunk_id], where)
        return
    yield got


def unreadable_vector_error(exc: Exception) -> bool:
    """chromadb's error for a vector its HNSW segment no longer holds (embedded, or relayed by a server)."""
    return type(exc).__name__ == "InternalError" and "error getting embedding" in str(exc).lower()


@contextmanager
def writing() -> Iterator[None]:
    """chromadb's failure to apply a write to a damaged HNSW segment, as a typed error with its fix."""
    try:
        yield
    except Exception as exc:
        if type(exc).__name__ == "InternalError" and ("hnsw" in str(exc).lower() or "compaction" in str(exc).lower()):
            raise IndexCorruptError(DAMAGED) from None
        raise


@contextmanager
def answering(where: str) -> Iterator[None]:
    """Transport failures (a server that stopped or timed out) as one typed error."""
    import httpx

    try:
        yield
    except (httpx.HTTPError, ConnectionError, TimeoutError) as exc:
        raise StoreUnavailableError(f"{where} did not answer ({type(exc).__name__}); nothing more was changed, retry when it is up") from None


def rebuild_name(name: str) -> str:
    """Where a repair copies a collection before swapping it in (maintenance.rebuild_vectors)."""
    return f"{name}__rebuild"


def finish_swap(client: Any, name: str) -> bool:
    """A repair that died between deleting collection ``name`` and renaming its copy: rename it now.

    Returns whether it did."""
    try:
        names = collection_names(client)
    except Exception:  # server unreachable: the caller reports that
        return False
    if rebuild_name(name) in names and name not in names:
        client.get_collection(rebuild_name(name), embedding_function=None).modify(name=name)
        return True
    return False


def documents(collection: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every record's (id, text, metadata)."""
    for page in pages(collection, ["documents", "metadatas"]):
        yield from zip(page["ids"], page["documents"], page["metadatas"])
