"""The generic state-machine table, checked on every registered machine."""

from __future__ import annotations

import enum
import itertools
from typing import Any

import pytest

from scaicontrol_core.errors import InvalidTransition
from scaicontrol_core.machines import ALL_MACHINES, OUTBOX_MESSAGE, Machine, OutboxStatus
from scaicontrol_core.machines import OutboxTrigger as T

PAIRS = [
    (machine, state, trigger)
    for machine in ALL_MACHINES
    for state, trigger in itertools.product(machine.states, machine.triggers)
]


@pytest.mark.parametrize(("machine", "state", "trigger"), PAIRS,
                         ids=[f"{m.name}:{s}:{t}" for m, s, t in PAIRS])
def test_every_pair_follows_the_table_or_raises(machine: Machine[Any, Any], state: Any,
                                                trigger: Any) -> None:
    """Each (state, trigger) either moves as the table says or raises InvalidTransition."""
    if (state, trigger) in machine.transitions:
        assert machine.fire(state, trigger) is machine.transitions[(state, trigger)]
        assert machine.can_fire(state, trigger)
    else:
        with pytest.raises(InvalidTransition) as info:
            machine.fire(state, trigger)
        assert (info.value.machine, info.value.state, info.value.trigger) == (
            machine.name, str(state), str(trigger))
        assert not machine.can_fire(state, trigger)


@pytest.mark.parametrize("machine", ALL_MACHINES, ids=lambda m: m.name)
def test_every_state_is_reachable_and_names_are_unique(machine: Machine[Any, Any]) -> None:
    """No machine declares a state that cannot be reached from its initial state."""
    assert machine.reachable() == frozenset(machine.states)
    assert len({m.name for m in ALL_MACHINES}) == len(ALL_MACHINES)


def test_outbox_machine_table() -> None:
    """Pending messages finish, retry or die; only dead ones can be revived."""
    assert OUTBOX_MESSAGE.fire(OutboxStatus.PENDING, T.COMPLETE) is OutboxStatus.DONE
    assert OUTBOX_MESSAGE.fire(OutboxStatus.DEAD, T.REVIVE) is OutboxStatus.PENDING
    assert OUTBOX_MESSAGE.terminal_states == frozenset({OutboxStatus.DONE})
    assert OUTBOX_MESSAGE.allowed_triggers(OutboxStatus.DEAD) == [T.REVIVE]
    assert "pending --> done: complete" in OUTBOX_MESSAGE.to_mermaid()


def test_machine_refuses_foreign_values() -> None:
    """A table mixing in values of another enum is rejected when the machine is built."""

    class Colour(enum.StrEnum):
        RED = "red"

    with pytest.raises(TypeError):
        Machine("bad", {(OutboxStatus.PENDING, Colour.RED): OutboxStatus.DONE},
                states=OutboxStatus, triggers=T, initial=OutboxStatus.PENDING)
