"""The short answer inside a quoted sentence: the span of the kind the question asks for (an amount
of money, a percentage, a number, a date, a name), nearest the question's own words.

No extractive-QA model ships on PyPI, so this is the pre-neural recipe: the question's wh-phrase
says what kind of span answers it, and of the sentence's spans of that kind (not already in the
question) the one closest to the words it shares with the question is the answer. When no span of
the kind is there, there is no short answer and the sentence stands alone.
"""

from __future__ import annotations

import re

from ..tokens import STOPWORDS, stem, terms
from .places import PLACE_NOUNS, place_named

MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
SCALE = r"(?:\s?(?:million|billion|trillion|bn)\b)?"
SPAN_PATTERNS = {
    "money": re.compile(rf"(?:US)?[$€£¥]\s?\d[\d,]*(?:\.\d+)?{SCALE}|\b\d[\d,]*(?:\.\d+)?{SCALE}\s(?:dollars|euros|pounds|yuan|yen)\b"),
    "percent": re.compile(r"\b\d[\d,]*(?:\.\d+)?\s?(?:%|percent\b|per cent\b)"),
    # "one" is left out: "one of the biggest" is rarely a count.
    "number": re.compile(
        rf"(?:[$€£¥]\s?)?\b\d[\d,]*(?:\.\d+)?{SCALE}(?!\s?%)|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?)\b", re.I
    ),
    "date": re.compile(
        rf"\b(?:(?:early|mid|late)[- ])?{MONTH}(?:\s\d{{1,2}}(?:st|nd|rd|th)?\b)?(?:,?\s(?:1[89]|20)\d\d)?"
        rf"|\b(?:(?:early|mid|late)[- ]|the end of\s)?(?:1[89]|20)\d\d\b|\b{WEEKDAY}\b"
        r"|\b(?:next|last|this)\s(?:week|month|year|spring|summer|fall|autumn|winter)\b|\b(?:today|tomorrow|yesterday)\b"
    ),
    # Runs of capitalised words, joined by "of", "and", "&", "de", "for" ("Bank of America", "Sweden and Finland").
    "name": re.compile(r"\b[A-Z][\w’'.&-]*(?:\s(?:(?:of|and|&|de|for|the)\s)?[A-Z0-9][\w’'.&-]*)*"),
}
# A count given in words is shown in digits: "six" months → "6".
NUMBER_WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
WHERE = re.compile(r"(?:^|[.?!]\s+)where\b", re.I)  # a question (or its last sentence) asking for a place
PERSON = re.compile(r"\bwho(?:m|se)?\b", re.I)  # asks for a person (whose full name is the answer)
_AT_PLACE = re.compile(r"\b(?:in|at|from|near|to|outside|across|off)\s$")  # "at Kennedy Space Center in | Florida"
# What the question asks for, first match wins.
KINDS = [
    ("percent", re.compile(r"\bwhat (?:percentage|percent|share|proportion)\b", re.I)),
    ("money", re.compile(r"\bhow much (?:money|did \w+(?: \w+)? (?:pay|spend|raise|invest|sell|cost|fetch|earn)|(?:does|do|will|would) \w+(?: \w+)? cost|has \w+(?: \w+)? (?:invested|raised|spent|paid))\b"
                         r"|\b(?:what|which) (?:valuation|price|sum|revenue|fine|salary|budget)\b|\bhow much (?:is|was) \w+(?: \w+)? (?:worth|valued)\b"
                         r"|\b(?:revenue|valuation|price tag)\b|\b(?:what|which) (?:is|was|are|were) the (?:\w+ )?(?:fine|penalty|price|salary|prize|payout|value)s?"
                         r"(?=\s*\?|\s+(?:for|of|on|in|under|that|which|it|they|he|she|the|a|an|\w+ed)\b)", re.I)),
    ("number", re.compile(r"\bhow many\b|\bhow much\b|\bwhat number\b|\bhow old\b|\b(?:at )?what age\b", re.I)),
    ("date", re.compile(r"^\s*when\b|\b(?:in |on )?(?:what|which) (?:year|date|day|month)\b|\bhow soon\b", re.I)),
    # "What role…", "which type of…": answered by a common noun, not a name.
    ("name", re.compile(PERSON.pattern + "|" + WHERE.pattern + r"|\bwhat (?:is|was|are|were) the name\b|\bcalled\b|\b(?:which|what)\b(?!\s+(?:role|kind|type|sort|part|happens|happened|did|does|do|is|was|are|were)\b)", re.I)),
]
# The noun the question asks a name for: "Which startup…", "What is the name of the new model…".
_HEAD = re.compile(r"\bname of (?:the |a |an |its |their |his |her )?(?:new |latest |first )?([a-z]+)|\b(?:which|what) ([a-z]+)\b", re.I)
_NOT_HEADS = {"is", "was", "are", "were", "did", "does", "do", "has", "have", "had", "will", "would", "can", "could", "happens",
              "happened", "kind", "type", "sort", "part", "role", "of", "the", "a", "an"}
