"""Server mode: what a client of a `chroma run` server pays for its first answers, and while another ingests.

    python eval/server_bench.py --base ~/.local/share/assistant/realtimeqa [--before /path/to/older/checkout] --out eval/reports/server

A copy of the base index's Chroma store is served by a real `chroma run` on 127.0.0.1. Each client
talks to it through a byte-counting TCP relay in this script, so "bytes read from the server" is
what crossed the wire to that client. Measured, each in fresh processes (wall time and peak RSS from
GNU time): a fresh client's first `ask --offline` (empty --index directory), the same client's
second question, a second fresh client asking while the first ingests 10 new articles, and the
next day's ingest of 10 more articles alone (what a writer reads from the server: it should follow
what it adds, not the collection). With --before, the same measurements run first with an older checkout's code (PYTHONPATH), against
the same server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "eval"))
from scale import new_articles, timed  # noqa: E402

QUESTIONS = ["Which continent will require a common charging standard for phones?", "Who won the French Open men's singles title?"]


class CountingRelay:
    """A TCP relay from a local port to ``target``, counting the bytes sent back to its clients."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.received = 0
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        try:
            while data := source.recv(65536):
                if count:
                    with self._lock:
                        self.received += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def take(self) -> int:
        """Bytes received since the last call."""
        with self._lock:
            value, self.received = self.received, 0
        return value


def start_server(path: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("chroma run did not start")


def measure(port: int, code: Path | None, data: Path, work: Path) -> dict[str, Any]:
    env = os.environ.copy()
    if code is not None:
        env["PYTHONPATH"] = str(code)
    assistant = [sys.executable, "-m", "assistant"]
    reader = CountingRelay(port)
    url = f"http://127.0.0.1:{reader.port}"
    client = Path(tempfile.mkdtemp(dir=work))

    def ask(index: Path, question: str) -> tuple[float, float, int]:
        reader.take()
        wall, rss, out = timed([*assistant, "ask", "--offline", "--json", "--chroma-url", url, "--index", str(index), question], env)
        assert json.loads(out)["answer"], out
        return wall, rss, reader.take()

    first = ask(client, QUESTIONS[0])
    second = ask(client, QUESTIONS[1])
    batch = work / "new10.jsonl"
    new_articles(data / "corpus", batch)
    writer_dir = Path(tempfile.mkdtemp(dir=work))
    writer = subprocess.Popen([*assistant, "ingest", "--json", "--chroma-url", f"http://127.0.0.1:{port}", "--index", str(writer_dir), str(batch)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)  # the writer is embedding and writing
    during = ask(Path(tempfile.mkdtemp(dir=work)), QUESTIONS[0])
    writer_running = writer.poll() is None
    out, err = writer.communicate()
    if writer.returncode:
        raise RuntimeError(err.decode()[-2000:])
    after_ingest = ask(client, QUESTIONS[0])  # the first client, once the server's content changed
    # The next day's ingest, alone: what a writer reads from the server grows with what it adds?
    new_articles(data / "corpus", batch)
    writer_relay = CountingRelay(port)
    wall, rss, out = timed([*assistant, "ingest", "--json", "--chroma-url", f"http://127.0.0.1:{writer_relay.port}", "--index", str(writer_dir), str(batch)], env)
    next_ingest = (wall, rss, writer_relay.take())
    row = lambda m: {"wall_s": round(m[0], 2), "peak_rss_mb": round(m[1]), "bytes_from_server": m[2]}  # noqa: E731
    return {
        "fresh_client_first_answer": row(first),
        "same_client_next_answer": row(second),
        "second_client_while_first_ingests": {**row(during), "writer_still_running": writer_running},
        "first_client_after_the_ingest": row(after_ingest),
        "next_ingest_of_10_articles_alone": row(next_ingest),
        "client_dir_mb": round(sum(f.stat().st_size for f in client.rglob("*") if f.is_file()) / 2**20, 1),
        "ingest": json.loads(out),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", type=Path, default=Path.home() / ".local/share/assistant/realtimeqa")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "realtimeqa")
    p.add_argument("--work", type=Path, default=Path.home() / ".local/share/assistant/server-bench")
    p.add_argument("--before", type=Path, help="an older checkout whose code to measure first, against the same server")
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "reports" / "server")
    args = p.parse_args(argv)
    for name in ("base", "data", "work", "before", "out"):
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())
    args.work.mkdir(parents=True, exist_ok=True)
    os.chdir(args.work)  # `python -m assistant` puts the working directory first on sys.path: not a checkout's
    served = args.work / "chroma"
    if not served.exists():
        shutil.copytree(args.base / "chroma", served)
    process, port = start_server(served)
    results: dict[str, Any] = {"command": "python eval/server_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    try:
        if args.before:
            results["before"] = measure(port, args.before, args.data, args.work)
        results["after"] = measure(port, None, args.data, args.work)
    finally:
        process.terminate()
        process.wait(30)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    columns = [c for c in ("before", "after") if c in results]
    lines = ["# Server mode: a client of `chroma run` (RealTime QA index, 42k chunks)", "", f"Command: `{results['command']}`", "",
             "| measure | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for stage in ("fresh_client_first_answer", "same_client_next_answer", "second_client_while_first_ingests", "first_client_after_the_ingest", "next_ingest_of_10_articles_alone"):
        for key in ("wall_s", "peak_rss_mb", "bytes_from_server"):
            values = [results[c].get(stage, {}).get(key) for c in columns]
            lines.append(f"| {stage}: {key} | " + " | ".join("" if v is None else f"{v:,}" for v in values) + " |")
    lines.append("| client directory after all this (MB) | " + " | ".join(str(results[c]["client_dir_mb"]) for c in columns) + " |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
