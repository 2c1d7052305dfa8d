"""The peer baseline: what a user would otherwise copy, the LangChain RAG tutorial pipeline, run on the
same articles in the same process as the project.

``PeerBaseline``: RecursiveCharacterTextSplitter(1000, 200) chunks in a langchain-chroma store with the
project's embedder, similarity top-4, answered by the project's extractive answerer (so only chunking
and retrieval differ). ``TutorialLLMPeer``: the same retriever with the tutorial's own prompt and the
same chat model as the project (for `--llm` runs). Its index is kept between runs with the project's
manifest (store/manifest.py) and Chroma paging (store/chroma.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.answer import Answer
from assistant.answer.extractive import answer_extractively
from assistant.embeddings import Embedder
from assistant.ingest import commit_groups
from assistant.store import chroma
from assistant.store.manifest import ChromaManifestStore
from assistant.types import Article, Filters, Passage

History = list[tuple[str, str]]
Progress = Callable[[int, int], None]

PEER_DESCRIPTION = (
    "LangChain RAG tutorial pipeline: RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True) "
    "over each article's text, a Chroma collection (default settings) with the same local MiniLM embedder, similarity_search top-4; "
    "no hybrid search, re-ranking, date preference, follow-up rewriting or second retrieval in other words. Its answer comes from the same extractive answerer "
    "(assistant.answer.extractive, same min_relevance and term weights) over its 4 chunks, so the answerer is held equal and only "
    "chunking and retrieval differ. Its Hit@k and MRR use the same cut-offs over its similarity ranking."
)
# The LangChain RAG tutorial's prompt (LangChain hub "rlm/rag-prompt"), verbatim, one human message.
TUTORIAL_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved context to answer the question. "
    "If you don't know the answer, just say that you don't know. Use three sentences maximum and keep the answer concise.\n"
    "Question: {question} \nContext: {context} \nAnswer:"
)
TUTORIAL_LLM_DESCRIPTION = (
    "LangChain RAG tutorial chain with the same chat model: its own retriever (RecursiveCharacterTextSplitter 1000/200, Chroma, "
    "the same local MiniLM, similarity_search top-4), the hub prompt rlm/rag-prompt, context = the 4 chunks joined by blank lines, "
    "answer = the model's reply (no citations; \"don't know\" counts as declining). EM/F1 are scored on its whole reply, "
    "as it gives no separate short answer; the project's on its short answer."
)


class PeerBaseline:
    """The tutorial pipeline over the same articles, kept on disk between runs (a manifest says what is embedded)."""

    name = "langchain-rag-tutorial"
    description = PEER_DESCRIPTION
    CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 1000, 200, 4
    GROUP = 2048  # chunks embedded and committed together

    def __init__(
        self, persist_dir: Path, embedder: Embedder, min_relevance: float, weights: Callable[[str], float], depth: int = 10, collection: str = "rag_tutorial",
    ) -> None:
        import os

        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        self.path = Path(persist_dir)
        self.path.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.min_relevance = min_relevance
        self.weights = weights  # the project's term weights, so that the answerer is the same one
        self.depth = max(depth, self.TOP_K)
        self.signature = f"{embedder.name}:{self.CHUNK_SIZE}/{self.CHUNK_OVERLAP}"
        client = chromadb.PersistentClient(path=str(self.path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma(client=client, collection_name=collection, embedding_function=embedder)
        self.collection = client.get_collection(collection, embedding_function=None)  # the store's collection, for paging
        self.manifests = ChromaManifestStore(client, f"{collection}__manifest")
        self._cache: tuple[str, list[Passage]] | None = None

    def split(self, article: Article) -> list[Any]:
        """The tutorial's chunks of ``article``, as LangChain documents (``start_index`` made exact)."""
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=self.CHUNK_SIZE, chunk_overlap=self.CHUNK_OVERLAP, add_start_index=True)
        meta = {"article_id": article.id, "title": article.title, "source": article.source, "url": article.url, "published": article.published}
        docs = splitter.split_documents([Document(page_content=article.text, metadata=meta)])
        for doc in docs:  # start_index comes from str.find: make sure it points at the chunk
            start = doc.metadata["start_index"]
            if start < 0 or article.text[start : start + len(doc.page_content)] != doc.page_content:
                doc.metadata["start_index"] = max(article.text.find(doc.page_content), 0)
        return docs

    @staticmethod
    def _key(article_id: str, content_hash: str) -> str:
        return f"{article_id}:{content_hash[:12]}"  # the prefix of its chunk ids: which version of which article

    def sync(self, articles: list[Article], progress: Progress | None = None) -> dict[str, Any]:
        """Embed what is new or changed, drop what is gone; an unchanged corpus embeds nothing.

        Chunks already stored for an article's current version are adopted rather than embedded again
        (a crash mid-run, or a manifest lost), as `assistant ingest` does.
        """
        started = time.perf_counter()
        manifest = self.manifests.load()
        manifest.chunking = self.signature
        stored: dict[str, int] = {}
        for chunk_id in chroma.all_ids(self.collection):
            key = chunk_id.rsplit(":", 1)[0]
            stored[key] = stored.get(key, 0) + 1
        for article_id, entry in list(manifest.articles.items()):  # recorded but incomplete: embed again
            if stored.get(self._key(article_id, entry.hash), 0) != entry.chunks:
                manifest.forget(article_id)
        wanted = {a.id: a for a in articles}
        gone = [a for a, entry in manifest.articles.items() if a not in wanted or entry.hash != wanted[a].content_hash or entry.chunking != self.signature]
        for first in range(0, len(gone), 500):
            self.collection.delete(where={"article_id": {"$in": gone[first : first + 500]}})
        for article_id in gone:
            manifest.forget(article_id)
        todo = [a for a in articles if a.id not in manifest.articles]
        split = [(a, self.split(a)) for a in todo]
        for article, docs in split:
            if stored.get(self._key(article.id, article.content_hash), 0) == len(docs):
                manifest.record(article, len(docs))
        self.manifests.save(manifest)
        split = [(a, docs) for a, docs in split if a.id not in manifest.articles]
        total, done = sum(len(d) for _, d in split), 0
        if progress:
            progress(0, total)
        for group in commit_groups(split, self.GROUP):
            docs = [d for _, ds in group for d in ds]
            if docs:
                self.store.add_documents(docs, ids=[f"{self._key(a.id, a.content_hash)}:{d.metadata['start_index']}" for a, ds in group for d in ds])
            for article, ds in group:
                manifest.record(article, len(ds))
            self.manifests.save(manifest)
            done += len(docs)
            if progress:
                progress(done, total)
        return {
            "articles": len(manifest.articles), "chunks": self.collection.count(), "articles_embedded": len(split),
            "chunks_embedded": total, "removed": len([a for a in gone if a not in wanted]), "seconds": round(time.perf_counter() - started, 2),
        }

    def rank(self, question: str, depth: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """Its similarity ranking (the tutorial ignores dates and sources)."""
        depth = depth or self.depth
        if self._cache and self._cache[0] == question and len(self._cache[1]) >= depth:
            return self._cache[1][:depth]
        passages = []
        for doc, distance in self.store.similarity_search_with_score(question, k=depth):
            start, similarity = int(doc.metadata.get("start_index", 0)), 1.0 - float(distance) / 2  # squared L2 of unit vectors → cosine
            passages.append(Passage.of(str(doc.id), doc.page_content, {**doc.metadata, "start": start, "end": start + len(doc.page_content)}, score=similarity, dense=similarity))
        self._cache = (question, passages)
        return passages

    def ask(self, question: str, filters: Filters | None = None, history: History | None = None) -> Answer:
        """The tutorial's retrieve-then-answer, with the project's extractive answerer; history is ignored."""
        started = time.perf_counter()
        passages = self.rank(question, self.depth)[: self.TOP_K]
        retrieved = time.perf_counter()
        answer = answer_extractively(question, passages, self.embedder, self.min_relevance, self.weights)
        answer.question = answer.standalone_question = question
        done = time.perf_counter()
        answer.timings_ms = {"retrieve": (retrieved - started) * 1000, "answer": (done - retrieved) * 1000, "first_token": (done - started) * 1000}
        return answer


class TutorialLLMPeer:
    """The tutorial's retrieve-then-generate chain (``prompt | model``) over the peer's retriever."""

    name = "langchain-rag-tutorial-llm"
    description = TUTORIAL_LLM_DESCRIPTION

    def __init__(self, retriever: PeerBaseline, model: Any, settings: Any) -> None:
        from langchain_core.prompts import ChatPromptTemplate

        self.retriever = retriever
        self.settings = settings
        self.chain = ChatPromptTemplate.from_messages([("human", TUTORIAL_PROMPT)]) | model

    def rank(self, question: str, depth: int | None = None, filters: Filters | None = None) -> list[Passage]:
        return self.retriever.rank(question, depth, filters)

    def ask(self, question: str, filters: Filters | None = None, history: History | None = None) -> Answer:
        from assistant.answer.models import stream_text

        started = time.perf_counter()
        passages = self.retriever.rank(question, self.retriever.depth)[: PeerBaseline.TOP_K]
        retrieved = time.perf_counter()
        first: list[float] = []
        text = stream_text(self.chain, {"question": question, "context": "\n\n".join(p.text for p in passages)}, self.settings,
                           lambda piece: first.append(time.perf_counter()) if not first and piece.strip() else None).strip()
        done = time.perf_counter()
        declined = not text or re.search(r"\b(don't|do not) know\b", text, re.I) is not None
        answer = Answer(question, text, abstained=declined, passages=passages, engine="tutorial-llm", short_answer=text)
        answer.standalone_question = question
        answer.timings_ms = {"retrieve": (retrieved - started) * 1000, "answer": (done - retrieved) * 1000,
                             "first_token": ((first[0] if first else done) - started) * 1000}
        return answer
