"""Plugin loading: fresh managers, entry points, blocking and clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from scaicontrol_adapters.storage import memory
from scaicontrol_core.errors import DuplicatePlugin, PluginError, UnknownPlugin
from scaicontrol_core.hookspecs import hookimpl
from scaicontrol_core.plugins import Plugins, make_plugin_manager
from scaicontrol_core.ports import StorageConfig
from scaicontrol_core.serialization import make_converter


class NamedStorage:
    """A plugin registering one storage name."""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def scaicontrol_register_storage_backends(self, register: Callable[..., None]) -> None:
        register(self.name, lambda config: memory.MemoryStorage())


def test_managers_are_independent() -> None:
    """Each call builds a new manager; registering in one does not leak into another."""
    first = Plugins(make_plugin_manager(entry_points=False, extra=[NamedStorage("one")]))
    second = Plugins(make_plugin_manager(entry_points=False))
    assert list(first.storage_backends()) == ["one"]
    assert second.storage_backends() == {}


def test_built_in_adapters_load_through_entry_points() -> None:
    """The memory and sqlalchemy backends register through the scaicontrol entry points."""
    plugins = Plugins(make_plugin_manager())
    assert {"memory", "sqlalchemy"} <= set(plugins.storage_backends())
    assert {"memory", "sqlalchemy"} <= set(plugins.names())
    storage = plugins.open_storage("memory", StorageConfig(url="memory://"))
    assert storage.check().ready


def test_blocked_plugins_are_not_loaded() -> None:
    """A blocked entry-point name registers nothing."""
    plugins = Plugins(make_plugin_manager(blocked=["memory"]))
    assert "memory" not in plugins.storage_backends()
    assert "sqlalchemy" in plugins.storage_backends()


def test_unknown_backend_lists_the_available_ones() -> None:
    """Asking for an unregistered backend names what is available."""
    plugins = Plugins(make_plugin_manager(entry_points=False, extra=[NamedStorage("memory")]))
    with pytest.raises(UnknownPlugin, match="unknown storage backend 'redis'; available: memory"):
        plugins.open_storage("redis", StorageConfig(url="redis://"))


def test_duplicate_names_are_refused() -> None:
    """Two plugins registering the same storage name is an error, not a silent override."""
    pm = make_plugin_manager(entry_points=False, extra=[NamedStorage("x"), NamedStorage("x")])
    with pytest.raises(DuplicatePlugin, match="storage backend 'x' is registered twice"):
        Plugins(pm).storage_backends()


def test_empty_names_are_refused() -> None:
    """A plugin cannot register a backend under an empty name."""
    pm = make_plugin_manager(entry_points=False, extra=[NamedStorage("")])
    with pytest.raises(PluginError):
        Plugins(pm).storage_backends()


def test_unknown_hook_in_a_plugin_is_rejected() -> None:
    """A plugin implementing a hook that does not exist fails at manager build time."""

    class Typo:
        @hookimpl
        def scaicontrol_register_storage_backendz(self, register: Any) -> None: ...

    with pytest.raises(Exception, match="unknown hook"):
        make_plugin_manager(entry_points=False, extra=[Typo()])


def test_plugins_extend_the_converter() -> None:
    """configure_converter runs every plugin's hook on the given converter."""

    class Marker:
        pass

    class AddsHook:
        @hookimpl
        def scaicontrol_configure_converter(self, converter: Any) -> None:
            converter.register_unstructure_hook(Marker, lambda _: "marker")

    plugins = Plugins(make_plugin_manager(entry_points=False, extra=[AddsHook()]))
    assert plugins.configure_converter(make_converter()).unstructure(Marker()) == "marker"


def test_missing_extra_gives_an_install_hint() -> None:
    """Without SQLAlchemy the sqlalchemy backend still loads, and opening it names the extra."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["sqlalchemy"] = None
        sys.modules["alembic"] = None
        from scaicontrol_core.errors import MissingDependency
        from scaicontrol_core.plugins import Plugins, make_plugin_manager
        from scaicontrol_core.ports import StorageConfig
        plugins = Plugins(make_plugin_manager())
        try:
            plugins.open_storage("sqlalchemy", StorageConfig(url="sqlite://"))
        except MissingDependency as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert "pip install 'scaicontrol[sqlalchemy]'" in out
