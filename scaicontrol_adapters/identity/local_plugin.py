"""Entry point of the ``local`` identity provider (imports its libraries lazily)."""

from __future__ import annotations

from scaicontrol_core.errors import MissingDependency
from scaicontrol_core.hookspecs import RegisterIdentityProvider, hookimpl
from scaicontrol_core.identity_provider import IdentityConfig, IdentityProvider

__all__ = ["local_identity", "scaicontrol_register_identity_providers"]

_REQUIRED = ("jwt", "argon2", "cryptography")


def local_identity(config: IdentityConfig) -> IdentityProvider:
    """Users, passwords and signing keys kept in the configured storage."""
    try:
        from .local import LocalIdentityProvider
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in _REQUIRED:
            raise MissingDependency("the local identity provider", "identity") from exc
        raise
    return LocalIdentityProvider(config)


@hookimpl
def scaicontrol_register_identity_providers(register: RegisterIdentityProvider) -> None:
    register("local", local_identity)
