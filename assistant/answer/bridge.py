"""Questions that name a thing by what it did ("the company that unveiled Mistral Large"): the thing
is found first, then the question is asked about it.

Offline, the sentence that identifies the thing and the sentence that answers are usually two (often
in two articles), and no single sentence supports the whole question: quoting the best one answers
the description ("…the company also unveiled a model, called Mistral Large…") instead of the question
("Under what license did it release its first model?"). So the relative clause is asked on its own
("Which company that unveiled Mistral Large?"); each name its best sentences give (the bridge) is put
in the clause's place, and the rewritten question ("Under what license did Mistral AI release its
first model?") is answered from the same passages. Where the clause ends is not parsed: each end is
tried, and the pair of sentences that support their halves best wins. Two hops only when one will
not do: not when the identifying sentence also says what is asked about the thing, nor when the
rewritten question is answered as well by that sentence or the one-hop answer's; and the answer
about a thing is never the thing (measured: eval/reports/seed-offline.md, multi-sentence questions).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..embeddings import TextEmbeddings
from ..timeframe import RELATIVE_WORDS
from ..tokens import STOPWORDS, terms
from ..types import Passage
from .spans import answer_kind, short_span, spans_of_kind
from .support import Candidate, answer_description, scored_candidates

# "the <up to three words> that|who|whose <clause>": "the company that announced…", "the Microsoft
# executive who outlined…". Not "which": in questions it is nearly always "of which country".
RELATIVE = re.compile(r"\bthe ((?:[\w’'-]+ ){0,2}[\w’'-]+) (that|who|whose) ", re.I)
NOT_ASKED = terms("what which who whom whose name called " + " ".join(RELATIVE_WORDS))  # left of a question, these ask nothing
FIRST_HOPS = 2  # sentences tried as the one identifying the thing, best first
MIN_CLAUSE = 2  # words


@dataclass(frozen=True)
class Hop:
    """A two-sentence answer: ``first`` names what the clause describes, ``second`` answers the question
    rewritten about it with ``short``; ``score`` is the product of their supports."""

    first: Candidate
    second: Candidate
    short: str
    score: float


def splits(question: str) -> list[tuple[str, Callable[[str], str]]]:
    """Each way to cut the question's relative clause: (the clause as a question, the question about a
    bridge); none when it has no clause or nothing would be left to ask."""
    # The last clause: in "…the engineers who formed the startup whose models…" it is the innermost,
    # and the question rewritten about its bridge still reads ("…the engineers who formed Mistral AI?").
    found = next(reversed(list(RELATIVE.finditer(question))), None)
    if not found or found.group(1).split()[-1].lower() in STOPWORDS:
        return []
    head, pronoun = found.group(1), found.group(2)
    before = question[: found.start()]
    words = question[found.end() :].rstrip(" ?").split()
    # "What did [the company that …] unveil?": after do-support the question goes on with a bare verb.
    do_support = bool(DO.search(before))
    result: list[tuple[str, Callable[[str], str]]] = []
    for end in range(MIN_CLAUSE, len(words) + (not do_support)):  # after do-support the main verb must remain
        if end < len(words) and not _may_end_clause(words[end - 1], words[end], do_support):
            continue
        rest = " ".join(words[end:])
        if not terms(f"{before} {rest}") - NOT_ASKED:
            continue  # "What is the name of the storm that…": the thing is the answer, nothing to ask about it
        clause = f"Which {head} {pronoun} {' '.join(words[:end])}?"
        result.append((clause, _about(before, rest)))
    return result


def _about(before: str, rest: str) -> Callable[[str], str]:
    """The question with a bridge in its clause's place."""
    return lambda bridge: f"{before}{bridge} {rest}".rstrip() + "?"


DO = re.compile(r"\b(?:did|does|do|will|would|can|could|should)\b", re.I)
DETERMINERS = frozenset("a an the his her its their this that these those our your my".split())


