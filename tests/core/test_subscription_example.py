"""The example in examples/subscription_year.py plays its year as documented."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from scaicontrol_adapters.storage.memory import MemoryStorage

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "subscription_year.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("subscription_year", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_year_ends_with_the_reaper() -> None:
    """The example records the year's 18 events, from the trial to the reaped end."""
    lines = load_example().play_year(MemoryStorage())
    assert len(lines) == 18
    assert lines[0].startswith("2026-01-01T00:00:00+00:00  subscription.activated")
    assert "by dunning" in lines[8] and lines[8].startswith("2026-04-15")
    assert lines[-1] == ("2026-10-01T00:00:00+00:00  subscription.cancelled       "
                         "at period end (switching provider)")
