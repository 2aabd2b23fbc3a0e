"""Building the pieces an application needs from settings: plugins and storage."""

from __future__ import annotations

from collections.abc import Iterable

from scaicontrol_core.plugins import Plugins, make_plugin_manager
from scaicontrol_core.ports import Storage, StorageConfig

from .settings import Settings

__all__ = ["load_plugins", "open_storage"]


def load_plugins(settings: Settings, plugins: Iterable[object] | None = None) -> Plugins:
    """Entry-point plugins (minus the disabled ones), or exactly ``plugins`` when given."""
    if plugins is None:
        pm = make_plugin_manager(entry_points=True, blocked=settings.disabled_plugins)
    else:
        pm = make_plugin_manager(entry_points=False, extra=plugins)
    return Plugins(pm)


def open_storage(settings: Settings, plugins: Plugins) -> Storage:
    """Open the storage backend the settings name."""
    return plugins.open_storage(settings.storage_name, StorageConfig(url=settings.database_url))
