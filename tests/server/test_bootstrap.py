"""Plugins and storage come from settings: disabled plugins stay out, the URL picks storage."""

from __future__ import annotations

import pytest

from scaicontrol_core.errors import UnknownPlugin
from scaicontrol_server.bootstrap import load_plugins, open_storage
from scaicontrol_server.settings import load_settings


def test_disabled_plugins_setting_blocks_entry_points() -> None:
    """SCAICONTROL_DISABLED_PLUGINS keeps the named entry points from loading."""
    settings = load_settings({"SCAICONTROL_DISABLED_PLUGINS": "memory"}, env_file="/none")
    backends = load_plugins(settings).storage_backends()
    assert "memory" not in backends and "sqlalchemy" in backends


def test_memory_url_opens_memory_storage() -> None:
    """DATABASE_URL=memory:// needs no database and is ready at once."""
    settings = load_settings({"DATABASE_URL": "memory://"}, env_file="/none")
    storage = open_storage(settings, load_plugins(settings))
    assert storage.name == "memory" and storage.check().ready


def test_unknown_storage_name_is_reported() -> None:
    """Naming a storage plugin nobody registered lists the ones that exist."""
    settings = load_settings({"SCAICONTROL_STORAGE": "cassandra"}, env_file="/none")
    with pytest.raises(UnknownPlugin, match="available: memory, sqlalchemy"):
        open_storage(settings, load_plugins(settings))