_PLACE_HEADS = {stem(noun) for noun in PLACE_NOUNS}
_A_YEAR = re.compile(rf"(?:\b(?:in|since|from|by|until|of|early|late|mid)|{MONTH}(?:\s\d{{1,2}},?)?)[\s-](?:1[89]|20)\d\d$")
# Capitalised only because a sentence starts with it, or a date: not a name.
_NOT_NAMES = STOPWORDS | {"in", "on", "at", "after", "before", "while", "since", "under", "last", "this", "however", "yet", "still",
                          "january", "february", "march", "april", "june", "july", "august", "september", "october",
                          "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_TRIM = ".,;:’'"
_POSSESSIVE = re.compile(r"[’']s?$")


def answer_kind(question: str) -> str | None:
    """The kind of span that answers ``question`` (money, percent, number, date, name), or None."""
    return next((kind for kind, pattern in KINDS if pattern.search(question)), None)


def spans_of_kind(kind: str, sentence: str, context: str = "") -> list[tuple[int, int]]:
    """(start, end) of each span of ``kind`` in ``sentence``; ``context`` (the passage) tells a name from
    a word capitalised only because it starts the sentence: a name is capitalised mid-sentence too."""
    found = []
    for start, end in _runs(kind, sentence):
        if kind == "number" and _A_YEAR.search(sentence[max(0, start - 12) : end]):
            continue  # "a card from 1952" dates something, it counts nothing
        if kind == "name":
            words = sentence[start:end].split()
            inner = next((i for i, word in enumerate(words[1:], start=1) if word.lower() in _NOT_NAMES and word[0].isupper()), len(words))
            words = words[:inner]  # "Nvidia Corp. The financing": a new sentence the splitter missed
            end = start + len(" ".join(words))
            while words and (words[0].lower().strip(_TRIM) in _NOT_NAMES or (start == _first_word(sentence) and len(words) == 1 and not _capitalised_inside(words[0], context or sentence))):
                start += len(words.pop(0)) + 1  # "The Colorado Avalanche", "In Paris", "Despite …" (but "Mistral AI said")
            if not words or not words[0][0].isupper() or sentence[start - 1 : start] == "(" and sentence[end : end + 1] == ")":
                continue  # "(CNN)": a credit, not an answer; "November 2023" less its month is no name
            end = start + len(_POSSESSIVE.sub("", " ".join(words).rstrip(_TRIM)))
        while end > start and sentence[end - 1] in _TRIM:
            end -= 1
        if end > start:
            found.append((start, end))
    return found


def _runs(kind: str, sentence: str) -> list[tuple[int, int]]:
    """The pattern's matches; a run of names is cut after a possessive ("Microsoft's | Azure")."""
    runs = []
    for match in SPAN_PATTERNS[kind].finditer(sentence):
        start = match.start()
        if kind == "name":
            for cut in re.finditer(r"[’']s\s", match.group()):
                runs.append((start, match.start() + cut.start() + 2))
                start = match.start() + cut.end()
        runs.append((start, match.end()))
    return runs


def _first_word(sentence: str) -> int:
    return len(sentence) - len(sentence.lstrip("\"'“‘( "))


def _capitalised_inside(word: str, context: str) -> bool:
    """``word`` occurs capitalised after a lower-case word or a comma somewhere in ``context``."""
    word = _POSSESSIVE.sub("", word.rstrip(_TRIM))
    return bool(re.search(rf"[a-z,;:]\s+{re.escape(word)}\b", context))


def short_span(question: str, sentence: str, context: str = "") -> str:
    """The span of ``sentence`` that answers ``question``, or "" when it holds none of the kind asked for.

    Spans whose words are all the question's, or that it names by their initials ("European Union" for
    "EU"), are not answers ("Which team won the Stanley Cup?"), and
    spans sharing none of its words come before those sharing some ("Azure" before "Mistral AI" for
    "Through which cloud will Mistral's models be available?"); for "where", a name after "in", "at",
    "from"… before others ("…Orion spacecraft, sits at Kennedy Space Center in Florida"). Then the nearest to a word the
    question and sentence share wins, the earlier on a tie. Asked "who", a surname comes with the first
    name the passage gives it ("Mensch" → "Arthur Mensch"). Asked "which country" (state, continent), only
    a span naming one answers, as the place's name (places.py: "Saudi Arabian officials" → "Saudi Arabia").
    """
    kind = answer_kind(question)
    if kind is None:
        return ""
    asked = terms(question)
    acronyms = _acronyms(question)
    candidates = [
        (s, e)
        for s, e in spans_of_kind(kind, sentence, context)
        if (not terms(sentence[s:e]) <= asked or not terms(sentence[s:e]) and kind != "name") and not _abbreviated(sentence[s:e], acronyms)
    ]
    if not candidates:
        return ""
    anchors = [m.start() for m in re.finditer(r"\w+", sentence) if stem(m.group().lower()) in asked]

    def distance(span: tuple[int, int]) -> int:
        return min((min(abs(a - span[0]), abs(a - span[1])) for a in anchors), default=0)

    place = bool(WHERE.search(question))

    def not_a_place(span: tuple[int, int]) -> bool:
        return place and not _AT_PLACE.search(sentence[max(0, span[0] - 8) : span[0]])

    head = _head_noun(question)
    # Asked "which country" (state, continent), only a span naming one answers, as that place's name.
    named_place = {(s, e): place_named(sentence[s:e]) for s, e in candidates} if head in _PLACE_HEADS else {}
    if named_place:
        candidates = [span for span in candidates if named_place[span]]
        if not candidates:
            return ""
    start, end = min(candidates, key=lambda span: (not _beside(head, sentence, span), bool(terms(sentence[span[0] : span[1]]) & asked), not_a_place(span), distance(span), span[0]))
    if named_place:
        return named_place[(start, end)]
    span = sentence[start:end]
    if kind == "number":
        return NUMBER_WORDS.get(span.lower(), span)
    return _full_name(span, context or sentence) if PERSON.search(question) else span


def _head_noun(question: str) -> str | None:
    """The stem of the noun a name is asked for ("startup" in "Which startup did Microsoft partner with?")."""
    for match in _HEAD.finditer(question):
        word = (match.group(1) or match.group(2)).lower()
        if word not in _NOT_HEADS:
            return stem(word)
    return None


# Nouns for an organisation: asked "which startup", the name beside "the French company" is it.
_ORGANISATIONS = ("company", "companies", "firm", "startup", "start-up", "business", "corporation", "outfit", "lab", "group")
_ORGANISATION_HEADS = {stem(word) for word in _ORGANISATIONS}


def _beside(head: str | None, sentence: str, span: tuple[int, int]) -> bool:
    """The span names the asked-for noun in apposition: "the French startup | Mistral AI", "a model called
    | Mistral Large", "Mistral Large |, its most capable model". A name beside the noun is that thing; a name
    elsewhere in the sentence (or an adjective before it: "French") is something else the sentence mentions."""
    if head is None:
        return False
    noun = rf"\b{re.escape(head)}\w*"
    if head in _ORGANISATION_HEADS:
        noun = rf"\b(?:{'|'.join(_ORGANISATIONS)})\b"
    before = re.search(rf"{noun}(?:,? (?:called|named|dubbed|known as))?,? $", sentence[: span[0]], re.I)
    after = re.match(rf",? (?:its|their|his|her|the|a|an) (?:[\w-]+ ){{0,3}}{noun}", sentence[span[1] :], re.I)
    return bool(before or after)


def _acronyms(text: str) -> set[str]:
    """Abbreviations and the initials of each run of capitalised words: "EU", "FTC"; "European Union" → "EU"."""
    found = set(re.findall(r"\b[A-Z]{2,6}\b", text))
    for match in SPAN_PATTERNS["name"].finditer(text):
        initials = "".join(word[0] for word in match.group().split() if word[0].isupper())
        if len(initials) > 1:
            found.add(initials)
    return found


def _abbreviated(span: str, acronyms: set[str]) -> bool:
    """The span is something the question names by its initials ("European Union" for "EU"), or the reverse."""
    initials = "".join(word[0] for word in span.split() if word[:1].isupper())
    return len(initials) > 1 and (initials in acronyms or span in acronyms)


def _full_name(span: str, context: str) -> str:
    """A surname as the article first gives it, with the first name: "Mensch" → "Arthur Mensch"."""
    if " " in span:
        return span
    found = re.search(rf"\b([A-Z][a-z]+) {re.escape(span)}\b", context)
    return f"{found.group(1)} {span}" if found and found.group(1).lower() not in _NOT_NAMES else span


def has_span(question: str, sentence: str) -> bool:
    """Whether ``sentence`` holds a span of the kind ``question`` asks for, when that kind is a quantity
    or a date (a name can hide in lower case: "the mistral, a cold wind")."""
    kind = answer_kind(question)
    return kind not in ("money", "percent", "number", "date") or bool(spans_of_kind(kind, sentence))
