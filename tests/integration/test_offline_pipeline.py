"""The offline path end to end: real Chroma on disk, the real local MiniLM, BM25 sidecar, manifest."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from assistant.answer import CANNOT_ANSWER
from assistant.config import Settings
from assistant.engine import Assistant
from assistant.errors import EmptyIndexError, IndexMismatchError, InputError
from assistant.ingest import IngestReport, ingest
from assistant.maintenance import check, status
from assistant.store.chroma import all_ids, documents
from assistant.store.index import Index

pytestmark = pytest.mark.integration

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))
MICROSOFT_QUESTION = "How much has Microsoft invested in OpenAI?"


def file_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def copy_seeds(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for path in SEED_FILES:
        (folder / path.name).write_bytes(path.read_bytes())  # not shutil.copy: one seed is read-only
    return folder


def chunk_ids_of(index: Index, article_id: str) -> set[str]:
    return set(index.collection.get(where={"article_id": article_id}, include=[])["ids"])


@dataclass
class Built:
    settings: Settings
    index: Index
    report: IngestReport


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Built:  # type: ignore[no-untyped-def]
    settings = Settings(index=tmp_path_factory.mktemp("seed-index") / "index")
    index = Index(settings, embedder, create=True)
    report = ingest([SEEDS], settings, index=index)
    return Built(settings, index, report)


@pytest.fixture(scope="module")
def assistant(seed_index: Built) -> Assistant:
    return Assistant(seed_index.settings, index=seed_index.index)


def fresh(tmp_path: Path, embedder) -> tuple[Settings, Index, Path]:  # type: ignore[no-untyped-def]
    """A private copy of the seeds and an empty index of its own, for tests that change files."""
    folder = copy_seeds(tmp_path / "articles")
    settings = Settings(index=tmp_path / "index")
    return settings, Index(settings, embedder, create=True), folder


# --- ingest ------------------------------------------------------------------------


def test_seed_count_is_what_the_folder_holds() -> None:
    assert len(SEED_FILES) >= 2


def test_ingest_seeds_counts(seed_index: Built) -> None:
    report, index = seed_index.report, seed_index.index
    assert (report.added, report.updated, report.unchanged, report.removed) == (len(SEED_FILES), 0, 0, 0)
    assert report.problems == []
    assert report.chunks_embedded >= len(SEED_FILES)
    assert index.collection.count() == report.chunks_embedded
    assert index.manifest.chunk_count == report.chunks_embedded
    assert sorted(index.manifest.articles) == sorted(p.stem for p in SEED_FILES)
    summary = report.summary()
    assert summary["skipped"] == [] and summary["warnings"] == []


def test_index_is_consistent_after_ingest(seed_index: Built) -> None:
    assert check(seed_index.index) == []
    info = status(seed_index.index)
    assert info.articles == len(SEED_FILES)
    assert info.chunks == seed_index.report.chunks_embedded
    assert info.bm25_fresh is True
    assert info.embedding_model == "all-MiniLM-L6-v2-onnx-int8"
    assert info.size_bytes > 0


def test_stored_chunks_slice_their_article(seed_index: Built) -> None:
    texts = {p.stem: file_text(p) for p in SEED_FILES}
    seen = 0
    for chunk_id, document, meta in documents(seed_index.index.collection):
        article = texts[meta["article_id"]]
        assert article[meta["start"] : meta["end"]] == document
        assert chunk_id.startswith(f"{meta['article_id']}:")
        seen += 1
    assert seen == seed_index.report.chunks_embedded


def test_reingest_embeds_nothing(seed_index: Built, embedder) -> None:  # type: ignore[no-untyped-def]
    reopened = Index(seed_index.settings, embedder)  # as a second run would: a new Index on the same directory
    before = set(all_ids(reopened.collection))
    digest = reopened.manifest.digest()

    report = ingest([SEEDS], seed_index.settings, index=reopened)

    assert report.chunks_embedded == 0
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 0, len(SEED_FILES), 0)
    assert set(all_ids(reopened.collection)) == before
    assert reopened.manifest.digest() == digest
    assert check(reopened) == []


def test_modified_file_replaces_its_chunks(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings, index, folder = fresh(tmp_path, embedder)
    ingest([folder], settings, index=index)
    target = folder / SEED_FILES[1].name
    article_id = target.stem
    old_ids = chunk_ids_of(index, article_id)
    other_ids = set(all_ids(index.collection)) - old_ids
    assert old_ids

    target.write_text(file_text(target) + "\nA late correction: the figure was revised on Tuesday.\n", encoding="utf-8")
    report = ingest([folder], settings, index=index)

    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, len(SEED_FILES) - 1, 0)
    new_ids = chunk_ids_of(index, article_id)
    assert report.chunks_embedded == len(new_ids) > 0
    assert not old_ids & set(all_ids(index.collection)), "the old chunks of the changed article are gone"
    assert other_ids <= set(all_ids(index.collection)), "other articles are untouched"
    stored = index.collection.get(ids=sorted(new_ids), include=["documents"])["documents"]
    assert any("late correction" in doc for doc in stored)
    assert check(index) == []


def test_deleted_file_is_removed_only_with_prune(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings, index, folder = fresh(tmp_path, embedder)
    ingest([folder], settings, index=index)
    victim = folder / SEED_FILES[2].name
    victim_ids = chunk_ids_of(index, victim.stem)
    assert victim_ids
    victim.unlink()

    kept = ingest([folder], settings, index=index)
    assert kept.removed == 0
    assert chunk_ids_of(index, victim.stem) == victim_ids

    pruned = ingest([folder], settings, index=index, prune=True)
    assert (pruned.added, pruned.updated, pruned.unchanged, pruned.removed) == (0, 0, len(SEED_FILES) - 1, 1)
    assert pruned.chunks_embedded == 0
    assert chunk_ids_of(index, victim.stem) == set()
    assert not victim_ids & set(all_ids(index.collection))
    assert victim.stem not in index.manifest.articles
    assert check(index) == []
    index.sidecar.close()
    assert sorted(index.sidecar.live_ids()) == sorted(all_ids(index.collection))  # the sidecar no longer has it


def test_bad_file_in_folder_is_skipped_rest_ingested(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings, index, folder = fresh(tmp_path, embedder)
    (folder / "corrupt.txt").write_bytes(b"\x00\x01\x02\xff" * 100)

    report = ingest([folder], settings, index=index)

    assert report.added == len(SEED_FILES)
    fatal = [p for p in report.problems if p.fatal]
    assert len(fatal) == 1 and fatal[0].path.endswith("corrupt.txt") and "binary" in fatal[0].message
    assert report.summary()["skipped"] == [str(fatal[0])]
    assert "corrupt" not in index.manifest.articles
    assert check(index) == []


def test_nothing_usable_raises_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="nothing to ingest"):
        ingest([tmp_path / "empty.txt"], Settings(index=tmp_path / "index"))
    assert not (tmp_path / "index").exists()


# --- ask ---------------------------------------------------------------------------


def test_answer_about_microsoft_investment_is_cited_verbatim(assistant: Assistant) -> None:
    answer = assistant.ask(MICROSOFT_QUESTION)

    assert answer.abstained is False
    assert answer.engine == "extractive"
    assert "$13 billion" in answer.text
    assert answer.citations
    assert answer.passages and len(answer.passages) <= assistant.settings.k
    for citation in answer.citations:
        article = file_text(SEEDS / citation.passage.source)
        assert citation.quote == article[citation.start : citation.end]
        assert citation.passage is answer.passages[citation.n - 1]
        assert f"[{citation.n}]" in answer.text
    assert any("$13 billion" in c.quote for c in answer.citations)
    data = answer.to_json()
    assert data["answer"] == answer.text and len(data["citations"]) == len(answer.citations)


def test_passages_are_article_slices(assistant: Assistant) -> None:
    answer = assistant.ask("Who founded Mistral AI?")
    assert answer.passages
    for p in answer.passages:
        assert file_text(SEEDS / p.source)[p.start : p.end] == p.text


def test_unanswerable_question_abstains(assistant: Assistant) -> None:
    answer = assistant.ask("What is the capital of Peru?")
    assert answer.abstained is True
    assert answer.text == CANNOT_ANSWER
    assert answer.citations == []


def test_a_folder_of_one_article_answers_a_question_in_other_words(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Seed q25 over the Bloomberg article alone, which says "financing", never "funding": the question's
    own words find no support, the second pass (WordNet's words for "funding") quotes the valuation."""
    question = "What valuation did the funding round that included Salesforce and Nvidia give Mistral?"
    settings = Settings(index=tmp_path / "index")
    index = Index(settings, embedder, create=True)
    ingest([SEEDS / "000_14502852d82c6bda.txt"], settings, index=index)

    answer = Assistant(settings, index=index).ask(question)
    assert not answer.abstained
    assert answer.short_answer == "$2 billion"
    assert [c.quote for c in answer.citations] == ["The financing valued the firm at about $2 billion."]
    assert answer.retrieved == answer.passages  # those of the second retrieval, the ones cited
    assert Assistant(settings.model_copy(update={"other_words": False}), index=index).ask(question).abstained


