"""The retriever as a LangChain ``BaseRetriever``, so that it composes into anyone's chain.

    from assistant.langchain_retriever import AssistantRetriever
    retriever = AssistantRetriever.from_settings(load_settings(index=Path("~/news-index").expanduser()))
    chain = {"context": retriever, "question": RunnablePassthrough()} | prompt | model

Each document is one passage: its text, and its article, title, source, date, offsets and score as
metadata (``chunk_id`` as the document id). Out of scope: answering (the chain you compose is yours).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .config import Settings
from .embeddings import make_embedder
from .retrieval import Retriever
from .store.index import Index
from .types import Filters


class AssistantRetriever(BaseRetriever):
    """Hybrid retrieval over an `assistant` index (dense + BM25, time frames, de-duplication)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    retriever: Retriever
    k: int = 5
    filters: Filters | None = None  # as_of, since/until, source; None: as asked today

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> AssistantRetriever:
        """Open the index ``settings`` name (as `assistant ask` would)."""
        return cls(retriever=Retriever(Index(settings, make_embedder(settings)), settings), k=settings.k, **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        passages = self.retriever.retrieve(query, self.k, self.filters)
        return [
            Document(
                id=p.chunk_id, page_content=p.text,
                metadata={"chunk_id": p.chunk_id, "article_id": p.article_id, "title": p.title, "source": p.source, "url": p.url,
                          "published": p.published, "start": p.start, "end": p.end, "score": p.score},
            )
            for p in passages
        ]
