"""Identity commands of the ``scaicontrol`` CLI: ``admin ...`` and ``sync``.

``admin create-super-admin`` sets up the first super admin on a fresh install (local
provider); ``admin grant-role`` / ``admin revoke-role`` change a user's roles;
``sync`` reconciles users and groups with the OIDC provider's directory. Changes are
written to the audit log with the actor ``cli``.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from collections.abc import Callable

from scaicontrol_core.access import Role
from scaicontrol_core.audit import Actor
from scaicontrol_core.directory_sync import SyncCounts, SyncReport, reconcile_directory
from scaicontrol_core.errors import ConfigurationError, NotFound, StorageError, ValidationError
from scaicontrol_core.identity import (
    create_user,
    grant_user_role,
    normalise_email,
    revoke_user_role,
    super_admin_exists,
)
from scaicontrol_core.identity_demo import DEMO_LOGINS, DEMO_PASSWORD
from scaicontrol_core.identity_provider import IdentityProvider
from scaicontrol_core.identity_records import User
from scaicontrol_core.ids import IdPrefix, RandomIds
from scaicontrol_core.ports import Storage, UnitOfWork
from scaicontrol_core.records import Partner, Tenant

from .auth import identity_config
from .bootstrap import load_plugins, open_storage
from .clock import SystemClock
from .settings import Settings

__all__ = ["COMMANDS", "add_identity_commands", "print_demo_logins"]

CLI_ACTOR = Actor(id="cli")


def add_identity_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``admin`` and ``sync`` to the top-level command parser."""
    admin = commands.add_parser("admin", help="manage administrators and roles")
    steps = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    first = steps.add_parser("create-super-admin",
                             help="create the first super admin (local identity provider)")
    first.add_argument("--email", required=True, help="login e-mail address")
    first.add_argument("--name", help="display name")
    first.add_argument("--tenant-id", help="tenant of the operator's staff (default: made)")
    first.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input (default: generate one)")
    for verb in ("grant-role", "revoke-role"):
        step = steps.add_parser(verb, help=f"{verb.split('-')[0]} a role of a user")
        step.add_argument("user", help="user id (usr_...) or e-mail address")
        step.add_argument("role", choices=[r.value for r in Role])
    commands.add_parser("sync", help="reconcile users and groups with the OIDC directory")


def _ready_storage(settings: Settings) -> Storage:
    storage = open_storage(settings, load_plugins(settings))
    status = storage.check()
    if not status.ready:
        storage.close()
        raise StorageError(f"storage not ready: {status.detail}; run 'scaicontrol migrate "
                           "upgrade' first")
    return storage


def _provider(settings: Settings, storage: Storage) -> IdentityProvider:
    plugins = load_plugins(settings)
    config = identity_config(settings, storage, SystemClock(), RandomIds())
    return plugins.open_identity_provider(settings.identity_provider, config)


def _find_user(uow: UnitOfWork, ref: str) -> User:
    user = uow.users.get(ref)
    if user is None and "@" in ref:
        matches = uow.users.find({"email": normalise_email(ref)}, limit=2)
        if len(matches) > 1:
            raise ValidationError(f"several users have the address '{ref}'; use the user id")
        user = matches[0] if matches else None
    if user is None:
        raise NotFound("User", ref)
    return user


def _staff_tenant(uow: UnitOfWork, tenant_id: str | None) -> Tenant:
    now, ids = SystemClock().now(), RandomIds()
    if tenant_id is not None:
        return uow.tenants.require(tenant_id)
    operators = uow.partners.find({"is_operator": True}, limit=1)
    operator = operators[0] if operators else uow.partners.add(Partner(
        id=ids.prefixed(IdPrefix.PARTNER), name="Platform operator", is_operator=True,
        created_at=now, updated_at=now,
    ))
    return uow.tenants.add(Tenant(id=ids.prefixed(IdPrefix.TENANT), partner_id=operator.id,
                                  name="Platform staff", created_at=now, updated_at=now))


