"""Running the real ``scaicontrol`` command in a subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["cli", "free_port", "run_cli", "serving"]


def cli() -> list[str]:
    """The installed console script, or the module when only the tree is importable."""
    script = Path(sys.executable).with_name("scaicontrol")
    if script.exists():
        return [str(script)]
    found = shutil.which("scaicontrol")
    return [found] if found else [sys.executable, "-m", "scaicontrol_server.cli"]


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAICONTROL_", "DATABASE"))}
    env.update(extra)
    return env


def run_cli(*args: str, env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``scaicontrol ARGS`` to completion and capture its output."""
    return subprocess.run([*cli(), *args], env=_env(env), cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(*args: str, env: Mapping[str, str], cwd: Path) -> Iterator[str]:
    """Start ``scaicontrol serve`` on a free port; yield its base URL; stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [*cli(), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        env=_env(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise AssertionError(f"server exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not start within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
