"""Hook specifications for scaicontrol plugins.

Plugins are found through the ``scaicontrol`` entry-point group. Hooks are synchronous, are
called with keyword arguments, and only *register* things: the objects they register
implement the protocols in :mod:`scaicontrol_core.ports`, so hot paths are plain method
calls. A hook must not perform I/O, and an entry-point module must import cleanly even
when its adapter's optional extra is missing (import the SDK inside the factory).
"""

from __future__ import annotations

from collections.abc import Callable

import cattrs
import pluggy

from .identity_provider import IdentityProviderFactory
from .ports import StorageFactory

__all__ = ["PROJECT", "RegisterIdentityProvider", "RegisterStorage", "hookimpl", "hookspec"]

PROJECT = "scaicontrol"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

RegisterStorage = Callable[[str, StorageFactory], None]
RegisterIdentityProvider = Callable[[str, IdentityProviderFactory], None]


@hookspec
def scaicontrol_register_storage_backends(register: RegisterStorage) -> None:
    """Register storage backends by name: ``register("sqlalchemy", factory)``.

    ``factory(StorageConfig) -> Storage`` is called once per application; it may import
    the backend's libraries and raise ``MissingDependency`` when they are absent.
    """


@hookspec
def scaicontrol_configure_converter(converter: cattrs.Converter) -> None:
    """Add structure and unstructure hooks for types an adapter owns."""


@hookspec
def scaicontrol_register_identity_providers(register: RegisterIdentityProvider) -> None:
    """Register identity providers by name: ``register("oidc", factory)``.

    ``factory(IdentityConfig) -> IdentityProvider`` is called once per application (and by
    CLI commands that need it); it may import its libraries and raise ``MissingDependency``.
    """
