"""The seed eval, offline, through the real pipeline: every committed threshold holds, every metric is filled.

This is how CI enforces eval/thresholds.json. Also: the peer baseline keeps its Chroma store between runs.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import assistant_eval as ev
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = ROOT / "eval" / "thresholds.json"


def _eval_main():
    spec = importlib.util.spec_from_file_location("eval_run_integration", ROOT / "eval" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _filled(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seed-eval")
    argv = ["--index", str(tmp / "index"), "--out", str(tmp / "reports" / "seed-offline"), "--json", "--check", str(THRESHOLDS)]
    code = _eval_main()(argv)
    return code, tmp / "reports"


def test_seed_eval_meets_every_threshold(seed_run, capsys):
    code, reports = seed_run
    report = json.loads((reports / "seed-offline.json").read_text(encoding="utf-8"))
    thresholds = json.loads(THRESHOLDS.read_text(encoding="utf-8"))
    assert thresholds["min"] and all(value > 0 for value in thresholds["min"].values())
    assert ev.check_thresholds(report["totals"], thresholds) == []
    assert code == 0
    assert report["totals"]["abstention_recall"] >= thresholds["min"]["abstention_recall"]


def test_seed_reports_are_written_with_every_metric_filled(seed_run):
    _, reports = seed_run
    report = json.loads((reports / "seed-offline.json").read_text(encoding="utf-8"))
    assert report["dataset"] == "seed" and report["settings"]["engine"] == "extractive"
    assert report["totals"]["n"] == len(report["rows"]) >= 50
    for name, totals in (("project", report["totals"]), ("peer", report["peer"]["totals"])):
        for key, value in ev.flat_metrics(totals).items():
            assert _filled(value), f"{name} {key} = {value!r}"
    assert report["ratios"]["hit_at_1"] is not None
    markdown = (reports / "seed-offline.md").read_text(encoding="utf-8")
    for key in ev.flat_metrics(report["totals"]):
        line = next(row for row in markdown.splitlines() if row.startswith(f"| `{key}` |"))
        assert line.split("|")[2].strip() not in ("n/a", "nan", ""), line
    assert (reports / "seed-offline.png").read_bytes()[:4] == b"\x89PNG"


def test_peer_index_is_kept_between_runs(tmp_path):
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from assistant.answer.support import TermWeights
    from assistant.articles import Article
    from assistant.embeddings import LangChainEmbedder

    embedder = LangChainEmbedder(DeterministicFakeEmbedding(size=16), "fake-16")
    a = Article("a", "Mistral AI is a Paris startup. " * 60, title="A")
    b = Article("b", "Microsoft invested in OpenAI. " * 10, title="B")
    peer = ev.PeerBaseline(tmp_path / "peer", embedder, 0.0, TermWeights.general())
    first = peer.sync([a, b])
    assert first["articles_embedded"] == 2 and first["chunks"] == first["chunks_embedded"] > 2
    again = ev.PeerBaseline(tmp_path / "peer", embedder, 0.0, TermWeights.general()).sync([a, b])
    assert again["articles_embedded"] == 0 and again["chunks"] == first["chunks"]
    changed = Article("b", "Microsoft invested $13 billion in OpenAI.", title="B")
    third = ev.PeerBaseline(tmp_path / "peer", embedder, 0.0, TermWeights.general()).sync([a, changed])
    b_chunks = len(peer.split(b))
    assert third["articles_embedded"] == 1 and third["chunks_embedded"] == 1 and third["chunks"] == first["chunks"] - b_chunks + 1
    fourth = ev.PeerBaseline(tmp_path / "peer", embedder, 0.0, TermWeights.general()).sync([a])
    assert fourth["removed"] == 1 and fourth["articles"] == 1
    texts = {"a": a.text}
    for passage in peer.rank("Where is Mistral based?", 10):
        assert texts[passage.article_id][passage.start : passage.end] == passage.text
