"""The generative answer engine: an LCEL chain (prompt | chat model) over numbered passages.

standalone question → (retrieved passages, by the engine) → prompt from prompts/ → chat model
→ text with [n] markers → citations validated against the passages shown. Passages are
wrapped in <passage> delimiters as quoted data; the system prompt says they are not instructions.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from .answer_types import CANNOT_ANSWER, Answer
from .citations import MarkerStream, cite, terms
from .condense import carry_subject
from .config import Settings
from .embeddings import Embedder
from .llm import make_chat_model, stream_text, with_retries
from .prompts import load_prompt
from .retrieval import Passage

HISTORY_TURNS = 4  # earlier turns given to the condense prompt


def format_passages(passages: list[Passage]) -> str:
    """Numbered passages inside delimiters; a delimiter inside article text is neutralised."""
    blocks = []
    for n, p in enumerate(passages, start=1):
        text = re.sub(r"</?\s*passage", lambda m: m.group(0).replace("<", "&lt;"), p.text, flags=re.I)
        attributes = f'n="{n}" title="{_attr(p.title)}" date="{p.published or "unknown"}" source="{_attr(p.source)}"'
        blocks.append(f"<passage {attributes}>\n{text}\n</passage>")
    return "\n\n".join(blocks)


def _attr(value: str) -> str:
    return value.replace('"', "'").replace("<", "&lt;").replace("\n", " ")


def says_cannot_answer(text: str) -> bool:
    """The model used the sentinel (allowing for trailing punctuation or citation noise)."""
    core = CANNOT_ANSWER.rstrip(".").lower()
    return core in re.sub(r"\s+", " ", text.lower())


def answer_prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("system", load_prompt("answer_system")), ("human", load_prompt("answer_user"))]).partial(
        cannot_answer=CANNOT_ANSWER
    )


class LLMChain:
    """Answers (streaming) and condenses follow-ups with a chat model."""

    def __init__(self, settings: Settings, embedder: Embedder, model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.model = model or make_chat_model(settings)
        # LCEL: prompt | model; the model's stream is read by llm.stream_text (retries, markers).
        self.answer_chain = answer_prompt() | self.model
        self.condense_chain = ChatPromptTemplate.from_messages([("human", load_prompt("condense"))]) | self.model | StrOutputParser()

    def answer(
        self,
        question: str,
        standalone: str,
        passages: list[Passage],
        history: list[tuple[str, str]],
        on_token: Callable[[str], None] | None = None,
        weights: Callable[[str], float] | None = None,
    ) -> Answer:
        from .extractive import best_relevance

        if not passages or best_relevance(standalone, passages, self.embedder, weights) < self.settings.min_relevance:
            if on_token:
                on_token(CANNOT_ANSWER)
            return Answer(question, CANNOT_ANSWER, abstained=True, passages=passages, engine="llm")
        inputs = {"passages": format_passages(passages), "question": standalone}
        markers = MarkerStream(len(passages))

        def forward(piece: str) -> None:
            shown = markers.feed(piece)
            if on_token and shown:
                on_token(shown)

        raw = stream_text(self.answer_chain, inputs, self.settings, forward)
        tail = markers.close()
        if on_token and tail:
            on_token(tail)
        if says_cannot_answer(raw) or not raw.strip():
            return Answer(question, CANNOT_ANSWER, abstained=True, passages=passages, engine="llm")
        text, citations, dropped = cite(raw, passages)
        return Answer(question, text, abstained=False, citations=citations, passages=passages, dropped_markers=dropped, engine="llm")

    def condense(self, question: str, history: list[tuple[str, str]]) -> str:
        """A standalone version of a follow-up question; the offline rewrite when the model's is implausible."""
        turns = history[-HISTORY_TURNS:]
        transcript = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in turns)
        reply = with_retries(lambda: self.condense_chain.invoke({"history": transcript, "question": question}), self.settings)
        lines = reply.strip().strip('"').splitlines()
        rewrite = lines[0].strip() if lines else ""
        return rewrite if plausible_rewrite(rewrite, question) else carry_subject(question, [q for q, _ in history])


def plausible_rewrite(rewrite: str, question: str) -> bool:
    """A rewrite must keep the follow-up's own content words; small models sometimes answer instead of rewriting."""
    wanted = terms(question)
    return 3 <= len(rewrite) <= 500 and (not wanted or bool(wanted & terms(rewrite)))
