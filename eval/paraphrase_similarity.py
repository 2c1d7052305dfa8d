"""Can the local embedder carry a paraphrase? Dense similarity of each paraphrase and unanswerable
seed question to every sentence of seeds/, beside the sentence that answers it.

    python eval/paraphrase_similarity.py [--out eval/reports/paraphrase-similarity.md]

If the answering sentence of a paraphrase ("How many tongues…" / "fluent in five languages") were
closer to its question than the closest sentence of any question the seeds cannot answer is to that
question, a similarity bar could answer paraphrases without answering the unanswerable. The table
says whether such a bar exists for all-MiniLM-L6-v2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from assistant.chunking import split_sentences
from assistant.embeddings import LocalMiniLM

ROOT = Path(__file__).resolve().parents[1]
MIN_CHARS = 25


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "eval/reports/paraphrase-similarity.md")
    args = parser.parse_args()
    embedder = LocalMiniLM()
    sentences = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences += [text[start:end] for start, end in split_sentences(text) if end - start >= MIN_CHARS]
    vectors = np.asarray(embedder.embed_documents(sentences))
    questions = [json.loads(line) for line in (ROOT / "eval/questions.jsonl").read_text().splitlines() if line.strip()]
    lines = [
        "# Paraphrase questions: can dense similarity carry them?",
        "",
        "Command: `python eval/paraphrase_similarity.py`",
        "",
        f"all-MiniLM-L6-v2 (int8), cosine similarity of each question to each of the {len(sentences)} sentences of seeds/.",
        "",
        "| id | type | question | closest sentence's similarity | answering sentence: similarity, rank |",
        "|---|---|---|---|---|",
    ]
    closest_answers, unanswerable_closest = [], []  # a paraphrase's answering sentence when it is the closest; each unanswerable's closest
    for question in questions:
        if question["type"] not in ("paraphrase", "unanswerable"):
            continue
        similarity = vectors @ np.asarray(embedder.embed_query(question["question"]))
        order = list(np.argsort(-similarity))
        quotes = [support["quote"] for support in question.get("support") or []]
        ranks = [rank for rank, i in enumerate(order) if any(quote in sentences[i] for quote in quotes)]
        gold = f"{similarity[order[ranks[0]]]:.2f}, {ranks[0] + 1}" if ranks else "—"
        if not quotes:
            unanswerable_closest.append(float(similarity[order[0]]))
        elif ranks and ranks[0] == 0:
            closest_answers.append(float(similarity[order[0]]))
        lines.append(f"| {question['id']} | {question['type']} | {question['question']} | {similarity[order[0]]:.2f} | {gold} |")
    paraphrases = sum(q["type"] == "paraphrase" for q in questions)
    bar = min(closest_answers, default=1.0)
    lines += [
        "",
        f"The answering sentence is the closest sentence for {len(closest_answers)} of {paraphrases} paraphrases"
        + (f" (similarity {bar:.2f}); a bar that low lets the closest sentence of {sum(s >= bar for s in unanswerable_closest)} of"
           f" {len(unanswerable_closest)} unanswerable questions through as well." if closest_answers else "."),
        "For the others a sentence about something else is closer to the question than the one that answers it.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
