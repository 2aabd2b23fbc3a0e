"""A state machine as data: a mapping from (state, trigger) to the next state."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Generic, TypeVar

from ..errors import InvalidTransition

__all__ = ["Machine"]

S = TypeVar("S", bound=enum.StrEnum)
T = TypeVar("T", bound=enum.StrEnum)


class Machine(Generic[S, T]):
    """``Machine(name, TRANSITIONS)``; :meth:`fire` looks a pair up or raises.

    Anything missing from the table is invalid; the table holds no callables, so it can be
    drawn as a diagram and tested exhaustively.
    """

    def __init__(
        self,
        name: str,
        transitions: Mapping[tuple[S, T], S],
        *,
        states: type[S],
        triggers: type[T],
        initial: S,
    ) -> None:
        for (state, trigger), target in transitions.items():
            if not isinstance(state, states) or not isinstance(target, states):
                raise TypeError(f"{name}: {state!r} -> {target!r} is not a {states.__name__}")
            if not isinstance(trigger, triggers):
                raise TypeError(f"{name}: {trigger!r} is not a {triggers.__name__}")
        self.name = name
        self.transitions: Mapping[tuple[S, T], S] = MappingProxyType(dict(transitions))
        self.states = states
        self.triggers = triggers
        self.initial = initial

    def fire(self, state: S, trigger: T) -> S:
        """The state after ``trigger`` in ``state``, or :class:`InvalidTransition`."""
        try:
            return self.transitions[(state, trigger)]
        except KeyError:
            raise InvalidTransition(self.name, str(state), str(trigger)) from None

    def can_fire(self, state: S, trigger: T) -> bool:
        return (state, trigger) in self.transitions

    def allowed_triggers(self, state: S) -> list[T]:
        """Triggers valid in ``state``, in declaration order."""
        return [t for t in self.triggers if (state, t) in self.transitions]

    @property
    def terminal_states(self) -> frozenset[S]:
        """States with no outgoing transition."""
        sources = {s for s, _ in self.transitions}
        return frozenset(s for s in self.states if s not in sources)

    def reachable(self) -> frozenset[S]:
        """States reachable from the initial state."""
        seen = {self.initial}
        frontier = [self.initial]
        while frontier:
            current = frontier.pop()
            for (source, _), target in self.transitions.items():
                if source == current and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        return frozenset(seen)

    def to_mermaid(self) -> str:
        """A Mermaid ``stateDiagram-v2`` drawn from the table (for the docs)."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for (source, trigger), target in self.transitions.items():
            lines.append(f"    {source.value} --> {target.value}: {trigger.value}")
        for state in sorted(self.terminal_states, key=lambda s: s.value):
            lines.append(f"    {state.value} --> [*]")
        return "\n".join(lines)
