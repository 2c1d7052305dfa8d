"""One Settings object. Precedence: CLI flag > ASSISTANT_* env > config file (TOML) > default.

The config file is ``$ASSISTANT_CONFIG`` or ``<user config dir>/assistant/config.toml``.
The standard ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` are read too, below their ASSISTANT_ twins.
Every field documents itself; the modules that read a setting own what it means.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_data_dir
from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import ConfigError

LOCAL_EMBEDDER = "all-MiniLM-L6-v2-onnx-int8"


def default_index_dir() -> Path:
    return Path(user_data_dir("assistant", appauthor=False)) / "index"


def config_file() -> Path:
    explicit = os.environ.get("ASSISTANT_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(user_config_dir("assistant", appauthor=False)) / "config.toml"


class Settings(BaseSettings):
    """Everything that can be configured, with where it comes from documented per field."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", extra="ignore", populate_by_name=True, validate_default=True
    )

    # --- store ---
    index: Path = Field(default_factory=default_index_dir, description="Index directory (Chroma data, BM25 sidecar, manifest).")
    chroma_url: str | None = Field(None, description="Use a Chroma server (chroma run) at this URL instead of the embedded store.")
    collection: str = Field("articles", description="Chroma collection name.")

    # --- embeddings ---
    embedding_model: str = Field(
        LOCAL_EMBEDDER,
        description=f"'{LOCAL_EMBEDDER}' (local ONNX, offline) or an OpenAI embedding model name such as text-embedding-3-small.",
    )
    embed_batch_size: int = Field(8, ge=1, le=1024, description="Texts per embedding batch (small batches of length-sorted texts ran fastest on 2 cores: 28 chunks/s at 8, 18 at 64).")
    commit_chunks: int = Field(2048, ge=1, description="Chunks embedded and committed together; a crash loses at most one such group of work.")

    # --- chunking ---
    chunk_tokens: int = Field(200, ge=32, le=256, description="Target word pieces per chunk (MiniLM reads at most 256).")
    embed_titles: bool = Field(True, description="Embed each chunk with its article's title before it (BM25 indexes titles either way).")
    chunk_overlap_sentences: int = Field(0, ge=0, le=5, description="Sentences repeated between neighbouring chunks (each costs embedding time; chunks end at sentence boundaries anyway).")

    # --- retrieval ---
    k: int = Field(5, ge=1, le=50, description="Passages shown to the answerer.")
    candidates: int = Field(80, ge=1, le=500, description="Candidates fetched per retriever before fusion and reranking.")
    hybrid: bool = Field(True, description="Fuse BM25 with dense retrieval (off: dense only).")
    dedupe: bool = Field(True, description="Collapse near-identical passages (syndicated copies).")
    rerank: bool = Field(True, description="Second-stage ranking of the fused candidates (dense, BM25, query-term coverage).")
    aggregate: bool = Field(True, description="Boost passages whose article matches in several chunks.")
    per_article: int = Field(1, ge=1, le=50, description="Passages per article among the k before a second one of any article is shown (more articles, more evidence).")
    recency: bool = Field(True, description="Prefer articles from the question's time frame (its time words, --since/--until or --as-of), and fetch candidates from it.")
    date_half_life_days: float = Field(4.0, gt=0, description="Outside the time frame an article's weight halves every this many days of distance from it (retrieval.DatePreference)...")
    date_shoulder: float = Field(0.7, ge=0, le=1, description="...but stays at least this, halving only every date_long_half_life_days...")
    date_long_half_life_days: float = Field(180.0, gt=0, description="...(the same story weeks away stays findable when the frame is wrong)...")
    date_floor: float = Field(0.3, ge=0, le=1, description="...and never below this floor; articles published after the as-of date get the floor.")
    strip_time_words: bool = Field(True, description="Search without the time words the frame was read from ('this week').")
    tentative_shoulder: float = Field(0.9, ge=0, le=1, description="date_shoulder for a frame no words, flags or --as-of named (the week before the as-of date, default today) or vague words read ('recently'): preferred softly.")
    tentative_floor: float = Field(0.5, ge=0, le=1, description="date_floor for such a frame.")
    other_words: bool = Field(True, description="When no sentence clears min_relevance, search and score again with the question's words that no indexed text uses met by the words WordNet relates to them ('tongues' / 'languages'; answer/related.py).")
    min_relevance: float = Field(0.35, ge=0.0, le=1.0, description="Below this support (evidence.support_scores) of the best sentence the assistant abstains; 0.35 measured best on the seed set (eval/reports).")

    # --- answering (LLM) ---
    model: str | None = Field(None, description="Chat model name; unset means the offline extractive answerer.")
    base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("base_url", "ASSISTANT_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (Ollama, vLLM, llama.cpp, Mistral).",
    )
    api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("api_key", "ASSISTANT_API_KEY", "OPENAI_API_KEY"),
        description="API key for the endpoint. Never printed, logged or stored in the index.",
    )
    azure_endpoint: str | None = Field(None, description="Azure OpenAI endpoint (uses AZURE_OPENAI_API_KEY / api_key).")
    api_version: str | None = Field(None, description="Azure OpenAI API version.")
    prompt_support_ratio: float = Field(0.7, ge=0, le=1, description="Show the model only the passages whose best sentence supports the question at least this share as well as the best passage's (0: all k).")
    quote_when_model_declines: bool = Field(True, description="When the model says it cannot answer but a retrieved sentence clears the extractive answerer's bar, show that sentence quoted instead (engine extractive-fallback); false: the model's decline stands.")
    passage_sentences: int = Field(0, ge=0, le=50, description="Show the model each passage cut to this many sentences around its best-supported one (0: whole passages); the prompt is most of a local model's time.")
    model_path: Path | None = Field(None, description="Local GGUF model file (needs the 'local' extra: llama-cpp-python).")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    timeout: float = Field(60.0, gt=0, description="Seconds before a provider call is abandoned (all retries included).")
    max_retries: int = Field(3, ge=0, le=10, description="Retries on 429/5xx/timeouts, with exponential backoff.")
    offline: bool = Field(False, description="Force the extractive answerer even when a model is configured.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file()))

    @property
    def uses_llm(self) -> bool:
        """True when a generative model is configured and not overridden by --offline."""
        return not self.offline and bool(self.model or self.model_path or self.base_url or self.azure_endpoint)


def load_settings(**overrides: Any) -> Settings:
    """Settings with CLI flags applied on top (``None`` means the flag was not given)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting {where}: {first['msg']} (check flags, ASSISTANT_* variables and {config_file()})") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read config file {config_file()}: {exc}") from None
