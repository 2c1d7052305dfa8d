"""ONNX sessions that start from a once-optimised copy of the model.

onnxruntime's BASIC level folds the int8 MiniLM's quantised weights to float every time a session
starts: two thirds of the start-up (180-260 ms of a cold `ask` here). Saved once in the user's cache
directory, the folded graph loads with optimisation off in ~65 ms and computes the same thing.
The copy is named after the source model's size and mtime and the onnxruntime version (the saved
graph is that version's), and written atomically. Where the cache cannot be written, sessions start
from the packaged model as before.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assistant"


def cached_copy(model: Path, ort_version: str) -> Path:
    stat = model.stat()
    return cache_dir() / f"{model.stem}-{stat.st_size}-{stat.st_mtime_ns}-ort{ort_version}-basic.onnx"


def create_session(model: Path, options: Any) -> Any:
    """An InferenceSession on ``model`` with BASIC optimisations, loaded from (or saved to) the cache."""
    import onnxruntime as ort

    copy = cached_copy(model, ort.__version__)
    if copy.exists():
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # already optimised
        try:
            return ort.InferenceSession(str(copy), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception:  # a damaged copy (disk full when it was written...): make it again
            copy.unlink(missing_ok=True)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    partial = copy.with_name(f"{copy.name}.{os.getpid()}.tmp")
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(partial)
        session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        os.replace(partial, copy)
        return session
    except Exception:  # an unwritable cache: optimise in memory, every time
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        options.optimized_model_filepath = ""
        return ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
