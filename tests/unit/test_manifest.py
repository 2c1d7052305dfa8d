"""The manifest: what the next ingest adds, replaces, skips or prunes; kept in a Chroma collection.

Plan logic is pure. Persistence goes through ``ChromaManifestStore`` on a local PersistentClient in
``tmp_path`` (no server, no network). The legacy ``manifest.json`` of older indexes is imported once,
and a corrupt one is an ``IndexCorruptError``. The BM25 sidecar's atomic rebuild is checked here too.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from assistant.articles import Article
from assistant.store.manifest import ChromaManifestStore, Entry, Manifest
from assistant.store.sidecar import Sidecar
from assistant.types import Filters


def article(tmp_path: Path, article_id: str, text: str, file_name: str | None = None, create_file: bool = True) -> Article:
    origin = tmp_path / (file_name or f"{article_id}.txt")
    if create_file:
        origin.write_text(text, encoding="utf-8")
    return Article(id=article_id, text=text, title=text.splitlines()[0], source=origin.name, origin=os.path.abspath(origin))


def indexed(*articles: Article) -> Manifest:
    manifest = Manifest()
    for a in articles:
        manifest.record(a, chunks=3)
    return manifest


def ids(articles: list[Article]) -> list[str]:
    return sorted(a.id for a in articles)


def chroma_client(path: Path):  # type: ignore[no-untyped-def]
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


# --- plan --------------------------------------------------------------------------


def test_plan_added_updated_unchanged(tmp_path: Path) -> None:
    same = article(tmp_path, "same", "Same\nbody")
    changed = article(tmp_path, "changed", "Changed\nold body")
    manifest = indexed(same, changed)
    fresh = article(tmp_path, "fresh", "Fresh\nbody")
    changed_now = article(tmp_path, "changed", "Changed\nnew body")

    plan = manifest.plan([same, changed_now, fresh], [a.origin for a in (same, changed_now, fresh)], prune=False)

    assert ids(plan.added) == ["fresh"]
    assert ids(plan.updated) == ["changed"]
    assert ids(plan.unchanged) == ["same"]
    assert plan.removed == []
    assert ids(plan.to_embed) == ["changed", "fresh"]


def test_metadata_change_alone_is_an_update(tmp_path: Path) -> None:
    a = article(tmp_path, "a", "A\nbody")
    manifest = indexed(a)
    retitled = Article(id=a.id, text=a.text, title="A new title", source=a.source, origin=a.origin)

    plan = manifest.plan([retitled], [a.origin], prune=False)

    assert ids(plan.updated) == ["a"] and plan.unchanged == []


def test_without_prune_nothing_is_removed(tmp_path: Path) -> None:
    kept = article(tmp_path, "kept", "Kept\nbody")
    gone = article(tmp_path, "gone", "Gone\nbody")
    manifest = indexed(kept, gone)
    Path(gone.origin).unlink()

    plan = manifest.plan([kept], [kept.origin], prune=False)

    assert plan.removed == []
    assert ids(plan.unchanged) == ["kept"]


def test_prune_removes_articles_whose_file_is_gone(tmp_path: Path) -> None:
    kept = article(tmp_path, "kept", "Kept\nbody")
    gone = article(tmp_path, "gone", "Gone\nbody")
    manifest = indexed(kept, gone)
    Path(gone.origin).unlink()

    plan = manifest.plan([kept], [kept.origin], prune=True)

    assert plan.removed == ["gone"]
    assert ids(plan.unchanged) == ["kept"]


def test_prune_removes_article_no_longer_in_a_file_that_was_read(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    first = article(tmp_path, "one", "One\nbody", file_name="feed.jsonl", create_file=False)
    second = article(tmp_path, "two", "Two\nbody", file_name="feed.jsonl", create_file=False)
    feed.write_text("(the file exists; its content does not matter to the plan)", encoding="utf-8")
    manifest = indexed(first, second)

    plan = manifest.plan([first], [os.path.abspath(feed)], prune=True)

    assert plan.removed == ["two"]
    assert ids(plan.unchanged) == ["one"]


def test_prune_keeps_articles_from_existing_files_not_given_this_time(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    other = article(tmp_path, "other", "Other\nbody", file_name="elsewhere/other.txt")
    given = article(tmp_path, "given", "Given\nbody")
    manifest = indexed(other, given)

    plan = manifest.plan([given], [given.origin], prune=True)  # other.txt still exists but was not read

    assert plan.removed == []


# --- bookkeeping -------------------------------------------------------------------


def test_record_and_forget_track_changes_and_count_chunks(tmp_path: Path) -> None:
    manifest = Manifest()
    a, b = article(tmp_path, "a", "A\nx"), article(tmp_path, "b", "B\ny")
    manifest.record(a, 4)
    manifest.record(b, 2)
    assert manifest.chunk_count == 6
    assert manifest.dirty == {"a", "b"} and manifest.forgotten == set()

    manifest.forget("a")
    manifest.forget("not-there")

    assert list(manifest.articles) == ["b"]
    assert manifest.chunk_count == 2
    assert manifest.dirty == {"b"} and manifest.forgotten == {"a"}
    manifest.record(a, 1)  # re-recorded: no longer to be deleted
    assert manifest.forgotten == set() and "a" in manifest.dirty


def test_digest_follows_content(tmp_path: Path) -> None:
    a, b = article(tmp_path, "a", "A\nx"), article(tmp_path, "b", "B\ny")
    empty = Manifest().digest()
    one_way = indexed(a, b).digest()
    other_way = indexed(b, a).digest()
    changed = indexed(a, Article(id="b", text="B\nchanged", origin=b.origin)).digest()
    assert one_way == other_way  # order of recording does not matter
    assert len({empty, one_way, changed}) == 3


# --- persistence in Chroma ---------------------------------------------------------


def test_store_round_trip(tmp_path: Path) -> None:
    store = ChromaManifestStore(chroma_client(tmp_path / "chroma"), "articles__manifest")
    manifest = Manifest()
    a = Article(id="a", text="Ünïcode body ✓", title="Títle", source="a.txt", url="https://x.test/a", published="2024-02-26", origin=str(tmp_path / "a.txt"))
    b = Article(id="b", text="Other", title="", source="b.txt", origin=str(tmp_path / "b.txt"))
    manifest.record(a, 5)
    manifest.record(b, 1)

    store.save(manifest)

    assert manifest.dirty == set() and manifest.forgotten == set()
    loaded = ChromaManifestStore(chroma_client(tmp_path / "chroma"), "articles__manifest").load()
    assert loaded.articles == manifest.articles
    assert loaded.articles["a"] == Entry(a.content_hash, a.origin, 5, "Títle", "2024-02-26", "a.txt")
    assert loaded.digest() == manifest.digest()
    assert loaded.dirty == set()
    # and a loaded manifest plans against what was saved
    assert loaded.plan([a, b], [a.origin, b.origin], prune=False).unchanged == [a, b]


def test_store_save_applies_forget_and_update(tmp_path: Path) -> None:
    store = ChromaManifestStore(chroma_client(tmp_path / "chroma"), "articles__manifest")
    manifest = Manifest()
    a, b = article(tmp_path, "a", "A\nx"), article(tmp_path, "b", "B\ny")
    manifest.record(a, 1)
    manifest.record(b, 1)
    store.save(manifest)

    manifest.forget("a")
    b2 = Article(id="b", text="B\nnew", title="B", source="b.txt", origin=b.origin)
    manifest.record(b2, 7)
    store.save(manifest)

    loaded = store.load()
    assert list(loaded.articles) == ["b"]
    assert loaded.articles["b"].hash == b2.content_hash and loaded.articles["b"].chunks == 7


def test_a_partial_load_keeps_the_digest_and_count_of_the_whole(tmp_path: Path) -> None:
    store = ChromaManifestStore(chroma_client(tmp_path / "chroma"), "partial")
    whole = Manifest()
    for n in range(6):
        whole.record(article(tmp_path, f"a{n}", f"A{n}\ntext {n}"), n + 1)
    store.save(whole)

    partial = store.load(["a1", "a4", "new"])  # "new" is not indexed yet
    assert sorted(partial.articles) == ["a1", "a4"] and not partial.complete
    assert partial.count() == 6 and partial.digest() == whole.digest() == store.recorded_digest()
    partial.record(article(tmp_path, "a1", "A1\nchanged"), 9)
    partial.record(article(tmp_path, "new", "New\ntext"), 2)
    partial.forget("a4")
    store.save(partial)

    reloaded = store.load()  # every entry: the digest a partial writer recorded is the whole one's
    assert reloaded.complete and sorted(reloaded.articles) == ["a0", "a1", "a2", "a3", "a5", "new"]
    assert reloaded.digest() == partial.digest() == store.recorded_digest() and reloaded.count() == 6
    with pytest.raises(AssertionError):
        store.load(["a0"]).plan([], [], prune=True)


def test_an_index_written_by_an_older_version_is_loaded_whole_and_gets_the_current_digest(tmp_path: Path) -> None:
    store = ChromaManifestStore(chroma_client(tmp_path / "chroma"), "older")
    whole = Manifest()
    for n in range(3):
        whole.record(article(tmp_path, f"a{n}", f"A{n}\ntext {n}"), 1)
    store.save(whole)
    store.collection.modify(metadata={**store.ROLE, "digest": "an older scheme's sha1"})  # as an older version left it

    assert not store.digest_is_current()
    loaded = store.load(["a1"])
    assert loaded.complete and sorted(loaded.articles) == ["a0", "a1", "a2"], "no partial load on an older digest"
    loaded.record(article(tmp_path, "a1", "A1\nchanged"), 2)
    store.save(loaded)
    assert store.digest_is_current() and store.recorded_digest() == loaded.digest()


def test_store_load_of_new_collection_is_empty(tmp_path: Path) -> None:
    loaded = ChromaManifestStore(chroma_client(tmp_path / "chroma"), "fresh").load()
    assert loaded.articles == {} and loaded.chunk_count == 0


# --- atomic sidecar rebuild --------------------------------------------------------


def _chunk(chunk_id: str, text: str, day: int, source: str) -> tuple[str, str, dict[str, object]]:
    return chunk_id, text, {"title": "", "published_day": day, "source": source, "article_id": chunk_id.split(":")[0]}


def test_sidecar_build_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    sidecar = Sidecar(tmp_path / "sidecar")
    sidecar.build([_chunk("a:0:0-5", "Microsoft invests", 1, "x"), _chunk("b:0:0-5", "Mistral raises", -1, "y")], "digest-1", "m", 2)
    sidecar.build([_chunk("c:0:0-5", "Regulators object", 2, "z")], "digest-2", "m", 1)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["sidecar", "sidecar.lock"]  # no .tmp, no .old
    assert sidecar.digest() == "digest-2" and not sidecar.has_snapshot()
    reread = Sidecar(tmp_path / "sidecar")
    assert [chunk_id for chunk_id, _ in reread.top(reread.scores("regulators"), 5)] == ["c:0:0-5"]
    assert reread.scores("microsoft") is None, "the first build's terms are gone"


def test_sidecar_snapshot_answers_like_a_collection(tmp_path: Path) -> None:
    import numpy as np

    from assistant.types import Filters

    chunks = [_chunk("a:0:0-5", "Microsoft invests", 19000, "x"), _chunk("b:0:0-5", "Mistral raises", 19010, "y"), _chunk("c:0:0-5", "Regulators object", -1, "x")]
    vectors = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    Sidecar(tmp_path / "sidecar").build(chunks, "d", "m", 3, vectors)
    sidecar = Sidecar(tmp_path / "sidecar")
    query = np.array([0.8, 0.6], dtype=np.float32)

    assert sidecar.has_snapshot() and sidecar.count() == 3
    assert [chunk_id for chunk_id, _ in sidecar.nearest(query, 3, Filters())] == ["b:0:0-5", "a:0:0-5", "c:0:0-5"]
    assert sidecar.nearest(query, 1, Filters())[0][1] == pytest.approx(0.96)
    assert [chunk_id for chunk_id, _ in sidecar.nearest(query, 3, Filters(source="x"))] == ["a:0:0-5", "c:0:0-5"]
    # an until date keeps only chunks with a known date on or before it
    assert [chunk_id for chunk_id, _ in sidecar.nearest(query, 3, Filters(until=date(2022, 1, 10)))] == ["a:0:0-5"]
    assert sidecar.similarities(["c:0:0-5", "missing"], query) == {"c:0:0-5": pytest.approx(0.6)}
    assert sidecar.passages(["c:0:0-5", "a:0:0-5", "missing"]) == {"c:0:0-5": ("Regulators object", chunks[2][2]), "a:0:0-5": ("Microsoft invests", chunks[0][2])}


NAMES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


def test_appends_past_the_segment_limit_merge_the_small_tail_only(tmp_path: Path) -> None:
    import numpy as np

    from assistant.store.sidecar import MAX_SEGMENTS

    def vectors(n: int, seed: int) -> np.ndarray:
        v = np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    sidecar = Sidecar(tmp_path / "sidecar")
    big = [_chunk(f"big{n}:0:0-5", f"harbour report {n} apples", n, "x") for n in range(200)]
    sidecar.build(big, "d0", "m", 200, vectors(200, 0))
    added = []
    for n in range(MAX_SEGMENTS):  # the last makes MAX_SEGMENTS + 1 segments: the eight small ones merge
        chunk = _chunk(f"new{n}:0:0-5", f"depot note {NAMES[n]} pears", 1000 + n, "y")
        added.append((chunk, vectors(1, n + 1)))
        sidecar.append([chunk], added[-1][1], [], f"d{n + 1}", 201 + n)
    meta = Sidecar(tmp_path / "sidecar").read_meta()
    assert meta is not None and meta.segments[0] == "seg-0000" and len(meta.segments) == 2, meta.segments
    reread = Sidecar(tmp_path / "sidecar")
    assert reread.ids() == [c[0] for c in big] + [c[0] for c, _ in added] and meta.rows == 200 + len(added)
    for chunk, vector in added:  # each merged row kept its text, vector and day
        assert reread.passages([chunk[0]])[chunk[0]][0] == chunk[1]
        assert np.allclose(reread.vectors([chunk[0]])[chunk[0]], vector[0])
        assert reread.nearest(vector[0], 1, Filters())[0][0] == chunk[0]
    assert reread.search("pears from the depot in charlie", 1, Filters())[0][0] == "new2:0:0-5"
    assert reread.days_by_id()["new4:0:0-5"] == 1004
