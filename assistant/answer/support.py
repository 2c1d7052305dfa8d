"""How well a retrieved sentence supports a question, or an answer sentence a claim: the score both
answer engines abstain on and generated sentences are checked with.

No NLI or QA model ships on PyPI, so support is three cheap signals:
- dense similarity of question and sentence (the local MiniLM),
- IDF-weighted coverage of the question's terms by the sentence and its article title
  (rare words such as "revenue" or "Activision" must be there; "Microsoft" matters less),
- answer-type checks: "how many X" needs a number and X; "when" needs a date, "how much money"
  an amount (spans.py); names in the question (Sam Altman) must occur in the sentence's passage;
- a focus check: a sentence that shares none of the question's terms beyond its subject (the
  names most retrieved passages share: "Mistral AI" in "When does Mistral AI plan to go public?"),
  its time words ("this week", "in 2023") and the words describing the answer ("which head of
  state") supports it only when its dense similarity is high enough to be saying it in other words.
  Words the story shares that are not names ("plunged into chaos") are still what is asked;
- a sentence with no word the question lacks restates it (a quiz's preamble) and supports nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from ..chunking import is_sentence, split_sentences
from ..embeddings import TextEmbeddings
from ..timeframe import RELATIVE_WORDS
from ..tokens import STOPWORDS, SUFFIXES, stem, terms, tokenize
from ..types import Passage
from .related import RelatedWords
from .spans import NUMBER_WORDS, answer_kind, has_span, short_span

DENSE_WEIGHT = 0.5
# The noun phrase after "how many", up to a function word: its last word is what is counted
# ("how many positive monkeypox cases are…" counts cases, not "positive").
HOW_MANY = re.compile(r"\bhow many ((?:[\w-]+ )*?[\w-]+)(?= (?:" + "|".join(sorted(STOPWORDS)) + r"|can|may|might|must|should|remain|still)\b|[^\w\s-]|$)", re.I)
# "What valuation did the round give Mistral?" is answered by a sentence about a valuation ("valued the
# firm at $2 billion"), not by another amount ("closed a $415 million round"): the noun is what is counted.
AMOUNT_OF = re.compile(r"\b(?:what|which) (valuation|value|price|revenue|salary|budget)\b", re.I)
# "What did Sam Altman say about…?" is answered by what that speaker said: "Altman said", "said Altman".
SAYING_ASKED = re.compile(r"\bwhat did ([\w’'. -]+?) (?:say|tell|write|claim|argue)\b", re.I)
SAID = r"(?:said|says|told|tells|spoke|speaks|wrote|writes|stated|states|argued|argues|claimed|claims|added|warned|noted)"
NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)")  # two or more capitalised words, not sentence-initial


class TermWeights:
    """How much a question term matters, on one scale whatever the index holds: 0 (a word every
    text uses) to 1 (a word nothing uses).

    Two estimates, blended by how many chunks the index has: the index's own IDF (BM25's, from the
    sidecar), which knows that "Microsoft" is common in a Microsoft news feed but means little in a
    folder of one article, where every word of the article looks common; and general-English rarity
    (wordfreq's Zipf frequency), which knows "revenue" and "funding" are ordinary words and "Mistral"
    is not, in any folder. Computed on demand per term: a question and a few passages need dozens.
    """

    def __init__(self, document_frequency: Mapping[str, int], documents: int) -> None:
        self._df = document_frequency
        self._documents = documents
        # Trust in the index's IDF: half at TRUSTED_CHUNKS chunks, 0.99 at a hundred times that.
        self.trust = documents / (documents + TRUSTED_CHUNKS)
        self._cache: dict[str, float] = {}

    def __call__(self, term: str) -> float:
        key = stem(term)
        weight = self._cache.get(key)
        if weight is None:
            forms = _forms(term)
            weight = self.trust * self._index_rarity(forms) if self.trust else 0.0
            if self.trust < 0.99:  # past that the general estimate moves a weight by under 1%: not worth wordfreq's load
                weight += (1 - self.trust) * general_rarity(forms)
            self._cache[key] = weight
        return weight

    def unused(self, term: str) -> bool:
        """No indexed chunk has the term in any form (with no index: none is known to)."""
        return not any(self._df.get(form, 0) for form in _forms(term))

    def _index_rarity(self, forms: list[str]) -> float:
        """BM25's IDF of the stem (df = max over its forms) over that of a word no chunk has."""
        df = max(self._df.get(form, 0) for form in forms)
        return self.idf(df) / self.idf(0)

    def idf(self, df: int) -> float:
        return math.log(1 + (self._documents - df + 0.5) / (df + 0.5))

    @classmethod
    def general(cls) -> TermWeights:
        """General-English rarity alone: weights for passages that come with no index."""
        return cls({}, 0)


def _forms(term: str) -> list[str]:
    """The forms that share the term's stem (stem() strips SUFFIXES, so they are the stem plus one of them), and
    the term itself (a stem that strips two, "times" → "tim", may have no other form that comes back)."""
    key = stem(term)
    return list(dict.fromkeys(form for form in (term, key, *(key + suffix for suffix in (*SUFFIXES, "es"))) if stem(form) == key))


TRUSTED_CHUNKS = 20  # an index of this many chunks weighs its own IDF and general English equally (measured: eval/reports/offline-answer-sweep.md)
ZIPF_COMMONEST = 7.0  # "the", "of", "and": Zipf frequency about 7 and more


def general_rarity(forms: list[str]) -> float:
    """1 - Zipf frequency / 7 of the commonest form, in [0, 1]: "the" 0, "revenue" 0.34, a word English lacks 1."""
    from wordfreq import zipf_frequency  # 0.2 s to load its English list: only when an index is small enough to need it

    zipf = max(zipf_frequency(form, "en") for form in forms)
    return min(1.0, max(0.0, 1 - zipf / ZIPF_COMMONEST))


RELATED_CREDIT = 0.7  # a question's word met by a word WordNet relates to it ("tongues" / "languages"), against the word itself; 1.0 answers two seed paraphrases wrongly and one unanswerable question (eval/reports/paraphrase-similarity.md)


def weighted_coverage(question: str, text: str, weights: Callable[[str], float], related: RelatedWords | None = None) -> float:
    """Weighted share of the question's terms that ``text`` has; with ``related``, a term ``text`` says in
    other words counts RELATED_CREDIT."""
    wanted = set(tokenize(question))
    if not wanted:
        return 0.0
    tokens = tokenize(text)
    present = {stem(t) for t in tokens}
    total = sum(weights(t) for t in wanted)

    def credit(term: str) -> float:
        if stem(term) in present:
            return 1.0
        return RELATED_CREDIT if related and related.links(term, tokens) else 0.0

    return sum(weights(t) * credit(t) for t in wanted) / total if total else 0.0


def type_checks(question: str, sentence: str, passage: Passage, related: RelatedWords | None = None) -> bool:
    """False when the sentence cannot be the kind of answer the question asks for."""
    if not has_span(question, sentence):
        return False
    many = HOW_MANY.search(question) or AMOUNT_OF.search(question)
    counted = many.group(1).split()[-1].lower() if many else None
    if counted and counted not in STOPWORDS and not _has_word(counted, tokenize(sentence), related):
        return False
    saying = SAYING_ASKED.search(question)
    if saying and not _said_by(saying.group(1).split()[-1], sentence):
        return False
    # Each word of a name the question uses, anywhere in the passage: "former President Donald Trump"
    # is "Donald Trump" and "the former President" in most articles.
    names = NAME.findall(question)
    if not names:
        return True
    context = set(re.findall(r"\w+", f"{passage.title} {passage.text}".lower()))  # per sentence: only when a name is asked
    return all(set(re.findall(r"\w+", name.lower())) <= context for name in names)


def _has_word(word: str, tokens: list[str], related: RelatedWords | None) -> bool:
    """``tokens`` have ``word`` (any form sharing its stem) or, with ``related``, a word WordNet relates to it."""
    return stem(word) in {stem(t) for t in tokens} or bool(related and related.links(word, tokens))


def _said_by(speaker: str, sentence: str) -> bool:
    """``sentence`` reports what ``speaker`` (a surname, "president") said: "Altman said", "said Altman",
    "according to Altman" — not "Nadella said that Altman would join"."""
    who = re.escape(speaker)
    return bool(re.search(rf"\b{who}\W+(?:\w+\W+){{0,3}}?{SAID}\b|\b{SAID}\W+(?!that\b)(?:\w+\W+){{0,4}}?{who}\b|according to (?:\w+\W+){{0,3}}?{who}\b", sentence, re.I))


def support_scores(
    question: str, sentences: list[tuple[str, Passage]], embedder: TextEmbeddings, weights: Callable[[str], float], budget: int | None = None, focus: bool = False,
    related: RelatedWords | None = None,
) -> list[float]:
    """Support of each (sentence, its passage) for the question, in [0, 1]; 0 when a type check fails,
    or, with ``focus``, the focus check (see the module docstring); with ``focus``, too, a sentence
    naming nobody new keeps NAME_MISSING of its support when the question asks for a name.

    With ``budget``, only that many sentences are embedded, those covering the question's terms best;
    the rest keep their coverage part alone (embedding is nearly all the cost; the budget's effect is
    measured in eval/reports/cold-ask.md). With ``related``, the question's words may be met in other
    words (related.py): for coverage, the counted noun and the focus check.
    """
    import numpy as np

    if not sentences:
        return []
    scores = [0.0] * len(sentences)
    weights = preamble_discounted(question, weights)
    asked_terms = terms(question)
    # A sentence with no word the question lacks only restates it (a quiz's preamble, word for word).
    eligible = [i for i, (sentence, passage) in enumerate(sentences) if terms(sentence) - asked_terms and type_checks(question, sentence, passage, related)]
    for i in eligible:
        sentence, passage = sentences[i]
        scores[i] = (1 - DENSE_WEIGHT) * weighted_coverage(question, f"{passage.title} {sentence}", weights, related)
    chosen = sorted(eligible, key=lambda i: -scores[i])[:budget]
    if not chosen:
        return scores
    vectors = np.asarray(embedder.embed_documents([question, *(sentences[i][0] for i in chosen)]), dtype=np.float32)
    asked = focus_terms(question, [passage for _, passage in sentences]) if focus else set()
    name_asked = focus and answer_kind(question) == "name"
    for i, similarity in zip(chosen, vectors[1:] @ vectors[0]):
        if asked and not _asks_about(question, asked, sentences[i][0], related) and similarity < DENSE_CARRIES:
            scores[i] = 0.0  # about the question's subject, but none of what it asks about
        else:
            scores[i] += DENSE_WEIGHT * float(similarity)
            if name_asked and not short_span(question, sentences[i][0], sentences[i][1].text):
                scores[i] *= NAME_MISSING  # "Which retailer…?" and the sentence names nobody the question does not
    return scores


def _asks_about(question: str, asked: set[str], sentence: str, related: RelatedWords | None) -> bool:
    """The sentence has one of the ``asked`` terms (focus_terms) of the question, or, with ``related``, a word
    WordNet relates to one of the question's words no article uses: "What price tag…?" (the answer's
    description, not asked) answered by "valued the firm at…" is what a paraphrase looks like."""
    tokens = tokenize(sentence)
    return bool(asked & {stem(t) for t in tokens}) or bool(related and any(related.links(w, tokens) for w in tokenize(question)))


PREAMBLE_WEIGHT = 0.5  # a term only the question's preamble has, against one of the question proper


def preamble_discounted(question: str, weights: Callable[[str], float]) -> Callable[[str], float]:
    """Term weights for a question that opens with what happened ("Grocery prices rose 13% this year.
    Which item showed the largest spike?"): the last sentence asks, the ones before set the scene, and a
    sentence restating the scene is no answer, so terms only the scene has count PREAMBLE_WEIGHT."""
    spans = split_sentences(question)
    if len(spans) < 2:
        return weights
    asked = {stem(t) for t in tokenize(question[spans[-1][0] : spans[-1][1]])}
    return lambda term: weights(term) * (1.0 if stem(term) in asked else PREAMBLE_WEIGHT)


NAME_MISSING = 0.85  # support kept by a sentence without a new name when a name is asked for (eval/reports/offline-answer-sweep.md)


YEAR = re.compile(r"(?:19|20)\d\d")
TOPIC_SHARE = 0.6  # a term in this share of the retrieved passages is the question's subject, not what it asks
DENSE_CARRIES = 0.6  # a sentence this similar to the question may answer it in other words (measured: eval/reports/offline-answer-sweep.md)


def answer_description(question: str) -> set[str]:
    """The terms of the noun phrase after "which"/"what" ("which head of state", "what popular singer"):
    they describe the answer, a sentence that gives it need not repeat them."""
    words = re.findall(r"[\w’'-]+", question.lower())
    found: set[str] = set()
    for at, word in enumerate(words):
        if word not in ("which", "what"):
            continue
        phrase = words[at + 1 : at + 3]
        if not phrase or phrase[0] in STOPWORDS:
            continue
        if len(phrase) > 1 and phrase[1] == "of":  # "head of state"
            phrase = [phrase[0], *words[at + 3 : at + 4]]
        elif len(phrase) > 1 and (phrase[1] in STOPWORDS or phrase[1].endswith("ed")):  # "country announced"
            phrase = phrase[:1]
        found |= terms(" ".join(phrase))
    return found


def focus_terms(question: str, passages: list[Passage]) -> set[str]:
    """The question's terms that are neither its subject (its names most retrieved passages carry), nor
    the description of its answer ("which head of state…": the answer names a person, not a head), nor
    its time words ("in recent days": the time frame's job)."""
    distinct = {p.chunk_id: terms(f"{p.title} {p.text}") for p in passages}
    if not distinct:
        return set()
    asked = {t for t in terms(question) - answer_description(question) - terms(" ".join(RELATIVE_WORDS)) if not YEAR.fullmatch(t)}
    named = terms(" ".join(re.findall(r"(?<!^)(?<![.?!] )\b[A-Z][\w’'-]*", question.strip())))
    return {t for t in asked if t not in named or sum(t in words for words in distinct.values()) < TOPIC_SHARE * len(distinct)}


SUPPORT_BAR = 0.5  # an answer sentence scoring below this against what it cites is marked unsupported


def claim_similarity(embedder: TextEmbeddings, weights: Callable[[str], float]) -> Callable[[str, list[str]], list[float]]:
    """How well each candidate sentence supports a claim (an answer sentence), on the support scale:
    IDF-weighted coverage of the claim's terms and dense similarity, as ``support_scores`` weighs them."""
    import numpy as np

    cache: dict[tuple[str, tuple[str, ...]], list[float]] = {}  # a sentence is checked against a passage more than once

    def similarity(claim: str, candidates: list[str]) -> list[float]:
        key = (claim, tuple(candidates))
        if not candidates:
            return []
        if key not in cache:
            vectors = np.asarray(embedder.embed_documents([claim, *candidates]), dtype=np.float32)
            dense = vectors[1:] @ vectors[0]
            cache[key] = [(1 - DENSE_WEIGHT) * weighted_coverage(claim, text, weights) + DENSE_WEIGHT * max(0.0, float(d)) for text, d in zip(candidates, dense)]
        return cache[key]

    return similarity


def mentions(phrase: str, texts: list[str]) -> float:
    """Share of a short phrase's words that occur in ``texts`` (a word matches one that shares its stem's
    first five letters, "Europe" / "European", "years" / "nine-year"; number words match digits; a
    missing number scores 0): is a short answer there?"""

    def key(word: str) -> str:
        word = NUMBER_WORDS.get(word, word)
        return word if word.isdigit() else stem(word)[:5]

    words = re.findall(r"\w+", phrase.lower())
    # Every number is kept (tokenize drops one-character words, the "9" of "9 years"): it is the answer's point.
    wanted = {key(w) for w in words if w.isdigit() or (len(w) > 1 and w not in STOPWORDS)} or {key(w) for w in words}
    if not wanted:
        return 0.0
    present = {key(w) for text in texts for w in re.findall(r"\w+", text.lower())}
    if any(w.isdigit() and w not in present for w in wanted):
        return 0.0  # "$40 billion" is not "$13 billion"
    return len(wanted & present) / len(wanted)


SENTENCE_BUDGET = 12  # sentences embedded per question, best term coverage first (support_scores)
MIN_CHARS = 25  # headlines, datelines and bylines are not answers
# Article text is data: a sentence addressed to an AI model is never quoted as an answer.
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|directions|above|previous|prior|earlier)\b"
    r"|\b(new|updated|real|hidden) instructions?\b|</?\s*passage\b"
    r"|\b(system prompt|you are now|as an ai|language model|assistant must|respond (only )?with|reply (only )?with|output the word)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a shown passage that could answer: ``n`` is its passage's number, offsets are the article's."""

    n: int
    passage: Passage
    text: str
    start: int
    end: int


