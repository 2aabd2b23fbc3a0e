"""Plugin loading: a fresh ``pluggy.PluginManager`` per application, and a typed facade.

Built-in adapters register through the same ``scaicontrol`` entry points as third-party
ones. A plugin can be blocked by name (the server feeds ``SCAICONTROL_DISABLED_PLUGINS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import cattrs
import pluggy

from . import hookspecs
from .errors import DuplicatePlugin, PluginError, UnknownPlugin
from .identity_provider import IdentityConfig, IdentityProvider, IdentityProviderFactory
from .ports import Storage, StorageConfig, StorageFactory

__all__ = ["Plugins", "make_plugin_manager"]

def make_plugin_manager(
    *,
    entry_points: bool = True,
    extra: Iterable[object] = (),
    blocked: Iterable[str] = (),
) -> pluggy.PluginManager:
    """Build a new manager: specs, blocks, entry points, then ``extra`` plugin objects."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    if entry_points:
        _load_entry_points(pm)
    for plugin in extra:
        pm.register(plugin)
    pm.check_pending()
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    from importlib.metadata import entry_points  # lazily: it pulls in the email package

    for ep in entry_points(group=hookspecs.PROJECT):
        if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
            continue
        try:
            plugin = ep.load()
        except ImportError as exc:
            raise PluginError(f"plugin '{ep.name}' ({ep.value}) failed to import: {exc}") from exc
        pm.register(plugin, name=ep.name)


class Plugins:
    """Typed access to what plugins registered; one method per hook."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def _collect(self, kind: str, hook: Callable[..., Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def register(name: str, factory: Any) -> None:
            if not isinstance(name, str) or not name:
                raise PluginError(f"{kind} names must be non-empty strings, got {name!r}")
            if name in found:
                raise DuplicatePlugin(kind, name)
            found[name] = factory

        hook(register=register)
        return found

    def storage_backends(self) -> dict[str, StorageFactory]:
        """Storage factories by name."""
        return self._collect("storage backend", self.pm.hook.scaicontrol_register_storage_backends)

    def open_storage(self, name: str, config: StorageConfig) -> Storage:
        """Build the storage backend ``name``; ``UnknownPlugin`` lists the ones available."""
        backends = self.storage_backends()
        if name not in backends:
            raise UnknownPlugin("storage backend", name, list(backends))
        return backends[name](config)

    def identity_providers(self) -> dict[str, IdentityProviderFactory]:
        """Identity-provider factories by name."""
        return self._collect(
            "identity provider", self.pm.hook.scaicontrol_register_identity_providers
        )

    def open_identity_provider(self, name: str, config: IdentityConfig) -> IdentityProvider:
        """Build the identity provider ``name``; ``UnknownPlugin`` lists the ones available."""
        providers = self.identity_providers()
        if name not in providers:
            raise UnknownPlugin("identity provider", name, list(providers))
        return providers[name](config)

    def configure_converter(self, converter: cattrs.Converter) -> cattrs.Converter:
        """Let every plugin add hooks to ``converter``; returns it for chaining."""
        self.pm.hook.scaicontrol_configure_converter(converter=converter)
        return converter

    def names(self) -> list[str]:
        """Names of the registered plugins (entry-point names for installed ones)."""
        return sorted(
            name for name, plugin in self.pm.list_name_plugin() if plugin is not None and name
        )
