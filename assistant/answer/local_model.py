"""A LangChain chat model over a local GGUF file with llama-cpp-python (the optional 'local' extra).

Only the model: prompts, retries and citations are the generative answerer's (generative.py, models.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LlamaCppChatModel(BaseChatModel):
    """Chat completions from ``llama_cpp.Llama`` using the chat template stored in the GGUF file."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    llama: Any
    temperature: float = 0.0
    max_tokens: int = 512

    @classmethod
    def from_path(cls, path: Path, temperature: float = 0.0, n_ctx: int = 4096) -> LlamaCppChatModel:
        from llama_cpp import Llama

        # llama-cpp-python defaults to half the cores; prompt processing (the passages) is the cost here.
        threads = max(1, os.cpu_count() or 1)
        return cls(llama=Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False), temperature=temperature)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _messages(self, messages: list[BaseMessage]) -> list[dict[str, str]]:
        return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        reply = self.llama.create_chat_completion(self._messages(messages), temperature=self.temperature, max_tokens=self.max_tokens, stop=stop)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply["choices"][0]["message"]["content"] or ""))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for part in self.llama.create_chat_completion(self._messages(messages), temperature=self.temperature, max_tokens=self.max_tokens, stop=stop, stream=True):
            text = part["choices"][0]["delta"].get("content") or ""
            if text:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
