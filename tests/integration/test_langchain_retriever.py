"""The retriever as a LangChain BaseRetriever: it returns the passages `ask` would, and composes into an LCEL chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate

from assistant.config import Settings
from assistant.ingest import ingest
from assistant.langchain_retriever import AssistantRetriever

pytestmark = pytest.mark.integration
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_documents_are_the_retrieved_passages_and_compose_into_a_chain(tmp_path: Path) -> None:
    settings = Settings(index=tmp_path / "index", k=3)
    ingest([SEEDS], settings)
    retriever = AssistantRetriever.from_settings(settings)

    docs = retriever.invoke("How much has Microsoft invested in OpenAI?")
    assert len(docs) == 3
    assert "$13 billion" in docs[0].page_content
    for doc in docs:
        article = (SEEDS / f"{doc.metadata['article_id']}.txt").read_text(encoding="utf-8")
        assert article[doc.metadata["start"] : doc.metadata["end"]] == doc.page_content
        assert doc.id == doc.metadata["chunk_id"]

    prompt = ChatPromptTemplate.from_template("Context: {context}\nQuestion: {question}")
    seen: list[str] = []
    model = GenericFakeChatModel(messages=iter([AIMessage(content="About $13 billion.")]))
    chain = {"context": retriever | (lambda found: "\n\n".join(d.page_content for d in found)), "question": lambda q: q} | prompt | (lambda p: seen.append(p.to_string()) or p) | model
    assert chain.invoke("How much has Microsoft invested in OpenAI?").content == "About $13 billion."
    assert "$13 billion" in seen[0]
