"""Every error raised by scaicontrol derives from :class:`ScaiControlError`.

The tree::

    ScaiControlError
    ├── ValidationError (ValueError)          input that breaks a domain rule
    ├── NotFound (LookupError)                a record that does not exist (or is not visible)
    ├── Conflict                              a state that forbids the request
    │   ├── DuplicateRecord                   an id or unique key already taken
    │   └── ConcurrencyConflict               a stale version on save (optimistic locking)
    ├── InvalidTransition                     a (state, trigger) pair missing from a machine table
    ├── AccessError
    │   ├── Unauthenticated                   no or bad credentials
    │   └── PermissionDenied                  credentials lack the needed scope
    ├── TenantScopeRequired                   a tenant-scoped repository used without a tenant
    ├── StorageError                          the storage backend failed or is not ready
    ├── UpstreamError                         an upstream service (e.g. an OIDC issuer) failed
    ├── ConfigurationError                    a setting is missing or malformed
    └── PluginError
        ├── UnknownPlugin                     settings name a backend nobody registered
        ├── DuplicatePlugin                   two plugins register the same name
        └── MissingDependency (ImportError)   an adapter's optional extra is not installed

The HTTP meaning of each class lives in one table in ``scaicontrol_server``, not here.
"""

from __future__ import annotations

__all__ = [
    "AccessError",
    "ConcurrencyConflict",
    "ConfigurationError",
    "Conflict",
    "DuplicatePlugin",
    "DuplicateRecord",
    "InvalidTransition",
    "MissingDependency",
    "NotFound",
    "PermissionDenied",
    "PluginError",
    "ScaiControlError",
    "StorageError",
    "TenantScopeRequired",
    "Unauthenticated",
    "UnknownPlugin",
    "UpstreamError",
    "ValidationError",
]


class ScaiControlError(Exception):
    """Root of every scaicontrol error."""


class ValidationError(ScaiControlError, ValueError):
    """Input breaks a domain rule; ``field`` names the offending attribute when known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(ScaiControlError, LookupError):
    """A record does not exist, or is outside the caller's scope (the two look the same)."""

    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__(f"{kind} '{record_id}' not found")
        self.kind = kind
        self.record_id = record_id


class Conflict(ScaiControlError):
    """The current state of a record forbids the request."""


class DuplicateRecord(Conflict):
    """A record with the same id or unique key already exists."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} '{key}' already exists")
        self.kind = kind
        self.key = key


class ConcurrencyConflict(Conflict):
    """A save carried a version that is no longer current."""

    def __init__(self, kind: str, record_id: str, expected_version: int) -> None:
        super().__init__(
            f"{kind} '{record_id}' was changed concurrently (expected version {expected_version})"
        )
        self.kind = kind
        self.record_id = record_id
        self.expected_version = expected_version


class InvalidTransition(ScaiControlError):
    """A state machine has no transition for ``(state, trigger)``."""

    def __init__(self, machine: str, state: str, trigger: str) -> None:
        super().__init__(f"{machine}: cannot apply '{trigger}' in state '{state}'")
        self.machine = machine
        self.state = state
        self.trigger = trigger


class AccessError(ScaiControlError):
    """Base for authentication and authorization failures."""


class Unauthenticated(AccessError):
    """No credentials, or credentials that could not be verified."""


class PermissionDenied(AccessError):
    """The caller is known but lacks the scope the operation needs."""


class TenantScopeRequired(ScaiControlError):
    """A tenant-scoped repository was used in a unit of work opened without a tenant."""


class StorageError(ScaiControlError):
    """The storage backend failed, is unreachable, or its schema is not current."""


class UpstreamError(ScaiControlError):
    """A service this one relies on (an identity issuer, a directory) failed or is down."""


class ConfigurationError(ScaiControlError):
    """A setting is missing or malformed; ``setting`` names it."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class PluginError(ScaiControlError):
    """Base for plugin loading and selection problems."""


class UnknownPlugin(PluginError, LookupError):
    """Settings name a plugin of some kind that no installed plugin registered."""

    def __init__(self, kind: str, name: str, available: list[str]) -> None:
        listing = ", ".join(sorted(available)) or "none"
        super().__init__(f"unknown {kind} '{name}'; available: {listing}")
        self.kind = kind
        self.name = name
        self.available = sorted(available)


class DuplicatePlugin(PluginError):
    """Two plugins registered the same name for the same kind."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} '{name}' is registered twice")
        self.kind = kind
        self.name = name


class MissingDependency(PluginError, ImportError):
    """An adapter needs an optional extra that is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs an extra: pip install 'scaicontrol[{extra}]'")
        self.what = what
        self.extra = extra