def _may_end_clause(last: str, following: str, do_support: bool) -> bool:
    """Whether the clause can end between ``last`` and ``following``: the question goes on with a
    lower-case word (after do-support, a bare verb: not "-ed"), and the clause does not end on a
    determiner or a number ("a | strategic partnership", "$2 | billion")."""
    if not following.isalpha() or not following.islower() or last.lower() in DETERMINERS or any(ch.isdigit() for ch in last):
        return False
    return not (do_support and (following.endswith("ed") or following in STOPWORDS))


def bridges(question: str, sentence: Candidate) -> list[str]:
    """The names in ``sentence`` that could be what the clause describes: any but those the question
    itself names ("Mistral" may be what "the company that unveiled Mistral Large" describes)."""
    named = [terms(question[s:e]) for s, e in spans_of_kind("name", question)]
    names = (sentence.text[s:e] for s, e in spans_of_kind("name", sentence.text, sentence.passage.text))
    return list(dict.fromkeys(name for name in names if terms(name) and terms(name) not in named))


def answer_in_two_hops(
    question: str, passages: list[Passage], embedder: TextEmbeddings, weights: Callable[[str], float], min_relevance: float, direct: Candidate | None
) -> Hop | None:
    """The best-supported pair of sentences for a question with a relative clause, or None.

    ``direct`` is the sentence that best supports the whole question: a rewritten question it answers
    as well as any other sentence does is no reason to look further ("What valuation did the funding
    round that included Salesforce and Nvidia give Mistral?": the round's sentence gives the valuation)."""
    cuts = splits(question)
    if not cuts:
        return None
    remembered = _Remembered(embedder)  # the same sentences are scored against every cut
    best: Hop | None = None
    for clause, about in cuts:
        firsts = sorted(scored_candidates(clause, passages, remembered, weights, focus=True), key=lambda sc: -sc[0])[:FIRST_HOPS]
        for first_score, first in firsts:
            if first_score < min_relevance:
                break
            if _covers(first.text, about(""), question, weights):
                continue  # it names the thing and says what is asked about it: one hop, not two
            for bridge in bridges(question, first):
                asked = about(bridge)
                kind = answer_kind(asked)
                scored = scored_candidates(asked, passages, remembered, weights, focus=True)
                bar = max((score for score, c in scored if c.text in (first.text, direct and direct.text)), default=0.0)
                for score, second in scored:
                    combined = first_score * score
                    if score < max(min_relevance, bar) or score == bar or (best and combined <= best.score):
                        continue
                    if not _names(bridge, f"{second.passage.title} {second.passage.text}", weights):
                        continue  # the answer must be about the bridge
                    short = short_span(asked, second.text, second.passage.text)
                    if kind and not short or terms(short) & terms(bridge):
                        continue  # the answer about a thing is not the thing
                    best = Hop(first, second, short, combined)
    return best


BRIDGE_NAMED = 0.5  # the share of a bridge's term weight a passage must have to be about it


def _names(bridge: str, text: str, weights: Callable[[str], float]) -> bool:
    """Whether ``text`` names ``bridge`` by the words that carry it: "Mistral, formed in early 2023…" is
    about "Mistral AI" without saying "AI"; a passage saying only "AI" is not."""
    return _weight_share(terms(bridge), text, weights) >= BRIDGE_NAMED


MAIN_COVERED = 0.5  # the share of the question's own predicate a sentence must have to be answering it


def _covers(sentence: str, main: str, question: str, weights: Callable[[str], float]) -> bool:
    """Whether ``sentence`` has most of ``main``'s words (the question less its clause and the words
    describing the answer): "Which venture firm led [the round that…]?" and "The round was led by…"."""
    return _weight_share(terms(main) - answer_description(question), sentence, weights) >= MAIN_COVERED


def _weight_share(wanted: set[str], text: str, weights: Callable[[str], float]) -> float:
    """The share of the ``wanted`` terms' weight that ``text`` has (0 when they weigh nothing)."""
    total = sum(weights(t) for t in wanted)
    return sum(weights(t) for t in wanted & terms(text)) / total if total else 0.0


class _Remembered:
    """An embedder that embeds each text once: the clause's and the rewritten questions' scoring
    embed the same passage sentences again and again."""

    def __init__(self, embedder: TextEmbeddings) -> None:
        self._embedder = embedder
        self._vectors: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed_documents(missing)))
        return [self._vectors[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
