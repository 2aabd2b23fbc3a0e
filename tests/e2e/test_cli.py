"""The ``scaicontrol`` command: version, migrations, demo data and the worker."""

from __future__ import annotations

from pathlib import Path

from scaicontrol_core import __version__

from .helpers import run_cli


def _sqlite(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def test_version(tmp_path: Path) -> None:
    """--version prints the package version."""
    result = run_cli("--version", env={}, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"scaicontrol {__version__}"


def test_migrate_upgrade_current_downgrade(tmp_path: Path) -> None:
    """The schema moves up and down and `current` says where it stands."""
    env = _sqlite(tmp_path)
    up = run_cli("migrate", "upgrade", env=env, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert "(up to date)" in up.stdout
    current = run_cli("migrate", "current", env=env, cwd=tmp_path)
    head = current.stdout.split("head: ")[1].split()[0]
    assert f"current: {head}" in current.stdout
    down = run_cli("migrate", "downgrade", "base", env=env, cwd=tmp_path)
    assert down.returncode == 0 and "current: base" in down.stdout and "(behind)" in down.stdout


def test_demo_twice_changes_nothing(tmp_path: Path) -> None:
    """The second demo run creates nothing."""
    env = _sqlite(tmp_path)
    assert run_cli("migrate", "upgrade", env=env, cwd=tmp_path).returncode == 0
    first = run_cli("demo", env=env, cwd=tmp_path).stdout.splitlines()[0]
    second = run_cli("demo", env=env, cwd=tmp_path).stdout.splitlines()[0]
    created = int(first.split()[2])
    assert created >= 5 and first == f"demo data: {created} created, 0 already present"
    assert second == f"demo data: 0 created, {created} already present"


def test_demo_before_migrations_fails_clearly(tmp_path: Path) -> None:
    """Loading demo data into an empty database exits 1 and says to migrate."""
    result = run_cli("demo", env=_sqlite(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "scaicontrol migrate upgrade" in result.stderr


def test_migrate_on_memory_storage_is_refused(tmp_path: Path) -> None:
    """memory:// has no schema, so migrate exits 1 with a message."""
    result = run_cli("migrate", "current", env={"DATABASE_URL": "memory://"}, cwd=tmp_path)
    assert result.returncode == 1 and "no schema" in result.stderr


def test_bad_setting_is_reported(tmp_path: Path) -> None:
    """A malformed setting exits 1 naming the variable."""
    result = run_cli("migrate", "current", env={"SCAICONTROL_PORT": "x"}, cwd=tmp_path)
    assert result.returncode == 1 and "SCAICONTROL_PORT" in result.stderr


def test_worker_once_runs_every_job(tmp_path: Path) -> None:
    """`worker --once` runs each job one time and exits 0."""
    env = _sqlite(tmp_path)
    assert run_cli("migrate", "upgrade", env=env, cwd=tmp_path).returncode == 0
    result = run_cli("worker", "--once", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "outbox-housekeeping: 0" in result.stdout


def test_env_file_option(tmp_path: Path) -> None:
    """--env-file supplies settings the environment does not."""
    (tmp_path / "custom.env").write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'other.db'}\n")
    result = run_cli("--env-file", "custom.env", "migrate", "upgrade", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "other.db").exists()
