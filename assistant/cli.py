"""The `assistant` command: parsing and rendering only; the library computes and raises typed errors.

Heavy imports (Chroma, onnxruntime, LangChain) happen inside commands, so `--help` stays fast.
A known error (AssistantError) is one line on stderr and its exit code; anything else is one line
too, unless ASSISTANT_DEBUG is set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from .config import Settings
    from .types import Filters

app = typer.Typer(
    help="Answers questions about your news articles, every claim cited to a passage. Offline by default.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # a traceback must never print an API key held in a local
    rich_markup_mode=None,  # plain click help: importing typer.rich_utils (rich.markdown) slows every start
)

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index directory [env: ASSISTANT_INDEX].", show_default=False)]
ChromaOpt = Annotated[str | None, typer.Option("--chroma-url", help="Chroma server URL, e.g. http://127.0.0.1:8000 [env: ASSISTANT_CHROMA_URL].", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
EmbedOpt = Annotated[str | None, typer.Option("--embedding-model", help="Embedding model [env: ASSISTANT_EMBEDDING_MODEL].", show_default=False)]
KOpt = Annotated[int | None, typer.Option("--k", help="Passages to retrieve [default: 5].", show_default=False)]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Answer as if asked on this date (YYYY-MM-DD) [default: today].", show_default=False)]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Only articles from this source.", show_default=False)]
OfflineOpt = Annotated[bool | None, typer.Option("--offline", help="Use the extractive answerer even if a model is configured.", show_default=False)]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Chat model name [env: ASSISTANT_MODEL].", show_default=False)]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint [env: ASSISTANT_BASE_URL, OPENAI_BASE_URL].", show_default=False)]
ModelPathOpt = Annotated[Path | None, typer.Option("--model-path", help="Local GGUF model (needs the 'local' extra).", show_default=False)]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Seconds for a model call, retries included.", show_default=False)]
NoStreamOpt = Annotated[bool, typer.Option("--no-stream", help="Print answers at once instead of streaming them.")]


@contextmanager
def failing() -> Iterator[None]:
    """A known error as one line on stderr and its exit code."""
    from .errors import AssistantError

    try:
        yield
    except AssistantError as exc:
        from .render import error

        error(str(exc))
        raise typer.Exit(exc.exit_code) from None


def _settings(**flags: Any) -> Settings:
    from .config import load_settings

    return load_settings(**flags)


def _parse_date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from .errors import InputError

        raise InputError(f"{flag} expects a date like 2024-02-26, got {value!r}") from None


def _filters(as_of: str | None, since: str | None, until: str | None, source: str | None) -> Filters:
    from .types import Filters

    explicit = _parse_date(as_of, "--as-of")
    return Filters(
        since=_parse_date(since, "--since"), until=_parse_date(until, "--until"), source=source,
        as_of=explicit or date.today(), explicit_as_of=explicit is not None,
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of .txt .md .html .json .jsonl articles.", show_default=False)],
    prune: Annotated[bool, typer.Option("--prune", help="Remove indexed articles whose files are gone.")] = False,
    index: IndexOpt = None,
    chroma_url: ChromaOpt = None,
    embedding_model: EmbedOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add or update articles in the index (only new or changed ones are embedded)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .ingest import ingest as run
    from .render import err, out, print_json, warning

    columns = (TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"), TimeRemainingColumn())
    with failing(), Progress(*columns, console=err, transient=True, disable=as_json or not err.is_terminal) as bar:
        settings = _settings(index=index, chroma_url=chroma_url, embedding_model=embedding_model)
        task = bar.add_task("embed", total=None)
        report = run(paths, settings, prune=prune, progress=lambda done, total: bar.update(task, completed=done, total=total))
    for problem in report.problems:
        warning(str(problem))
    if as_json:
        print_json(report.summary())
    else:
        recovered = f", {report.recovered} recovered from an interrupted run" if report.recovered else ""
        out.print(
            f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, {report.removed} removed; "
            f"{report.chunks_embedded} chunks embedded in {report.seconds:.1f} s{recovered}"
        )
    if any(p.fatal for p in report.problems):
        raise typer.Exit(2)  # the rest was ingested, but something given was skipped


def _answering_settings(
    k: int | None, offline: bool | None, model: str | None, base_url: str | None, model_path: Path | None,
    timeout: float | None, index: Path | None, chroma_url: str | None, embedding_model: str | None,
) -> Settings:
    """Settings from the options `ask` and `chat` share."""
    return _settings(
        k=k, index=index, chroma_url=chroma_url, embedding_model=embedding_model, offline=offline,
        model=model, base_url=base_url, model_path=model_path, timeout=timeout,
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the indexed articles.", show_default=False)],
    k: KOpt = None,
    as_json: JsonOpt = False,
    show_passages: Annotated[bool, typer.Option("--show-passages", help="Also print the retrieved passages.")] = False,
    as_of: AsOfOpt = None,
    since: Annotated[str | None, typer.Option("--since", help="Only articles published on or after this date.", show_default=False)] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only articles published on or before this date.", show_default=False)] = None,
    source: SourceOpt = None,
    offline: OfflineOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    model_path: ModelPathOpt = None,
    timeout: TimeoutOpt = None,
    no_stream: NoStreamOpt = False,
    index: IndexOpt = None,
    chroma_url: ChromaOpt = None,
    embedding_model: EmbedOpt = None,
) -> None:
    """Answer one question with cited passages."""
    with failing():
        settings = _answering_settings(k, offline, model, base_url, model_path, timeout, index, chroma_url, embedding_model)
        filters = _filters(as_of, since, until, source)
        from .engine import Assistant, check_question

        check_question(question)
        assistant = Assistant(settings)
        from .render import out, print_answer, print_frame, print_json, print_passages

        stream = settings.uses_llm and not no_stream and not as_json
        on_token = (lambda text: out.print(text, end="", markup=False)) if stream else None
        answer = assistant.ask(question, filters, on_token=on_token, on_frame=None if as_json else print_frame)
    if as_json:
        print_json(answer.to_json())
        return
    if stream:
        out.print()
    print_answer(answer, streamed=stream)
    if show_passages:
        print_passages(answer.passages)


@app.command()
def chat(
    k: KOpt = None,
    as_of: AsOfOpt = None,
    source: SourceOpt = None,
    offline: OfflineOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    model_path: ModelPathOpt = None,
    timeout: TimeoutOpt = None,
    no_stream: NoStreamOpt = False,
    index: IndexOpt = None,
    chroma_url: ChromaOpt = None,
    embedding_model: EmbedOpt = None,
) -> None:
    """Chat about the indexed articles; follow-up questions understand the conversation."""
    with failing():
        settings = _answering_settings(k, offline, model, base_url, model_path, timeout, index, chroma_url, embedding_model)
        filters = _filters(as_of, None, None, source)
        from .chat import ChatSession, run_repl
        from .engine import Assistant

        session = ChatSession(Assistant(settings), filters)
    from platformdirs import user_data_dir

    run_repl(session, stream=settings.uses_llm and not no_stream, history_file=Path(user_data_dir("assistant", appauthor=False)) / "chat_history")


@app.command()
def status(index: IndexOpt = None, chroma_url: ChromaOpt = None, embedding_model: EmbedOpt = None, as_json: JsonOpt = False) -> None:
    """Show what is indexed: articles, chunks, embedding model, index path and size."""
    with failing():
        from .maintenance import status

        info = status(_open_index(index, chroma_url, embedding_model))
    from .render import human_size, out, print_json

    if as_json:
        print_json(vars(info))
        return
    for label, value in (("index", info.index), ("vectors", info.chroma), ("articles", info.articles), ("chunks", info.chunks),
                         ("embedding model", info.embedding_model), ("size", human_size(info.size_bytes)),
                         ("sidecar", "none (the server answers)" if info.chroma.startswith("http") else "up to date" if info.bm25_fresh else "stale (run assistant doctor --fix)")):
        out.print(f"{label:<15} {value}")


@app.command()
def doctor(
    fix: Annotated[bool, typer.Option("--fix", help="Repair what can be repaired (drop orphans, rebuild the sidecar).")] = False,
    index: IndexOpt = None,
    chroma_url: ChromaOpt = None,
    embedding_model: EmbedOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the index: Chroma, BM25 sidecar and manifest agree; the embedding model matches."""
    with failing():
        from .maintenance import doctor as run

        report = run(_open_index(index, chroma_url, embedding_model), fix)
    from .render import out, print_json, warning

    if as_json:
        print_json({"ok": not report.problems, "problems": report.problems, "fixed": report.fixed})
    elif report.problems:
        for problem in report.problems:
            warning(problem)
    else:
        out.print("index is consistent" + (" (repaired; run 'assistant ingest' again to re-embed dropped articles)" if report.fixed else ""))
    if report.problems:
        raise typer.Exit(6)


