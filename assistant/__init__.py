"""assistant: question answering over a folder of news articles, every claim cited to a passage."""

import os

# onnxruntime's threads own the cores. OpenBLAS's threads (numpy's dense search over the snapshot)
# spin after each call and the two slowed each other: warm retrieval p50 32 ms with both, 15 ms with
# one BLAS thread (eval/bench.py). Set before numpy loads; an explicit setting is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
