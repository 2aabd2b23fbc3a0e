"""The identity commands of the real ``scaicontrol`` CLI in subprocesses: the first super
admin on a fresh install (then logging in through ``scaicontrol serve``), granting and
revoking roles, the demo logins, and ``sync`` against a fake directory on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .fake_issuer import running_issuer


def _command() -> list[str]:
    script = Path(sys.executable).with_name("scaicontrol")
    if script.exists():
        return [str(script)]
    found = shutil.which("scaicontrol")
    return [found] if found else [sys.executable, "-m", "scaicontrol_server.cli"]


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SCAICONTROL_", "DATABASE", "SCAIKEY_"))}
    return {**env, **extra}


def run(*args: str, env: Mapping[str, str], cwd: Path,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``scaicontrol ARGS`` to completion."""
    return subprocess.run([*_command(), *args], env=_env(env), cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


@contextmanager
def serving(env: Mapping[str, str], cwd: Path) -> Iterator[str]:
    """``scaicontrol serve`` on a free port until the block ends; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([*_command(), "serve", "--port", str(port), "--no-workers"],
                               env=_env(env), cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "server exited"
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    """A migrated SQLite database file for the CLI."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'identity.db'}"}
    assert run("migrate", "upgrade", env=env, cwd=tmp_path).returncode == 0
    return env


def test_first_super_admin_then_login_through_serve(sqlite_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    """On a fresh install the CLI makes a super admin with a generated password, refuses
    a second one, and that password logs in through the running server."""
    made = run("admin", "create-super-admin", "--email", "Root@Example.com", "--name", "Root",
               env=sqlite_env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    password = made.stdout.split("password: ")[1].split()[0]
    again = run("admin", "create-super-admin", "--email", "other@example.com",
                "--password-stdin", env=sqlite_env, cwd=tmp_path, stdin="x" * 20 + "\n")
    assert again.returncode == 1 and "exists already" in again.stderr
    with serving(sqlite_env, tmp_path) as base:
        tokens = httpx.post(base + "/api/v1/auth/token", json={
            "grant_type": "password", "username": "root@example.com",
            "password": password}).json()
        me = httpx.get(base + "/api/v1/auth/me",
                       headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert me["roles"] == ["super_admin"] and me["email"] == "root@example.com"
    assert len(me["permissions"]) == 16 and me["partner_name"] == "Platform operator"


def test_demo_prints_logins_and_roles_can_be_granted(sqlite_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    """`demo` lists the demo accounts; grant-role and revoke-role work by e-mail address
    and are idempotent; an unknown user is an error."""
    demo = run("demo", env=sqlite_env, cwd=tmp_path)
    assert "admin@scailabs.example" in demo.stdout and "scaicontrol-demo" in demo.stdout
    grant = run("admin", "grant-role", "user@acme.example", "tenant_admin", env=sqlite_env,
                cwd=tmp_path)
    assert grant.returncode == 0, grant.stderr
    assert "tenant_admin granted" in grant.stdout and "tenant_admin, tenant_user" in grant.stdout
    repeat = run("admin", "grant-role", "usr_demo_acme_user", "tenant_admin", env=sqlite_env,
                 cwd=tmp_path)
    assert "unchanged" in repeat.stdout
    revoke = run("admin", "revoke-role", "user@acme.example", "tenant_user", env=sqlite_env,
                 cwd=tmp_path)
    assert revoke.returncode == 0 and "roles: tenant_admin" in revoke.stdout
    missing = run("admin", "grant-role", "ghost@acme.example", "tenant_user", env=sqlite_env,
                  cwd=tmp_path)
    assert missing.returncode == 1 and "not found" in missing.stderr
    bad_role = run("admin", "grant-role", "user@acme.example", "wizard", env=sqlite_env,
                   cwd=tmp_path)
    assert bad_role.returncode == 2


def test_sync_reconciles_with_the_directory(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    """`sync` adds, then changes nothing, then updates, soft-deletes and undeletes, printing
    counts each time; a malformed directory changes nothing; the local provider has no
    directory."""
    assert "no directory" in run("sync", env=sqlite_env, cwd=tmp_path).stderr
    with running_issuer() as issuer:
        env = {**sqlite_env, "SCAICONTROL_IDENTITY": "oidc", "SCAIKEY_ISSUER": issuer.base_url,
               "SCAIKEY_CLIENT_ID": "scaicontrol", "SCAIKEY_CLIENT_SECRET": "s3cret",
               "SCAICONTROL_OIDC_DIRECTORY_URL": issuer.base_url + "/directory"}
        issuer.users = [{"id": f"usr_dir{n:03d}", "tenant_id": "tnt_dir", "email":
                         f"user{n}@dir.example", "display_name": f"User {n}"} for n in range(150)]
        issuer.groups = [{"id": "grp_dir_ops", "tenant_id": "tnt_dir", "name": "Ops",
                          "member_ids": ["usr_dir000", "usr_dir001"]}]
        first = run("sync", env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert first.stdout.splitlines() == [
            "users: 150 added, 0 updated, 0 deleted, 0 undeleted, 0 unchanged",
            "groups: 1 added, 0 updated, 0 deleted, 0 undeleted, 0 unchanged",
            "memberships: 2 added, 0 removed"]
        second = run("sync", env=env, cwd=tmp_path)
        assert second.stdout.splitlines()[0] == (
            "users: 0 added, 0 updated, 0 deleted, 0 undeleted, 150 unchanged")
        removed = issuer.users.pop()
        issuer.users[0]["display_name"] = "Renamed"
        issuer.groups[0]["member_ids"] = ["usr_dir000"]
        third = run("sync", env=env, cwd=tmp_path)
        assert third.stdout.splitlines() == [
            "users: 0 added, 1 updated, 1 deleted, 0 undeleted, 148 unchanged",
            "groups: 0 added, 0 updated, 0 deleted, 0 undeleted, 1 unchanged",
            "memberships: 0 added, 1 removed"]
        issuer.users.append(removed)
        fourth = run("sync", env=env, cwd=tmp_path)
        assert fourth.stdout.splitlines()[0] == (
            "users: 0 added, 0 updated, 0 deleted, 1 undeleted, 149 unchanged")
        issuer.users.append({"id": "usr_bad", "tenant_id": "tnt_dir"})  # no e-mail
        broken = run("sync", env=env, cwd=tmp_path)
        assert broken.returncode == 1 and "'email'" in broken.stderr
        issuer.users.pop()
        after = run("sync", env=env, cwd=tmp_path)
        assert after.stdout.splitlines()[0] == (
            "users: 0 added, 0 updated, 0 deleted, 0 undeleted, 150 unchanged")
