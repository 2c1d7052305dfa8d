"""The generative answer engine: an LCEL chain (prompt | chat model) over numbered passages.

standalone question → (retrieved passages, by the engine) → prompt from prompts/ → chat model
→ "short answer" line + supporting sentences with [n] markers → validated before it is shown:
a reply without words (only markers, whitespace, the question repeated) gets one corrective retry,
then the extractive answer (engine "extractive-fallback"); markers are checked against the passages
shown, and each sentence is scored for support by the passage it cites (evidence.claim_similarity).
Passages are wrapped in <passage> delimiters as quoted data; the system prompt says they are not
instructions.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from .answer_types import CANNOT_ANSWER, Answer, SentenceCheck
from .bm25 import tokenize
from .chunking import split_sentences
from .citations import MARKER, MarkerStream, Validated, check_sentences, citations_for, retarget, terms, validate
from .condense import carry_subject
from .config import Settings
from .embeddings import Embedder
from .evidence import SUPPORT_BAR, TermWeights, claim_similarity, mentions, support_scores
from .llm import make_chat_model, stream_text, with_retries
from .prompts import load_prompt
from .retrieval import Passage

if TYPE_CHECKING:
    from .extractive import Candidate

HISTORY_TURNS = 4  # earlier turns given to the condense prompt
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:short answer|answer|line 1|first line)\s*[:\-]\s*(?:\*\*)?\s*", re.I)
Weights = Callable[[str], float]


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


def has_answer_words(reply: str, question: str) -> bool:
    """False for a reply with no words of its own: only markers, punctuation, or the question repeated."""
    words = re.findall(r"\w+", MARKER.sub(" ", _LABEL.sub("", reply)).lower())
    return bool(words) and words != re.findall(r"\w+", question.lower())


def short_answer(text: str) -> str:
    """The direct answer: the first sentence of the reply's first line (the prompt asks for the short
    answer alone there); markers, a leading "Answer:" and a trailing full stop removed."""
    lines = [line for line in text.splitlines() if MARKER.sub("", line).strip()]
    if not lines:
        return ""
    first = re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", _LABEL.sub("", lines[0]))).strip()
    spans = split_sentences(first)
    first = first[spans[0][0] : spans[0][1]] if spans else first
    return first.strip().rstrip(".").strip()


def answer_span(line: str, question: str) -> str:
    """The answer inside a first line that restates the question ("The Colorado Avalanche won the 2022
    NHL Stanley Cup Finals" for "Which team won the 2022 NHL Stanley Cup Finals?" → "Colorado Avalanche"):
    the first run of its words that are neither the question's nor stop words. A line that mostly does
    not restate the question is returned whole."""
    words = line.split()
    asked = terms(question)
    content = [w for w in words if tokenize(w)]
    restated = [w for w in content if terms(w) <= asked]
    if len(words) < 5 or len(restated) < max(2, len(content) / 2):
        return line
    run: list[str] = []
    for word in words:
        bare = word.strip(".,;:!?\"'()\u201c\u201d\u2018\u2019")
        if bare and tokenize(bare) and not terms(bare) <= asked:
            run.append(bare if not run else word.rstrip(".,;:!?"))
        elif run and (not tokenize(bare) and bare.lower() in ("of", "and", "de", "the", "&") and word is not words[-1]):
            run.append(word)  # "Bank of America", "Bed Bath & Beyond"
        elif run:
            break
    while run and not tokenize(run[-1]):
        run.pop()
    return " ".join(run) or line


def supporting_passages(passages: list[Passage], candidates: list[Candidate], support: list[float], ratio: float) -> list[Passage]:
    """The passages whose best sentence's support is at least ``ratio`` of the best of all, in rank order."""
    best: dict[int, float] = {}
    for candidate, score in zip(candidates, support, strict=True):
        best[candidate.n] = max(best.get(candidate.n, 0.0), score)
    top = max(best.values(), default=0.0)
    return [p for n, p in enumerate(passages, start=1) if best.get(n, 0.0) >= ratio * top] or passages


def trim_passages(passages: list[Passage], candidates: list[Candidate], support: list[float], sentences: int) -> list[Passage]:
    """Each passage cut to ``sentences`` consecutive sentences around its best-supported one (by
    ``support`` of its ``candidates``); still a verbatim slice of its article."""
    best: dict[int, tuple[float, int]] = {}
    for candidate, score in zip(candidates, support, strict=True):
        if score > best.get(candidate.n, (-1.0, 0))[0]:
            best[candidate.n] = (score, candidate.start - candidate.passage.start)
    trimmed = []
    for n, passage in enumerate(passages, start=1):
        spans = split_sentences(passage.text)
        if len(spans) <= sentences:
            trimmed.append(passage)
            continue
        at = best.get(n, (0.0, 0))[1]
        centre = next((i for i, (start, end) in enumerate(spans) if start <= at < end), 0)
        first = min(max(0, centre - (sentences - 1) // 2), len(spans) - sentences)
        start, end = spans[first][0], spans[first + sentences - 1][1]
        trimmed.append(replace(passage, start=passage.start + start, end=passage.start + end, text=passage.text[start:end]))
    return trimmed


def display_date(day: date) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def answer_prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("system", load_prompt("answer_system")), ("human", load_prompt("answer_user"))]).partial(
        cannot_answer=CANNOT_ANSWER
    )


def retry_prompt() -> ChatPromptTemplate:
    """The answer prompt, the model's wordless reply, and a corrective message."""
    return ChatPromptTemplate.from_messages(
        [("system", load_prompt("answer_system")), ("human", load_prompt("answer_user")), ("ai", "{previous}"), ("human", load_prompt("answer_retry"))]
    ).partial(cannot_answer=CANNOT_ANSWER)


class WordGate:
    """Holds streamed text back until it contains a word, so a wordless reply is never shown."""

    def __init__(self, emit: Callable[[str], None] | None) -> None:
        self.emit = emit
        self.held = ""
        self.open = False
        self.first_shown: float | None = None  # time.perf_counter() of the first text shown

    def feed(self, text: str) -> None:
        if not text:
            return
        if not self.open:
            self.held += text
            if not re.search(r"[^\W_]", MARKER.sub("", self.held)):
                return
            text, self.held, self.open = self.held, "", True
        if self.first_shown is None:
            self.first_shown = time.perf_counter()
        if self.emit:
            self.emit(text)


class LLMChain:
    """Answers (streaming) and condenses follow-ups with a chat model."""

    def __init__(self, settings: Settings, embedder: Embedder, model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.model = model or make_chat_model(settings)
        # LCEL: prompt | model; the model's stream is read by llm.stream_text (retries, markers).
        self.answer_chain = answer_prompt() | self.model
        self.retry_chain = retry_prompt() | self.model
        self.condense_chain = ChatPromptTemplate.from_messages([("human", load_prompt("condense"))]) | self.model | StrOutputParser()

    def answer(
        self,
        question: str,
        standalone: str,
        passages: list[Passage],
        history: list[tuple[str, str]],
        on_token: Callable[[str], None] | None = None,
        weights: Weights | None = None,
        today: date | None = None,
    ) -> Answer:
        from .extractive import SENTENCE_BUDGET, answer_extractively, candidate_sentences

        started = time.perf_counter()
        candidates = candidate_sentences(passages)
        support = support_scores(standalone, [(c.text, c.passage) for c in candidates], self.embedder, weights or TermWeights.uniform(), SENTENCE_BUDGET)
        if not passages or max(support, default=0.0) < self.settings.min_relevance:
            if on_token:
                on_token(CANNOT_ANSWER)
            return Answer(question, CANNOT_ANSWER, abstained=True, passages=passages, engine="llm")
        # The prompt is most of a local model's time: show it the passages that can answer.
        if self.settings.prompt_support_ratio:
            passages = supporting_passages(passages, candidates, support, self.settings.prompt_support_ratio)
        if self.settings.passage_sentences:
            passages = trim_passages(passages, candidates, support, self.settings.passage_sentences)
        inputs = {"passages": format_passages(passages), "question": standalone, "today": display_date(today or date.today())}
        gate = WordGate(on_token)
        raw = self._reply(self.answer_chain, inputs, len(passages), gate)
        if not says_cannot_answer(raw) and not has_answer_words(raw, standalone):
            gate.held = ""  # the wordless reply is never shown
            raw = self._reply(self.retry_chain, {**inputs, "previous": raw}, len(passages), gate)
        timings = {"first_token": ((gate.first_shown or time.perf_counter()) - started) * 1000}
        if says_cannot_answer(raw):
            return Answer(question, CANNOT_ANSWER, abstained=True, passages=passages, engine="llm", timings_ms=timings)
        if not has_answer_words(raw, standalone):  # twice without words: the extractive answer, flagged
            fallback = answer_extractively(standalone, passages, self.embedder, self.settings.min_relevance, weights)
            fallback.question, fallback.engine = question, "extractive-fallback"
            gate.feed(fallback.text)
            fallback.timings_ms = {"first_token": ((gate.first_shown or time.perf_counter()) - started) * 1000}
            return fallback
        return self._cited(question, standalone, raw, passages, weights, timings)

    def _cited(self, question: str, standalone: str, raw: str, passages: list[Passage], weights: Weights | None, timings: dict[str, float]) -> Answer:
        """Citations for the reply's markers, and each sentence's support by what it cites.

        The short-answer line ("Colombia") is scored as the question answered by it, so that its quote
        is the sentence that answers the question, and it counts as supported only if its words occur
        in what it cites.
        """
        similarity = claim_similarity(self.embedder, weights or TermWeights.uniform())
        checked = validate(raw, len(passages))
        short = short_answer(checked.text)
        direct = answer_span(short, standalone)

        def scored(v: Validated) -> Validated:
            if not v.claims or v.claims[0][0].rstrip(".") != short:
                return v
            return replace(v, claims=[(f"{standalone} {short}", v.claims[0][1]), *v.claims[1:]])

        moved_to, moved = retarget(scored(checked), passages, similarity, SUPPORT_BAR)
        if moved:
            checked = validate(moved_to.text, len(passages))
            checked.dropped = moved_to.dropped
        citations = citations_for(scored(checked), passages, similarity)
        sentences = check_sentences(scored(checked), citations, passages, similarity, SUPPORT_BAR)
        if sentences and scored(checked) is not checked:  # the short-answer line, as written, checked by its words
            first = sentences[0]
            quotes = [c.quote for c in citations if c.n in first.citations] or [c.quote for c in citations] or [p.text for p in passages]
            support = mentions(short, quotes)
            sentences[0] = SentenceCheck(checked.claims[0][0], first.start, first.end, first.citations, support, support >= SUPPORT_BAR)
        return Answer(
            question, checked.text, abstained=False, citations=citations, passages=passages, dropped_markers=checked.dropped,
            moved_markers=moved, engine="llm", timings_ms=timings, short_answer=direct, sentences=sentences,
        )

    def _reply(self, chain: object, inputs: dict[str, str], passage_count: int, gate: WordGate) -> str:
        """The model's streamed reply; shown through the marker filter and the word gate."""
        markers = MarkerStream(passage_count)
        raw = stream_text(chain, inputs, self.settings, lambda piece: gate.feed(markers.feed(piece)))
        gate.feed(markers.close())
        return raw

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
