"""The evaluation framework for `assistant` (not a runtime dependency: the 'eval' extra).

datasets (question sets) → runner (asks through `assistant`'s own ask path) → metrics (pure
scoring) → reports (table, Markdown, chart, thresholds); peer is the LangChain-tutorial baseline run
beside the project; cli is `python eval/run.py` and `assistant eval`. This module re-exports the
API the scripts and tests use.
"""

from .datasets import EvalQuestion, Gold, load_realtimeqa, load_seed_questions, realtimeqa_paths, select
from .metrics import (
    citation_scores,
    exact_match,
    gold_contained,
    normalize_answer,
    percentile,
    precision_recall,
    retrieval_scores,
    strip_markers,
    token_f1,
)
from .peer import PeerBaseline, TutorialLLMPeer
from .reports import QUALITY_KEYS, build_report, check_thresholds, flat_metrics, load_report, write_reports
from .runner import AssistantUnderTest, EvalResult, abstention_sweep, run_eval, score_question, summarize

__all__ = [
    "QUALITY_KEYS", "AssistantUnderTest", "EvalQuestion", "EvalResult", "Gold", "PeerBaseline", "TutorialLLMPeer", "abstention_sweep",
    "build_report", "check_thresholds", "citation_scores", "exact_match", "flat_metrics", "gold_contained", "load_realtimeqa", "load_report",
    "load_seed_questions", "normalize_answer", "percentile", "precision_recall", "realtimeqa_paths", "retrieval_scores", "run_eval",
    "score_question", "select", "strip_markers", "summarize", "token_f1", "write_reports",
]
