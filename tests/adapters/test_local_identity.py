"""The local identity provider on shared SQL storage: several processes agree on one
signing key, verify each other's tokens, upgrade weak password hashes, and a refresh token
raced by two clients is spent once and revokes its session."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("jwt")

from argon2 import PasswordHasher

from scaicontrol_adapters.identity.local import LocalIdentityProvider
from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
from scaicontrol_core.clock import ManualClock
from scaicontrol_core.demo import load_demo
from scaicontrol_core.errors import Unauthenticated, ValidationError
from scaicontrol_core.identity_demo import DEMO_PASSWORD
from scaicontrol_core.identity_provider import IdentityConfig, TokenRequest
from scaicontrol_core.ids import RandomIds

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
OpenStorage = Callable[..., SqlAlchemyStorage]


def _provider(storage: SqlAlchemyStorage, clock: ManualClock) -> LocalIdentityProvider:
    return LocalIdentityProvider(IdentityConfig(
        storage=storage, clock=clock, ids=RandomIds(), public_url="http://localhost:8000"))


def _login(provider: LocalIdentityProvider, email: str = "admin@acme.example",
           password: str = DEMO_PASSWORD) -> dict[str, Any]:
    request = TokenRequest(grant_type="password", username=email, password=password)
    return dict(asyncio.run(provider.token(request)))


@pytest.fixture
def two_storages(sql_storage: SqlAlchemyStorage,
                 open_sql_storage: OpenStorage) -> tuple[SqlAlchemyStorage, SqlAlchemyStorage]:
    """Two independent storages (two 'processes') on the same database, with the demo."""
    with sql_storage.unit_of_work(cross_tenant=True) as uow:
        load_demo(uow, now=NOW, ids=RandomIds())
        uow.commit()
    return sql_storage, open_sql_storage(str(sql_storage.engine.url.render_as_string(
        hide_password=False)))


def test_processes_share_one_signing_key(two_storages: tuple[SqlAlchemyStorage,
                                                             SqlAlchemyStorage]) -> None:
    """Two providers starting at once settle on the oldest key and accept each other's
    tokens; a restart reuses the stored key."""
    clock = ManualClock(NOW)
    first, second = (_provider(s, clock) for s in two_storages)
    kids: list[str] = []
    barrier = threading.Barrier(2)

    def start(provider: LocalIdentityProvider) -> None:
        barrier.wait()
        kids.append(provider._signing_key()[0])

    threads = [threading.Thread(target=start, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(kids)) == 1
    token = _login(first)["access_token"]
    assert asyncio.run(second.verify(token)).subject == "usr_demo_acme_admin"
    restarted = _provider(two_storages[1], clock)
    assert restarted._signing_key()[0] == kids[0]
    assert asyncio.run(restarted.verify(_login(second)["access_token"])).tenant_id == \
        "tnt_demo_acme"


def test_tokens_from_an_unknown_key_are_refused(two_storages: tuple[SqlAlchemyStorage,
                                                                    SqlAlchemyStorage],
                                                open_sql_storage: OpenStorage,
                                                scratch_database_url: str) -> None:
    """A token signed by another deployment's key (same issuer) is not accepted."""
    clock = ManualClock(NOW)
    other_storage = open_sql_storage(scratch_database_url)
    other_storage.migrator.upgrade()
    with other_storage.unit_of_work(cross_tenant=True) as uow:
        load_demo(uow, now=NOW, ids=RandomIds())
        uow.commit()
    foreign = _login(_provider(other_storage, clock))["access_token"]
    with pytest.raises(Unauthenticated):
        asyncio.run(_provider(two_storages[0], clock).verify(foreign))


def test_weak_password_hashes_are_upgraded_at_login(
    two_storages: tuple[SqlAlchemyStorage, SqlAlchemyStorage],
) -> None:
    """A hash made with weaker parameters still logs in and is replaced by a current one."""
    storage = two_storages[0]
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(DEMO_PASSWORD)
    with storage.unit_of_work() as uow:
        credential = uow.credentials.require("admin@acme.example")
        uow.credentials.update(attrs.evolve(credential, password_hash=weak))
        uow.commit()
    provider = _provider(storage, ManualClock(NOW))
    assert _login(provider)["token_type"] == "Bearer"
    with storage.unit_of_work() as uow:
        upgraded = uow.credentials.require("admin@acme.example").password_hash
    assert upgraded != weak and not provider.passwords.needs_rehash(upgraded)
    assert _login(provider)["token_type"] == "Bearer"


def test_a_raced_refresh_token_is_spent_once(
    two_storages: tuple[SqlAlchemyStorage, SqlAlchemyStorage],
) -> None:
    """Two clients redeem the same refresh token at once: one wins, the other counts as
    reuse, and the winner's new token is revoked with the rest of the session."""
    clock = ManualClock(NOW)
    first, second = (_provider(s, clock) for s in two_storages)
    token = _login(first)["refresh_token"]
    outcomes: list[Any] = []
    barrier = threading.Barrier(2)

    def redeem(provider: LocalIdentityProvider) -> None:
        barrier.wait()
        try:
            outcomes.append(asyncio.run(provider.token(
                TokenRequest(grant_type="refresh_token", refresh_token=token))))
        except ValidationError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=redeem, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wins = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(wins) == 1 and len(outcomes) == 2
    with pytest.raises(ValidationError):
        asyncio.run(first.token(TokenRequest(grant_type="refresh_token",
                                             refresh_token=wins[0]["refresh_token"])))