def test_follow_up_is_rewritten_offline(assistant: Assistant) -> None:
    answer = assistant.ask("How much did it invest?", history=[("Which company has invested most in OpenAI?", "Microsoft.")])
    assert answer.standalone_question == "How much did it invest? (OpenAI; Microsoft)"
    assert answer.question == "How much did it invest?"


@pytest.mark.parametrize("question", ["", "   \n"])
def test_empty_question_is_an_input_error(assistant: Assistant, question: str) -> None:
    with pytest.raises(InputError, match="empty"):
        assistant.ask(question)


def test_assistant_on_missing_index_is_empty_index_error(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(index=tmp_path / "nothing-here")
    with pytest.raises(EmptyIndexError):
        Assistant(settings)
    with pytest.raises(EmptyIndexError):
        Index(settings, embedder)
    assert not (tmp_path / "nothing-here").exists()


# --- embedding model guard ---------------------------------------------------------


class OtherEmbedder(Embeddings):
    """Any embedder whose ``name`` differs from the one the index was built with."""

    name = "some-other-model"
    dimension = 384

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[0.0] * self.dimension for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [0.0] * self.dimension


def test_other_embedding_model_is_refused(seed_index: Built) -> None:
    with pytest.raises(IndexMismatchError) as info:
        Index(seed_index.settings, OtherEmbedder())
    message = str(info.value)
    assert "all-MiniLM-L6-v2-onnx-int8" in message and "some-other-model" in message
    assert info.value.exit_code == 4
    assert check(seed_index.index) == []  # nothing was touched
    assert status(seed_index.index).embedding_model == "all-MiniLM-L6-v2-onnx-int8"


def test_other_embedding_model_is_refused_on_a_copy_too(seed_index: Built, tmp_path: Path) -> None:
    """The model is recorded in the index itself (Chroma), so a copied index keeps refusing."""
    copy = tmp_path / "index"
    shutil.copytree(seed_index.settings.index, copy)
    with pytest.raises(IndexMismatchError):
        Index(Settings(index=copy), OtherEmbedder())
