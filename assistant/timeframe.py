"""The question's time words → a TimeFrame (a span of publication dates), resolved against the as-of date.

Relative expressions ("this week", "last month", "yesterday", "recently", "so far this year", "on
Tuesday", "three weeks ago", "last summer") are resolved against the as-of date (the question's date
in the eval, `--as-of`, default today); absolute ones ("in June 2022", "on March 3", "in the week of
June 16, 2022", "in 2023", "since May") need no anchor but a missing year is the latest one not after
it. A month or year counts only with a preposition, a day or a year beside it, so "May I ask…" and
"the March of Dimes" name no time. Several expressions make one frame that spans them all.

Out of scope: times of day, time zones, fiscal quarters, and ranges in the future ("next month"):
there are no articles from the future to prefer.

dateparser's ``search_dates`` and parsedatetime were measured on the unit table of expressions
(eval/timeframe_parsers.py → eval/reports/timeframe-parsers.md): both return points, not spans, so
neither gives a week or a month; of 36 questions their points fall inside the expected window for 19
and 16; dateparser misses "this week", "last month" and "recently" and reads "May I ask" and "the
March of Dimes" as dates; parsedatetime resolves "on March 3" and "in June" into the future; and
dateparser costs ~2 s of a cold `ask` (import and first call). Hence the small grammar below.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from .types import TimeFrame, month_span

MONTHS = {name: n for n, name in enumerate(calendar.month_name) if name} | {name: n for n, name in enumerate(calendar.month_abbr) if name} | {"Sept": 9}
WEEKDAYS = {name.lower(): n for n, name in enumerate(calendar.day_name)}
NUMBERS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())} | {"a": 1, "an": 1, "a few": 3, "few": 3, "a couple of": 2, "couple of": 2, "several": 4}
SEASONS = {"spring": (3, 5), "summer": (6, 8), "fall": (9, 11), "autumn": (9, 11), "winter": (12, 2)}
RECENT_DAYS = 14  # "recently", "latest": the two weeks before the as-of date

_MONTH = r"(?P<month>" + "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_COUNT = r"(?P<count>\d+|" + "|".join(sorted((re.escape(w) for w in NUMBERS), key=len, reverse=True)) + r")"
_PREP = r"(?:in|during|since|by|until|till|through|from|of|for|before|after|early|late|mid-?|throughout|between|and)"
# Cheap test run first: a question without any of these words never reaches the grammar.
# Words that only place a question in time: the time frame, not what is asked about.
RELATIVE_WORDS = tuple("today tonight yesterday week weeks weekend weekends month months year years day days ago recent recently latest lately newly".split())
_ANY = re.compile(r"\b(?:" + "|".join(RELATIVE_WORDS) + r"|spring|summer|fall|autumn|winter|(?:19|20)\d\d|" + "|".join(WEEKDAYS) + "|" + "|".join(m.lower() for m in MONTHS) + r")\b", re.I)


def _latest_year(month: int, day: int, as_of: date) -> int:
    """The year of the latest (month, day) on or before ``as_of``."""
    return as_of.year if (month, day) <= (as_of.month, as_of.day) else as_of.year - 1


def _week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


def _season(name: str, year: int) -> tuple[date, date]:
    first, last = SEASONS[name.lower()]
    if first > last:  # winter runs from December into the next year
        return date(year, 12, 1), month_span(year + 1, last)[1]
    return date(year, first, 1), month_span(year, last)[1]


def _latest_season(name: str, as_of: date, completed: bool) -> tuple[date, date]:
    """The latest such season that began on or before ``as_of`` (``completed``: that also ended before it)."""
    for year in (as_of.year, as_of.year - 1, as_of.year - 2):
        start, end = _season(name, year)
        if start <= as_of and (not completed or end < as_of):
            return start, end
    return _season(name, as_of.year - 2)


def _valid_day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# (pattern, resolver(match, as_of) -> (start, end) | None); the first patterns are the most specific.
def _rules() -> list[tuple[re.Pattern[str], object]]:
    def week_of(m: re.Match[str], as_of: date) -> tuple[date, date] | None:
        month, day = MONTHS[m["month"].title()], int(m["day"])
        year = int(m["year"]) if m["year"] else _latest_year(month, day, as_of)
        found = _valid_day(year, month, day)
        return _week_of(found) if found else None

    def month_day(m: re.Match[str], as_of: date) -> tuple[date, date] | None:
        month, day = MONTHS[m["month"].title()], int(m["day"])
        year = int(m["year"]) if m["year"] else _latest_year(month, day, as_of)
        found = _valid_day(year, month, day)
        return (found, found + timedelta(days=1)) if found else None  # news of a day is published that day or the next

    def month_year(m: re.Match[str], as_of: date) -> tuple[date, date]:
        return month_span(int(m["year"]), MONTHS[m["month"].title()])

    def month_alone(m: re.Match[str], as_of: date) -> tuple[date, date]:
        month = MONTHS[m["month"].title()]
        return month_span(as_of.year if month <= as_of.month else as_of.year - 1, month)

    def year(m: re.Match[str], as_of: date) -> tuple[date, date] | None:
        if m.group()[0].isdigit() and not m["possessive"]:  # "the 2022 NHL finals", "Agenda 2030": a name, not a time
            return None
        return date(int(m["year"]), 1, 1), date(int(m["year"]), 12, 31)

    def season(m: re.Match[str], as_of: date) -> tuple[date, date]:
        if m["year"]:
            return _season(m["season"], int(m["year"]))
        return _latest_season(m["season"], as_of, completed=m["which"].lower() == "last")

    def weekday(m: re.Match[str], as_of: date) -> tuple[date, date]:
        back = (as_of.weekday() - WEEKDAYS[m["weekday"].lower()]) % 7
        if m["which"] and m["which"].lower() == "last" and back == 0:
            back = 7
        day = as_of - timedelta(days=back)
        return day, min(day + timedelta(days=1), as_of)

    def ago(m: re.Match[str], as_of: date) -> tuple[date, date]:
        n, unit = _count(m["count"]), m["unit"].lower()
        days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit.rstrip("s")]
        centre = as_of - timedelta(days=n * days)
        return centre - timedelta(days=days // 2), centre + timedelta(days=days // 2 + 1)

    def last_n(m: re.Match[str], as_of: date) -> tuple[date, date]:
        n, unit = _count(m["count"]), m["unit"].lower()
        return as_of - timedelta(days=n * {"day": 1, "week": 7, "month": 30, "year": 365}[unit.rstrip("s")]), as_of

    fixed = {
        "today": lambda d: (d, d), "tonight": lambda d: (d, d),
        "yesterday": lambda d: (d - timedelta(days=1), d),
        "this week": lambda d: (_week_of(d)[0], d), "this weekend": lambda d: (d - timedelta(days=(d.weekday() + 2) % 7 or 7), d),
        "last week": lambda d: (_week_of(d)[0] - timedelta(days=7), _week_of(d)[0] - timedelta(days=1)),
        "last weekend": lambda d: (d - timedelta(days=(d.weekday() + 2) % 7 or 7), d),
        "this month": lambda d: (d.replace(day=1), d),
        "last month": lambda d: month_span(*((d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12))),
        "this year": lambda d: (date(d.year, 1, 1), d), "so far this year": lambda d: (date(d.year, 1, 1), d),
        "last year": lambda d: (date(d.year - 1, 1, 1), date(d.year - 1, 12, 31)),
        "recently": lambda d: (d - timedelta(days=RECENT_DAYS), d), "recent": lambda d: (d - timedelta(days=RECENT_DAYS), d),
        "latest": lambda d: (d - timedelta(days=RECENT_DAYS), d), "lately": lambda d: (d - timedelta(days=RECENT_DAYS), d),
        "newly": lambda d: (d - timedelta(days=RECENT_DAYS), d),
        "past week": lambda d: (d - timedelta(days=7), d), "past month": lambda d: (d - timedelta(days=30), d),
        "past year": lambda d: (d - timedelta(days=365), d),
    }
    words = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in fixed), key=len, reverse=True))

    def fixed_rule(m: re.Match[str], as_of: date) -> tuple[date, date]:
        return fixed[re.sub(r"\s+", " ", m["fixed"].lower())](as_of)  # type: ignore[no-any-return]

    weekday_names = "|".join(WEEKDAYS)
    return [
        (re.compile(rf"\bweek\s+of\s+(?:the\s+)?{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b", re.I), week_of),
        (re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b(?!\s*(?:million|billion|percent|%))", re.I), month_day),
        (re.compile(rf"\b{_DAY}\s+{_MONTH}(?:,?\s+{_YEAR})?\b", re.I), month_day),
        (re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.I), month_year),
        (re.compile(rf"\b(?P<which>last|this|in)?\s*(?:the\s+)?(?P<season>spring|summer|fall|autumn|winter)(?:\s+(?:of\s+)?{_YEAR})?\b", re.I), season),
        (re.compile(rf"\b{_PREP}\s+(?:the\s+)?(?:beginning\s+of\s+|end\s+of\s+|start\s+of\s+)?{_MONTH}\b(?!\s+of\b)", re.I), month_alone),
        (re.compile(rf"\b(?:(?:{_PREP}|the\s+year)\s+)?{_YEAR}(?P<possessive>['\u2019]s)?\b", re.I), year),
        (re.compile(rf"\b(?:(?P<which>on|last|this past|this)\s+)?(?P<weekday>{weekday_names})\b", re.I), weekday),
        (re.compile(rf"\b{_COUNT}\s+(?P<unit>days?|weeks?|months?|years?)\s+ago\b", re.I), ago),
        (re.compile(rf"\b(?:in\s+)?(?:the\s+)?(?:past|last)\s+{_COUNT}\s+(?P<unit>days|weeks|months|years)\b", re.I), last_n),
        (re.compile(rf"\b(?P<fixed>{words})\b", re.I), fixed_rule),
    ]


RULES = _rules()
# Words that place a question in time only loosely: a weekday without "last"/"this", "recently".
VAGUE = re.compile(r"(?:on\s+)?(?:" + "|".join(WEEKDAYS) + r")|recent|recently|latest|lately|newly", re.I)
COMPARISON = re.compile(r"\bthan(?:\s+\w+){0,3}\s*$", re.I)


def question_frame(question: str, as_of: date) -> TimeFrame | None:
    """The time frame the question's own words name, or None when they name none.

    A season's pattern without "last/this/in" or a year ("summer camp") names no time; frames that
    lie wholly after ``as_of`` are dropped (there is nothing to prefer there).
    """
    spans, taken, found = _read(question, as_of)
    if not spans:
        return None
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    firm = not all(VAGUE.fullmatch(words) for words in found)
    return TimeFrame(start, min(end, as_of + timedelta(days=1)), "question", ", ".join(found), firm)


def without_time_words(question: str, as_of: date) -> str:
    """The question with the time expressions it names removed: what to search for once the frame is known."""
    _, taken, _ = _read(question, as_of)
    for start, end in sorted(taken, reverse=True):
        question = question[:start] + question[end:]
    return re.sub(r"\s+([?.,!])", r"\1", re.sub(r"\s{2,}", " ", question)).strip()


def _read(question: str, as_of: date) -> tuple[list[tuple[date, date]], list[tuple[int, int]], list[str]]:
    """(date spans, character spans, words) of every time expression in ``question``."""
    spans: list[tuple[date, date]] = []
    taken: list[tuple[int, int]] = []
    found: list[str] = []
    if not _ANY.search(question):
        return spans, taken, found
    for pattern, resolve in RULES:
        for m in pattern.finditer(question):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue  # part of a more specific expression already read
            if pattern is RULES[4][0] and not (m["which"] or m["year"]):
                continue
            if COMPARISON.search(question[: m.start()]):  # "higher than they were a year ago": a baseline, not the time asked about
                continue
            got = resolve(m, as_of)  # type: ignore[operator]
            if got is None or got[0] > as_of:
                continue
            spans.append(got)
            taken.append(m.span())
            found.append(m.group().strip())
    return spans, taken, found
