"""Keeping an index whole: check (manifest vs Chroma vs sidecar vs readable vectors), reconcile after a
crash, and repair — what `assistant doctor [--fix]` runs and what `ingest` calls before writing.

Out of scope: the store's own protocols (store/index.py) and deciding what to ingest (ingest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .store import chroma
from .store.index import Index


@dataclass
class DoctorReport:
    problems: list[str] = field(default_factory=list)  # what is still wrong, each with its fix
    fixed: bool = False  # a repair ran


def doctor(index: Index, fix: bool) -> DoctorReport:
    """Check the index; with ``fix``, repair it under the write lock and check again."""
    problems = check(index)
    if not problems or not fix:
        return DoctorReport(problems)
    lock = index.write_lock()
    try:
        repair(index)
    finally:
        lock.release()
    return DoctorReport(check(index), fixed=True)


def check(index: Index) -> list[str]:
    """Problems found (manifest vs Chroma vs sidecar, unreadable vectors), each with its fix; empty when healthy."""
    with chroma.answering(index.where()):
        problems = []
        stored = index.stored_chunks()
        for article_id, entry in index.manifest.articles.items():
            found = len(stored.get(index.manifest.key(article_id), []))
            if found != entry.chunks:
                problems.append(f"article {article_id}: manifest has {entry.chunks} chunks, Chroma {found}; fix: assistant doctor --fix, then ingest again")
        orphans = sum(len(ids) for key, ids in stored.items() if not index.manifest.is_live(key))
        if orphans:
            problems.append(f"{orphans} chunks in Chroma belong to no indexed article; fix: assistant doctor --fix")
        if not index.sidecar_fresh():
            problems.append("the sidecar (BM25 and the read snapshot) is out of date; fix: assistant doctor --fix")
        if index.manifest_store.digest_is_current() and index.manifest_store.recorded_digest() != index.manifest.digest():
            problems.append("the digest recorded with the manifest is stale; fix: assistant doctor --fix")
        unreadable = unreadable_chunks(index)
        if unreadable:
            problems.append(f"{len(unreadable)} chunks have vectors Chroma cannot read (a write was interrupted); fix: assistant doctor --fix, then ingest again")
        return problems


def reconcile(index: Index, stored: dict[tuple[str, str], list[str]]) -> int:
    """Forget articles whose chunks a crash left incomplete (the next ingest embeds them again).

    Returns how many were forgotten. Must be called under the write lock.
    """
    dropped = 0
    for article_id, entry in list(index.manifest.articles.items()):
        if len(stored.get(index.manifest.key(article_id), [])) != entry.chunks:
            index.manifest.forget(article_id)
            dropped += 1
    if dropped:
        index.save_manifest()
    return dropped


def repair(index: Index) -> None:
    """Rebuild a damaged vector segment, forget incomplete articles, delete orphans, rebuild the sidecar.

    Raises StoreUnavailableError when Chroma stops answering; what was not yet changed stays as it was.
    """
    with chroma.answering(index.where()):
        unreadable = unreadable_chunks(index)
        if unreadable:
            rebuild_vectors(index, set(unreadable))
        stored = index.stored_chunks()
        reconcile(index, stored)
        index.delete([chunk_id for key, ids in stored.items() if not index.manifest.is_live(key) for chunk_id in ids])
        index.save_manifest()  # records the digest again
        index.refresh_sidecar(writer=True, force=True)


def unreadable_chunks(index: Index) -> list[str]:
    """Chunks whose vectors Chroma cannot read back.

    A process killed while chromadb persists its HNSW files leaves labels the files no longer hold
    (reproduced with SIGKILL during upserts): those chunks vanish from dense search, and the next
    write to the collection fails. Reading every vector back is the only check that finds it.
    """
    ids = chroma.all_ids(index.collection)
    readable = {chunk_id for got in chroma.readable_vectors(index.collection, ids, index.where()) for chunk_id in got["ids"]}
    return [chunk_id for chunk_id in ids if chunk_id not in readable]


def rebuild_vectors(index: Index, skip: set[str]) -> None:
    """Copy every readable chunk into a fresh collection and swap it in.

    Chunks in ``skip`` (unreadable vectors) are left out; their articles then count as incomplete,
    so reconcile() forgets them and the next ingest embeds them again. The old collection is deleted
    only after the copy is complete; a crash before the final rename is finished by
    chroma.finish_swap() when the index is next opened.
    """
    index.mark_stale()
    name, temporary = index.settings.collection, chroma.rebuild_name(index.settings.collection)
    chroma.drop(index.client, temporary)  # a copy an earlier, interrupted repair left half done
    target = index.client.create_collection(temporary, metadata=index.collection.metadata, configuration={"hnsw": chroma.HNSW}, embedding_function=None)
    ids = [chunk_id for chunk_id in chroma.all_ids(index.collection) if chunk_id not in skip]
    for page in chroma.by_ids(index.collection, ids, ["embeddings", "documents", "metadatas"], chroma.VECTOR_PAGE):
        target.add(ids=page["ids"], embeddings=page["embeddings"], documents=page["documents"], metadatas=page["metadatas"])
    index.client.delete_collection(name)
    target.modify(name=name)
    index.reopen()


@dataclass
class IndexStatus:
    articles: int
    chunks: int
    embedding_model: str
    index: str
    chroma: str
    size_bytes: int
    bm25_fresh: bool


def status(index: Index) -> IndexStatus:
    """What is indexed, where, and whether the sidecar is in step (`assistant status`)."""
    return IndexStatus(
        articles=index.manifest.count(),
        chunks=index.collection.count(),
        embedding_model=str((index.collection.metadata or {}).get("embedding_model", "")),
        index=str(index.path),
        chroma=index.where(),
        size_bytes=sum(f.stat().st_size for f in index.path.rglob("*") if f.is_file()),
        bm25_fresh=index.sidecar_fresh(),
    )
