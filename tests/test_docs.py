"""The docs keep up with the code: every setting and every hook is documented."""

from __future__ import annotations

import inspect
from pathlib import Path

import attrs

from scaicontrol_core import hookspecs
from scaicontrol_server.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_in_the_configuration_reference() -> None:
    """docs/configuration.md has a row for each environment variable Settings reads."""
    text = (DOCS / "configuration.md").read_text()
    missing = [f.metadata["env"] for f in attrs.fields(Settings)
               if f"| `{f.metadata['env']}` |" not in text]
    assert missing == []


def test_every_hookspec_is_documented() -> None:
    """docs/plugins.md has a section for every hook specification."""
    text = (DOCS / "plugins.md").read_text()
    hooks = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("scaicontrol_")]
    assert hooks
    assert [h for h in hooks if f"### `{h}(" not in text] == []
