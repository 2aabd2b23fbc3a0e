"""docs/subscriptions.md keeps up with the code: diagram, jobs, settings and endpoints."""

from __future__ import annotations

from pathlib import Path

from scaicontrol_core.commerce import JOB_ORDER
from scaicontrol_core.machines import PACK_SUBSCRIPTION, SUBSCRIPTION
from scaicontrol_core.machines.subscription import TRANSITIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "subscriptions.md").read_text()


def test_the_diagram_is_drawn_from_the_table() -> None:
    """The page shows the Mermaid diagram the machine produces (packs share it)."""
    assert f"```mermaid\n{SUBSCRIPTION.to_mermaid()}\n```" in DOC
    assert PACK_SUBSCRIPTION.to_mermaid() == SUBSCRIPTION.to_mermaid()


def test_every_transition_is_in_the_transition_table() -> None:
    """Each documented edge has its row: from, to and trigger."""
    for (source, trigger), target in TRANSITIONS.items():
        assert f"| `{source}` | `{target}` | `{trigger}` |" in DOC, (source, trigger)


def test_every_job_and_setting_is_described() -> None:
    """The jobs table names every lifecycle job; the settings are mentioned."""
    for name in JOB_ORDER:
        assert f"| `{name}` |" in DOC
    for setting in ("SCAICONTROL_DUNNING_DELAY_DAYS", "SCAICONTROL_SUBSCRIPTION_JOBS_INTERVAL"):
        assert setting in DOC
