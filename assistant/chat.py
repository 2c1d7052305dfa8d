"""The chat REPL: reads questions, keeps the conversation, handles /commands. No retrieval logic here.

Line editing and persistent history come from prompt_toolkit when stdin is a terminal; piped
input (tests, scripts) is read line by line. Ctrl-C cancels the current answer, Ctrl-D exits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from .answer import Answer
from .engine import Assistant
from .errors import AssistantError
from .timeframe import question_frame
from .types import Filters, TimeFrame

HELP = """Commands:
  /sources   show the passages behind the last answer
  /reset     forget the conversation (follow-ups start fresh)
  /help      this help
  /quit      leave (or Ctrl-D)
Ctrl-C cancels an answer in progress."""


class ChatSession:
    """The conversation state: earlier turns and the last answer (for /sources)."""

    def __init__(self, assistant: Assistant, filters: Filters) -> None:
        self.assistant = assistant
        self.filters = filters
        self.history: list[tuple[str, str]] = []
        self.last: Answer | None = None
        self.frame: TimeFrame | None = None  # the time the conversation is about, named by an earlier question

    def ask(self, question: str, on_token: Callable[[str], None] | None = None, on_frame: Callable[[TimeFrame], None] | None = None) -> Answer:
        """Answer a turn; a follow-up that names no time of its own keeps the conversation's frame."""
        filters = self.filters
        if self.frame is not None and self.history and question_frame(question, filters.as_of or date.today()) is None:
            filters = replace(filters, frame=self.frame)
        answer = self.assistant.ask(question, filters, self.history, on_token, on_frame)
        self.history.append((question, answer.text))
        self.last = answer
        if answer.time_frame is not None and answer.time_frame.source == "question":
            self.frame = answer.time_frame
        return answer

    def reset(self) -> None:
        self.history.clear()
        self.last = None
        self.frame = None


def read_lines(history_file: Path | None) -> Callable[[], str]:
    """A function returning the next input line; raises EOFError at the end (Ctrl-D)."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, History, InMemoryHistory

        history: History = InMemoryHistory()
        if history_file is not None:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            history = FileHistory(str(history_file))
        session: PromptSession[str] = PromptSession(history=history)
        return lambda: session.prompt("you> ")

    def from_pipe() -> str:
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return from_pipe


def run_repl(session: ChatSession, stream: bool, history_file: Path | None) -> None:
    """The loop. Errors in one turn are shown as one line and the loop goes on."""
    from .render import error, out, print_answer, print_frame, print_passages

    next_line = read_lines(history_file)
    out.print("Ask about your articles. /help for commands, /quit or Ctrl-D to leave.")
    while True:
        try:
            line = next_line().strip()
        except EOFError:
            out.print()
            return
        except KeyboardInterrupt:  # Ctrl-C at the prompt clears the line
            continue
        if not line:
            continue
        if line.startswith("/"):
            command = line.split()[0].lower()
            if command in ("/quit", "/exit", "/q"):
                return
            if command == "/help":
                out.print(HELP, markup=False)
            elif command == "/reset":
                session.reset()
                out.print("Conversation cleared.")
            elif command == "/sources":
                if session.last is None:
                    out.print("No answer yet.")
                else:
                    out.print(f"Retrieved for: {session.last.standalone_question}", markup=False)
                    print_passages(session.last.passages)
            else:
                error(f"unknown command {command}; /help lists them")
            continue
        try:
            on_token = (lambda text: out.print(text, end="", markup=False)) if stream else None
            answer = session.ask(line, on_token, on_frame=print_frame)
            if stream:
                out.print()
            print_answer(answer, streamed=stream)
        except KeyboardInterrupt:
            out.print("\n(cancelled)")
        except AssistantError as exc:
            error(str(exc))