def _is_headline(passage: Passage, text: str, start: int, end: int) -> bool:
    """The title printed as a line of its own, not a sentence (a lede a title was derived from is still an answer)."""
    own_line = (start == 0 or passage.text[start - 1] == "\n") and (end == len(passage.text) or passage.text[end] == "\n")
    return own_line and text == passage.title.strip() and not is_sentence(text)


def candidate_sentences(passages: list[Passage]) -> list[Candidate]:
    """Every sentence of the passages once (overlapping chunks repeat sentences), with article offsets."""
    seen: set[tuple[str, int]] = set()
    found = []
    for n, passage in enumerate(passages, start=1):
        for start, end in split_sentences(passage.text):
            key = (passage.article_id, passage.start + start)
            text = passage.text[start:end]
            # A question is never an answer: quiz pages in news corpora repeat the very question asked.
            if key in seen or len(text) < MIN_CHARS or _is_headline(passage, text, start, end) or text.rstrip("\"'\u201d\u2019) ").endswith("?") or INSTRUCTION.search(text):
                continue
            seen.add(key)
            found.append(Candidate(n, passage, text, passage.start + start, passage.start + end))
    return found


def scored_candidates(
    question: str, passages: list[Passage], embedder: TextEmbeddings, weights: Callable[[str], float], focus: bool = False, related: RelatedWords | None = None,
) -> list[tuple[float, Candidate]]:
    """Each candidate sentence of ``passages`` with its support for ``question``, in passage order.

    ``focus``: the extractive answerer's focus check. Not for a model's prompt: measured with
    Qwen2.5-1.5B on RealTime QA dev, gating the model's passages by it declined 18% of the questions
    instead of 11.5% and gold contained fell from 0.532 to 0.475 (the model reads paraphrase better).
    """
    candidates = candidate_sentences(passages)
    return list(zip(support_scores(question, [(c.text, c.passage) for c in candidates], embedder, weights, SENTENCE_BUDGET, focus, related), candidates))


def best_relevance(question: str, passages: list[Passage], embedder: TextEmbeddings, weights: Callable[[str], float], focus: bool = True) -> float:
    """The support of the best sentence in ``passages``: the bar the extractive answerer declines below
    (``focus=False``: the generative answerer's)."""
    return max((score for score, _ in scored_candidates(question, passages, embedder, weights, focus)), default=0.0)


def supporting_passages(passages: list[Passage], scored: list[tuple[float, Candidate]], ratio: float) -> list[Passage]:
    """The passages whose best sentence's support is at least ``ratio`` of the best of all, in rank order."""
    best: dict[int, float] = {}
    for score, candidate in scored:
        best[candidate.n] = max(best.get(candidate.n, 0.0), score)
    top = max(best.values(), default=0.0)
    return [p for n, p in enumerate(passages, start=1) if best.get(n, 0.0) >= ratio * top] or passages


def trim_passages(passages: list[Passage], scored: list[tuple[float, Candidate]], sentences: int) -> list[Passage]:
    """Each passage cut to ``sentences`` consecutive sentences around its best-supported one (by
    its ``scored`` candidates); still a verbatim slice of its article."""
    best: dict[int, tuple[float, int]] = {}
    for score, candidate in scored:
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
