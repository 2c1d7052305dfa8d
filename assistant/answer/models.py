"""Chat models: any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, Mistral, Ollama, vLLM,
llama.cpp server) through langchain-openai, or a local GGUF file through llama-cpp-python.

Also the provider fault policy: retries with exponential backoff for 429/5xx/timeouts/connection
errors, all within ``settings.timeout`` seconds, and one-line errors that never contain the key.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel

from ..config import Settings
from ..errors import ConfigError, ProviderError

T = TypeVar("T")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# Local servers (llama.cpp, Ollama, vLLM) accept any key; the client library insists on one.
PLACEHOLDER_KEY = "not-needed"


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings describe, through LangChain's provider-neutral ``init_chat_model``.

    Retries are ours (``with_retries``), so the client's are off.
    """
    if settings.model_path is not None:
        return _local_gguf(settings)
    from langchain.chat_models import init_chat_model

    key = settings.api_key.get_secret_value() if settings.api_key else None
    common: dict[str, Any] = {"temperature": settings.temperature, "timeout": settings.timeout, "max_retries": 0}
    if settings.azure_endpoint:
        return init_chat_model(
            settings.model or "", model_provider="azure_openai", azure_endpoint=settings.azure_endpoint, azure_deployment=settings.model,
            api_version=settings.api_version or "2024-10-21", api_key=key, **common,
        )
    if key is None and settings.base_url is None:
        raise ConfigError("no API key: set OPENAI_API_KEY (or ASSISTANT_API_KEY), or --base-url for a local server; --offline answers without a model")
    return init_chat_model(
        settings.model or DEFAULT_OPENAI_MODEL, model_provider="openai", base_url=settings.base_url, api_key=key or PLACEHOLDER_KEY, streaming=True, **common,
    )


def _local_gguf(settings: Settings) -> BaseChatModel:
    path = settings.model_path
    assert path is not None
    if not path.is_file():
        raise ConfigError(f"--model-path {path} is not a file; give the path of a .gguf model")
    try:
        from .local_model import LlamaCppChatModel
    except ImportError:
        raise ConfigError("a local GGUF model needs llama-cpp-python: pip install 'assistant[local]'") from None
    return LlamaCppChatModel.from_path(path, temperature=settings.temperature)


def _redact(message: str, settings: Settings) -> str:
    if settings.api_key:
        secret = settings.api_key.get_secret_value()
        if secret:
            message = message.replace(secret, "***")
    return message.splitlines()[0][:200] if message else ""


def describe(exc: Exception, settings: Settings, attempts: int) -> ProviderError:
    """A one-line, key-free ProviderError for an exception from the client library."""
    import openai

    where = settings.azure_endpoint or settings.base_url or "the OpenAI API"
    after = f" after {attempts} attempts" if attempts > 1 else ""
    if isinstance(exc, openai.APITimeoutError):
        text = f"{where} did not answer within {settings.timeout:g} s{after}; raise --timeout or check the server"
    elif isinstance(exc, openai.APIConnectionError):
        text = f"cannot connect to {where}{after}; is the server running and the URL right?"
    elif isinstance(exc, openai.AuthenticationError):
        text = f"{where} rejected the API key (401); set a valid OPENAI_API_KEY or ASSISTANT_API_KEY"
    elif isinstance(exc, openai.PermissionDeniedError):
        text = f"{where} refused access (403); check the key's permissions"
    elif isinstance(exc, openai.NotFoundError):
        text = f"model {settings.model!r} not found at {where} (404); check --model / ASSISTANT_MODEL"
    elif isinstance(exc, openai.RateLimitError):
        text = f"{where} is rate limiting (429){after}; wait and retry, or raise --timeout to retry longer"
    elif isinstance(exc, openai.APIStatusError):
        text = f"{where} failed with HTTP {exc.status_code}{after}: {_redact(str(exc.message), settings)}"
    elif isinstance(exc, (openai.APIResponseValidationError, _ModelOutputError)):
        text = f"{where} sent a malformed response ({type(exc).__name__}); is it really OpenAI-compatible?"
    else:
        text = f"{where} failed: {type(exc).__name__}: {_redact(str(exc), settings)}"
    return ProviderError(text)


def retryable(exc: Exception) -> bool:
    import openai

    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def with_retries(call: Callable[[], T], settings: Settings, started_output: Callable[[], bool] = lambda: False) -> T:
    """Run ``call``, retrying retryable faults with jittered exponential backoff inside ``settings.timeout``.

    A streaming call that already produced output is not retried (the user has seen it).
    """
    deadline = time.monotonic() + settings.timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except ProviderError:
            raise
        except Exception as exc:
            remaining = deadline - time.monotonic()
            delay = min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            if not _is_provider_fault(exc):
                raise
            if not retryable(exc) or started_output() or attempt > settings.max_retries or delay >= remaining:
                raise describe(exc, settings, attempt) from None
            time.sleep(delay)


def _is_provider_fault(exc: Exception) -> bool:
    import openai

    return isinstance(exc, (openai.OpenAIError, _ModelOutputError))


class _ModelOutputError(Exception):
    """A malformed reply surfaced by the client library as a generic ValueError/KeyError/TypeError."""


def stream_text(runnable: Any, inputs: Any, settings: Settings, on_token: Callable[[str], None] | None) -> str:
    """The reply of ``runnable`` (prompt | model) to ``inputs``, streamed piece by piece to ``on_token``."""
    pieces: list[str] = []

    def run() -> str:
        pieces.clear()
        replies = _stream(runnable, inputs)
        while True:
            try:
                piece = next(replies)
            except StopIteration:
                return "".join(pieces)
            except (ValueError, KeyError, TypeError) as exc:  # only errors raised while reading the reply
                raise _ModelOutputError(str(exc)) from exc
            pieces.append(piece)
            if on_token:
                on_token(piece)

    return with_retries(run, settings, started_output=lambda: bool(pieces))


def _stream(runnable: Any, inputs: Any) -> Iterator[str]:
    for chunk in runnable.stream(inputs):
        content = chunk.content
        if isinstance(content, str):
            yield content
        elif isinstance(content, list):  # content blocks
            yield "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
        else:
            raise TypeError(f"unexpected content type {type(content).__name__}")
