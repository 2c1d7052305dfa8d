"""The chat session's conversation state: history, and the time frame follow-ups inherit."""

from __future__ import annotations

from datetime import date

from assistant.answer import Answer
from assistant.chat import ChatSession
from assistant.retrieval import frame_for
from assistant.types import Filters

AS_OF = date(2022, 6, 16)


class FakeAssistant:
    """Resolves the frame as the real one does and records what each turn was asked with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Filters, list[tuple[str, str]]]] = []

    def ask(self, question, filters, history, on_token=None, on_frame=None):  # type: ignore[no-untyped-def]
        self.calls.append((question, filters, list(history)))
        answer = Answer(question, f"answer to {question}", abstained=False)
        answer.time_frame = frame_for(question, filters)
        return answer


def test_follow_ups_inherit_the_frame_unless_they_name_one() -> None:
    fake = FakeAssistant()
    session = ChatSession(fake, Filters(as_of=AS_OF))  # type: ignore[arg-type]
    first = session.ask("What happened in Colombia last week?")
    assert first.time_frame is not None and first.time_frame.source == "question"
    session.ask("Who won?")
    assert fake.calls[1][1].frame == first.time_frame, "a follow-up without time words keeps the frame"
    third = session.ask("And what happened yesterday?")
    assert fake.calls[2][1].frame is None and third.time_frame is not None and third.time_frame.start == date(2022, 6, 15)
    session.ask("Who said so?")
    assert fake.calls[3][1].frame == third.time_frame, "the newest named frame is the one kept"
    session.reset()
    session.ask("Who won?")
    assert fake.calls[4][1].frame is None and fake.calls[4][2] == []
