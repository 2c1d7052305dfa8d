"""Time expressions in questions → publication-date frames, resolved against the as-of date (table-driven),
and how retrieval turns a frame into a soft preference."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.retrieval import DatePreference, date_weight, frame_for
from assistant.timeframe import question_frame
from assistant.types import NO_FRAME, Filters, TimeFrame, day_number, span_text

AS_OF = date(2022, 6, 16)  # a Thursday
PREFERENCE = DatePreference(half_life_days=4, floor=0.3)

# (question, as-of, expected (start, end) or None for "names no time")
CASES: list[tuple[str, date, tuple[date, date] | None]] = [
    ("Which automaker recalled 2.9 million vehicles this week?", AS_OF, (date(2022, 6, 13), AS_OF)),
    ("What happened last week?", AS_OF, (date(2022, 6, 6), date(2022, 6, 12))),
    ("What happened yesterday?", AS_OF, (date(2022, 6, 15), AS_OF)),
    ("What did the Fed announce today?", AS_OF, (AS_OF, AS_OF)),
    ("How much have prices risen this month?", AS_OF, (date(2022, 6, 1), AS_OF)),
    ("What happened last month?", AS_OF, (date(2022, 5, 1), date(2022, 5, 31))),
    ("Which company recently announced layoffs?", AS_OF, (date(2022, 6, 2), AS_OF)),
    ("What is the latest Covid variant?", AS_OF, (date(2022, 6, 2), AS_OF)),
    ("How much has the S&P fallen so far this year?", AS_OF, (date(2022, 1, 1), AS_OF)),
    ("Who won the election last year?", AS_OF, (date(2021, 1, 1), date(2021, 12, 31))),
    ("What NFL star announced his retirement on Tuesday?", AS_OF, (date(2022, 6, 14), date(2022, 6, 15))),
    ("What did the senator say last Thursday?", AS_OF, (date(2022, 6, 9), date(2022, 6, 10))),
    ("What happened three weeks ago?", AS_OF, (date(2022, 5, 23), date(2022, 5, 30))),
    ("Which teams played in the past two weeks?", AS_OF, (date(2022, 6, 2), AS_OF)),
    ("What happened in June 2022?", date(2022, 11, 1), (date(2022, 6, 1), date(2022, 6, 30))),
    ("What happened in June?", date(2022, 11, 1), (date(2022, 6, 1), date(2022, 6, 30))),
    ("What happened in December?", AS_OF, (date(2021, 12, 1), date(2021, 12, 31))),
    ("What did the Fed do on March 3?", AS_OF, (date(2022, 3, 3), date(2022, 3, 4))),
    ("What did the Fed do on March 3, 2021?", AS_OF, (date(2021, 3, 3), date(2021, 3, 4))),
    ("What did the court rule on 24 June 2022?", date(2022, 8, 1), (date(2022, 6, 24), date(2022, 6, 25))),
    ("Who won the vote in the week of June 16, 2022?", date(2022, 8, 15), (date(2022, 6, 13), date(2022, 6, 19))),
    ("Which country elected a leftist leader (in the week of June 16, 2022)?", date(2022, 8, 15), (date(2022, 6, 13), date(2022, 6, 19))),
    ("What happened in 2023?", date(2024, 2, 1), (date(2023, 1, 1), date(2023, 12, 31))),
    ("Where did the heat waves hit last summer?", date(2022, 11, 1), (date(2022, 6, 1), date(2022, 8, 31))),
    ("Where did the heat waves hit last summer?", date(2022, 7, 1), (date(2021, 6, 1), date(2021, 8, 31))),
    ("How much has inflation risen since May?", AS_OF, (date(2022, 5, 1), date(2022, 5, 31))),
    ("What changed between April and May?", AS_OF, (date(2022, 4, 1), date(2022, 5, 31))),
    # No time named: a month word that is not a date, or no time word at all.
    ("May I ask who won the race?", AS_OF, None),
    ("Who founded the March of Dimes?", AS_OF, None),
    ("Which summer camp closed?", AS_OF, None),
    ("Which company is shutting down its self-driving car effort?", AS_OF, None),
    ("How much did Microsoft invest in Mistral AI?", AS_OF, None),
    ("Which state has the highest average price for a gallon of gas?", AS_OF, None),
    ("Why are food prices far higher than they were a year ago?", AS_OF, None),  # a comparison, not the time asked about
    ("What did the Jan. 6 committee hear?", AS_OF, (date(2022, 1, 6), date(2022, 1, 7))),  # a name that is a date: read as one
    # A frame wholly after the as-of date has nothing to prefer.
    ("What will happen in 2030?", AS_OF, None),
]


@pytest.mark.parametrize(("question", "as_of", "expected"), CASES, ids=[f"{q[:40]}@{a}" for q, a, _ in CASES])
def test_time_expressions(question: str, as_of: date, expected: tuple[date, date] | None) -> None:
    frame = question_frame(question, as_of)
    if expected is None:
        assert frame is None, frame
    else:
        assert frame is not None and (frame.start, frame.end) == expected, frame
        assert frame.source == "question" and frame.words


def test_frame_comes_from_the_question_then_flags_then_an_explicit_as_of() -> None:
    asked = "Which automaker recalled vehicles this week?"
    assert frame_for(asked, Filters(as_of=AS_OF)).source == "question"
    plain = "Which automaker recalled vehicles?"
    assert frame_for(plain, Filters(as_of=AS_OF)) == NO_FRAME
    flags = frame_for(plain, Filters(as_of=AS_OF, since=date(2022, 5, 1)))
    assert (flags.start, flags.end, flags.source) == (date(2022, 5, 1), AS_OF, "flags")
    explicit = frame_for(plain, Filters(as_of=AS_OF, explicit_as_of=True))
    assert (explicit.start, explicit.end, explicit.source) == (date(2022, 6, 9), AS_OF, "as_of")
    inherited = TimeFrame(date(2022, 1, 1), date(2022, 1, 31), "question", "in January")
    assert frame_for(plain, Filters(as_of=AS_OF, frame=inherited)) is inherited


def test_date_weight_prefers_the_frame_and_demotes_only_the_future_without_one() -> None:
    today = day_number(AS_OF.isoformat())
    week = TimeFrame(date(2022, 6, 9), AS_OF, "question")  # seven days back
    inside, day_after, before = today - 3, today + 1, day_number("2022-06-05")
    assert date_weight(inside, week, today, PREFERENCE) == date_weight(day_after, week, today, PREFERENCE) == 1.0
    assert 1.0 > date_weight(before, week, today, PREFERENCE) > date_weight(before - 10, week, today, PREFERENCE) >= PREFERENCE.floor
    assert date_weight(today + 5, week, today, PREFERENCE) == PREFERENCE.floor  # after the question was asked
    assert date_weight(-1, week, today, PREFERENCE) == 1.0  # undated
    # No frame: every date up to the as-of date weighs the same; only what came after it is demoted.
    assert date_weight(today - 300, NO_FRAME, today, PREFERENCE) == date_weight(today, NO_FRAME, today, PREFERENCE) == 1.0
    assert date_weight(today + 5, NO_FRAME, today, PREFERENCE) == PREFERENCE.floor


def test_descriptions() -> None:
    assert TimeFrame(date(2022, 6, 13), date(2022, 6, 19), "question").describe() == "Articles from 13\u201319 June 2022"
    assert span_text(date(2022, 6, 1), date(2022, 6, 30)) == "June 2022"
    assert span_text(date(2023, 1, 1), date(2023, 12, 31)) == "2023"
    assert NO_FRAME.to_json() == {"start": None, "end": None, "source": "none"}
