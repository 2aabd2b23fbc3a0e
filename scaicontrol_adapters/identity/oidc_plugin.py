"""Entry point of the ``oidc`` identity provider (imports its libraries lazily)."""

from __future__ import annotations

from scaicontrol_core.errors import MissingDependency
from scaicontrol_core.hookspecs import RegisterIdentityProvider, hookimpl
from scaicontrol_core.identity_provider import IdentityConfig, IdentityProvider

__all__ = ["oidc_identity", "scaicontrol_register_identity_providers"]

_REQUIRED = ("jwt", "httpx", "cryptography")


def oidc_identity(config: IdentityConfig) -> IdentityProvider:
    """Tokens issued by an external OpenID Connect provider, verified against its JWKS."""
    try:
        from .oidc import OidcIdentityProvider
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in _REQUIRED:
            raise MissingDependency("the oidc identity provider", "identity") from exc
        raise
    return OidcIdentityProvider(config)


@hookimpl
def scaicontrol_register_identity_providers(register: RegisterIdentityProvider) -> None:
    register("oidc", oidc_identity)