def _open_index(index: Path | None, chroma_url: str | None, embedding_model: str | None) -> Any:
    from .embeddings import make_embedder
    from .store.index import Index

    settings = _settings(index=index, chroma_url=chroma_url, embedding_model=embedding_model)
    return Index(settings, make_embedder(settings))


@app.command(
    "eval",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def eval_command(ctx: typer.Context) -> None:
    """Run the eval script (same as python eval/run.py; --help lists its options; needs the 'eval' extra)."""
    try:
        from assistant_eval.cli import main as run
    except ImportError as exc:
        from .render import error

        error(f"the eval needs the 'eval' extra ({exc.name} is missing): pip install 'assistant[eval]'")
        raise typer.Exit(2) from None
    raise typer.Exit(run(list(ctx.args), prog="assistant eval"))


def main() -> None:
    """Console entry point: known errors are one line (in the commands); anything else too, unless debugging."""
    try:
        app()
    except KeyboardInterrupt:
        _exit(130)
    except SystemExit as exc:  # how click ends every command, with its exit code
        _exit(exc.code)
    except Exception as exc:  # never a traceback for users; ASSISTANT_DEBUG=1 shows it
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        from .render import error

        error(f"unexpected {type(exc).__name__}: {exc} (re-run with ASSISTANT_DEBUG=1 for details)")
        _exit(1)


def _exit(code: object) -> None:
    """End the process once everything is printed.

    Skips the interpreter's teardown when chromadb was never imported (`ask` on a current snapshot):
    unloading onnxruntime, numpy and the rest is a noticeable part of a cold `ask`, and nothing is
    left to write. Chroma may still have work to finish, so a process that used it exits normally.
    """
    if isinstance(code, str):  # sys.exit("message"): click does not, but keep its meaning
        sys.stderr.write(code + "\n")
        code = 1
    status = code if isinstance(code, int) else 0
    if "chromadb" in sys.modules:
        raise SystemExit(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a closed pipe (assistant ask ... | head -1): nothing more can be written anyway
            pass
    os._exit(status)
