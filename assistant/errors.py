"""Typed errors. Every message says what went wrong and how to fix it; the CLI prints it as one line
and exits with the class's ``exit_code``. The library raises them; it never prints."""


class AssistantError(Exception):
    """Base class: an error the user can act on. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class InputError(AssistantError):
    """A path, file or question that cannot be used as given."""

    exit_code = 2


class EmptyIndexError(AssistantError):
    """The index has no articles yet."""

    exit_code = 3


class IndexMismatchError(AssistantError):
    """The index was built with another embedding model (or is from another version)."""

    exit_code = 4


class IndexBusyError(AssistantError):
    """Another process is writing to the index."""

    exit_code = 5


class IndexCorruptError(AssistantError):
    """The index files disagree or cannot be read."""

    exit_code = 6


class ConfigError(AssistantError):
    """A setting is missing or invalid."""

    exit_code = 7


class ProviderError(AssistantError):
    """The model provider (an OpenAI-compatible endpoint or a local model) failed."""

    exit_code = 8


class StoreUnavailableError(AssistantError):
    """The Chroma store did not answer (server down or restarting, a timeout, a transport error)."""

    exit_code = 10


class PromptError(AssistantError):
    """A prompt file is missing or has the wrong placeholders."""

    exit_code = 9
