"""The eval script: run a question set through `assistant`'s ask path (and the LangChain-tutorial peer), write reports.

    python eval/run.py                                   # seed questions, offline, peer beside it
    python eval/run.py --dataset realtimeqa --data ../shared/data/realtimeqa

The same as `assistant eval` (both call assistant_eval.cli.main); see eval/README.md. Needs the
'eval' extra (pip install -e '.[eval]').
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the `assistant` command does (assistant/cli.py)
sys.path.insert(0, str(Path(__file__).resolve().parent))  # assistant_eval, from a checkout not installed

from assistant_eval.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
