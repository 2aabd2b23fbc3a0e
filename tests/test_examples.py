"""Every runnable example in examples/ runs to completion (the receiver is a server)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RUNNABLE = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != "webhook_receiver.py")


@pytest.mark.parametrize("name", RUNNABLE)
def test_example_runs(name: str, tmp_path: Path) -> None:
    """The example exits 0 and prints something."""
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