def _cmd_create_super_admin(args: argparse.Namespace, settings: Settings) -> int:
    storage = _ready_storage(settings)
    try:
        passwords = _provider(settings, storage).passwords
        if passwords is None:
            raise ConfigurationError(
                f"the '{settings.identity_provider}' identity provider keeps no passwords: "
                "run 'scaicontrol sync', then 'scaicontrol admin grant-role USER super_admin'",
                setting="SCAICONTROL_IDENTITY")
        generated = not args.password_stdin
        password = secrets.token_urlsafe(18) if generated else sys.stdin.readline().strip()
        if len(password) < 12:
            raise ValidationError("the password needs at least 12 characters")
        password_hash = passwords.hash(password)
        with storage.unit_of_work(cross_tenant=True) as uow:
            if super_admin_exists(uow):
                raise ValidationError("a super admin exists already; use "
                                      "'scaicontrol admin grant-role USER super_admin'")
            tenant = _staff_tenant(uow, args.tenant_id)
            user = create_user(uow, tenant_id=tenant.id, email=args.email,
                               display_name=args.name, password_hash=password_hash,
                               roles=[Role.SUPER_ADMIN.value], now=SystemClock().now(),
                               ids=RandomIds(), actor=CLI_ACTOR)
            uow.commit()
    finally:
        storage.close()
    print(f"super admin {user.email} created ({user.id}, tenant {tenant.id})")
    if generated:
        print(f"password: {password}  (shown once; change it after logging in)")
    return 0


def _cmd_role(args: argparse.Namespace, settings: Settings) -> int:
    storage = _ready_storage(settings)
    grant = args.admin_command == "grant-role"
    try:
        with storage.unit_of_work() as uow:
            user = _find_user(uow, args.user)
            change = grant_user_role if grant else revoke_user_role
            saved = change(uow, user, args.role, now=SystemClock().now(), ids=RandomIds(),
                           actor=CLI_ACTOR)
            uow.commit()
    finally:
        storage.close()
    verb = "granted" if grant else "revoked"
    state = verb if saved.roles != user.roles else "unchanged"
    print(f"{args.role} {state} for {saved.email} ({saved.id}); roles: "
          f"{', '.join(saved.roles) or 'none'}")
    return 0


def _cmd_admin(args: argparse.Namespace, settings: Settings) -> int:
    if args.admin_command == "create-super-admin":
        return _cmd_create_super_admin(args, settings)
    return _cmd_role(args, settings)


def _counts(name: str, counts: SyncCounts) -> str:
    return (f"{name}: {counts.added} added, {counts.updated} updated, {counts.deleted} "
            f"deleted, {counts.undeleted} undeleted, {counts.unchanged} unchanged")


def _cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    storage = _ready_storage(settings)
    try:
        provider = _provider(settings, storage)

        async def fetch() -> object:
            try:
                directory = provider.directory()
                if directory is None:
                    raise ConfigurationError(
                        f"the '{provider.name}' identity provider has no directory to sync "
                        "(set SCAICONTROL_IDENTITY=oidc and SCAICONTROL_OIDC_DIRECTORY_URL)",
                        setting="SCAICONTROL_OIDC_DIRECTORY_URL")
                return await directory.fetch()
            finally:
                await provider.aclose()

        snapshot = asyncio.run(fetch())
        with storage.unit_of_work() as uow:
            report: SyncReport = reconcile_directory(
                uow, snapshot, now=SystemClock().now(), ids=RandomIds(),  # type: ignore[arg-type]
                actor=CLI_ACTOR)
            uow.commit()
    finally:
        storage.close()
    print(_counts("users", report.users))
    print(_counts("groups", report.groups))
    print(f"memberships: {report.memberships_added} added, "
          f"{report.memberships_removed} removed")
    return 0


def print_demo_logins() -> None:
    """The demo accounts, for ``scaicontrol demo``."""
    print(f"demo logins (password '{DEMO_PASSWORD}', local identity provider):")
    for email, role in DEMO_LOGINS:
        print(f"  {email:<28} {role}")


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "admin": _cmd_admin,
    "sync": _cmd_sync,
}
