"""The identity part of the storage contract: text search, tenant isolation of billing
profiles, refresh-token families, directory sync, and identity records round trips.

Subclass :class:`IdentityStorageContract` with a ``storage`` fixture, like
:class:`~scaicontrol_core.testing.storage_contract.StorageContract`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from ..audit import Actor
from ..billing_profiles import BillingProfileInput, upsert_billing_profile
from ..directory_sync import SyncReport, reconcile_directory
from ..errors import TenantScopeRequired, ValidationError
from ..identity_provider import DirectoryGroup, DirectorySnapshot, DirectoryUser
from ..identity_records import (
    AuditEntry,
    DirectorySource,
    SigningKey,
    TenantBillingProfile,
    User,
    UserStatus,
)
from ..ids import SequentialIds
from ..ports import Storage
from ..records import Partner, Tenant
from ..sessions import RedeemOutcome, issue_refresh_token, redeem_refresh_token

__all__ = ["IdentityStorageContract"]

T0 = datetime(2026, 2, 1, 8, 0, 0, 250000, tzinfo=UTC)
DAY = timedelta(days=1)
ACTOR = Actor(id="usr_contract")


def _seed(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.partners.add(Partner(id="prt_a", name="Partner A", created_at=T0, updated_at=T0))
        for tid, name, email in (("tnt_1", "Alpha 100% Ltd", "ops@alpha.example"),
                                 ("tnt_2", "Beta_Works", "hello@BETA.example"),
                                 ("tnt_3", "Gamma", None)):
            uow.tenants.add(Tenant(id=tid, partner_id="prt_a", name=name, email=email,
                                   created_at=T0, updated_at=T0))
        uow.commit()


def _profile(name: str = "Alpha Ltd") -> BillingProfileInput:
    return BillingProfileInput(company_name=name, address_line1="Main 1", postal_code="1000",
                               city="Brussels", country_code="BE")


class IdentityStorageContract:
    """Identity behaviour every storage backend must show."""

    # --- search ----------------------------------------------------------------------

    def test_search_ignores_case_and_combines_with_filters(self, storage: Storage) -> None:
        """search matches a substring of any named field, any case, within the filters."""
        _seed(storage)
        with storage.unit_of_work() as uow:
            found = uow.tenants.search("BETA", ["name", "email"])
            assert [t.id for t in found] == ["tnt_2"]
            assert [t.id for t in uow.tenants.search("a", ["name"], {"id": ["tnt_1", "tnt_3"]},
                                                     order_by=["-name"])] == ["tnt_3", "tnt_1"]
            assert uow.tenants.count_search("example", ["email"]) == 2
            assert uow.tenants.count_search("", ["name"]) == 3
            assert [t.id for t in uow.tenants.search("", ["name"], offset=1, limit=1)] == [
                "tnt_2"]

    def test_search_treats_wildcards_literally(self, storage: Storage) -> None:
        """'%' and '_' in the text match only themselves."""
        _seed(storage)
        with storage.unit_of_work() as uow:
            assert [t.id for t in uow.tenants.search("100%", ["name"])] == ["tnt_1"]
            assert [t.id for t in uow.tenants.search("_", ["name"])] == ["tnt_2"]
            assert uow.tenants.search("%", ["email"]) == []

    def test_search_refuses_unknown_fields(self, storage: Storage) -> None:
        """Naming a field the record does not have is a ValidationError."""
        with storage.unit_of_work() as uow, pytest.raises(ValidationError):
            uow.tenants.search("x", ["nope"])

    # --- tenant isolation ------------------------------------------------------------

    def test_billing_profiles_need_a_tenant_scope(self, storage: Storage) -> None:
        """Without a tenant (or cross_tenant) the billing profiles cannot be used at all."""
        with storage.unit_of_work() as uow, pytest.raises(TenantScopeRequired):
            uow.tenant_billing_profiles.get("tnt_1")

    def test_a_foreign_profile_reads_as_missing(self, storage: Storage) -> None:
        """Confined to tnt_2, tnt_1's profile is invisible and cannot be written."""
        _seed(storage)
        ids = SequentialIds()
        with storage.unit_of_work(tenant_id="tnt_1") as uow:
            tenant = uow.tenants.require("tnt_1")
            profile, _ = upsert_billing_profile(uow, tenant, _profile(), now=T0, ids=ids,
                                                actor=ACTOR)
            uow.commit()
        with storage.unit_of_work(tenant_id="tnt_2") as uow:
            assert uow.tenant_billing_profiles.get("tnt_1") is None
            assert uow.tenant_billing_profiles.find() == []
            assert uow.tenant_billing_profiles.count() == 0
            with pytest.raises(ValidationError):
                uow.tenant_billing_profiles.update(attrs.evolve(profile, city="Ghent"))
        with storage.unit_of_work(cross_tenant=True) as uow:
            assert uow.tenant_billing_profiles.require("tnt_1").city == "Brussels"

    # --- records ---------------------------------------------------------------------

    def test_identity_records_round_trip(self, storage: Storage) -> None:
        """Tuples, enums, JSON mappings and optional instants come back unchanged."""
        user = User(id="usr_1", tenant_id="tnt_1", email="a@b.example", roles=("tenant_admin",
                    "tenant_user"), source=DirectorySource.DIRECTORY, created_at=T0,
                    updated_at=T0, synced_at=T0 + DAY)
        key = SigningKey(id="kid-1", algorithm="ES256", private_key="-----PEM-----",
                         public_jwk={"kty": "EC", "crv": "P-256", "x": "a", "y": "b"},
                         created_at=T0)
        entry = AuditEntry(id="00000000-0000-4000-8000-000000000001", occurred_at=T0,
                           actor_id="cli", action="user.create", resource_type="user",
                           resource_id="usr_1", before=None,
                           after={"roles": ["tenant_admin"], "n": 1, "ok": True})
        with storage.unit_of_work() as uow:
            uow.users.add(user)
            uow.signing_keys.add(key)
            uow.audit_log.add(entry)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.users.require("usr_1") == user
            assert uow.signing_keys.require("kid-1") == key
            stored = uow.audit_log.require(entry.id)
        assert dict(stored.after or {}) == dict(entry.after or {}) and stored.before is None

    def test_profile_round_trip_keeps_enums(self, storage: Storage) -> None:
        """A stored billing profile reads back equal, enum fields included."""
        _seed(storage)
        with storage.unit_of_work(tenant_id="tnt_1") as uow:
            profile, changed = upsert_billing_profile(
                uow, uow.tenants.require("tnt_1"), _profile(), now=T0, ids=SequentialIds(),
                actor=ACTOR)
            uow.commit()
        assert len(changed) == 20
        with storage.unit_of_work(tenant_id="tnt_1") as uow:
            loaded: TenantBillingProfile = uow.tenant_billing_profiles.require("tnt_1")
        assert loaded == profile

    # --- refresh tokens --------------------------------------------------------------

    def test_refresh_tokens_rotate_once_and_reuse_revokes_the_family(
        self, storage: Storage
    ) -> None:
        """Each token works once; presenting a spent one revokes its successors too."""
        ids = SequentialIds()
        with storage.unit_of_work() as uow:
            first, _ = issue_refresh_token(uow, user_id="usr_1", secret="s1", now=T0, ttl=DAY,
                                           ids=ids)
            uow.commit()
        with storage.unit_of_work() as uow:
            rotated = redeem_refresh_token(uow, first, new_secret="s2", now=T0, ttl=DAY,
                                           ids=ids)
            uow.commit()
        assert rotated.outcome is RedeemOutcome.ROTATED and rotated.user_id == "usr_1"
        assert rotated.token is not None
        with storage.unit_of_work() as uow:
            reused = redeem_refresh_token(uow, first, new_secret="s3", now=T0, ttl=DAY,
                                          ids=ids)
            uow.commit()
        assert reused.outcome is RedeemOutcome.REUSED
        with storage.unit_of_work() as uow:
            successor = redeem_refresh_token(uow, rotated.token, new_secret="s4", now=T0,
                                             ttl=DAY, ids=ids)
            family = uow.refresh_tokens.find({"family_id": rotated.record.family_id
                                              if rotated.record else ""})
        assert successor.outcome is RedeemOutcome.INVALID
        assert len(family) == 2 and all(t.revoked_at == T0 for t in family)

    def test_refresh_tokens_expire_and_need_the_right_secret(self, storage: Storage) -> None:
        """A wrong secret, a malformed token or an expired one is invalid and changes nothing."""
        ids = SequentialIds()
        with storage.unit_of_work() as uow:
            token, record = issue_refresh_token(uow, user_id="usr_1", secret="right", now=T0,
                                                ttl=DAY, ids=ids)
            uow.commit()
        forged = token.split(".")[0] + ".wrong"
        for candidate, when in ((forged, T0), ("garbage", T0), ("", T0), (token, T0 + DAY)):
            with storage.unit_of_work() as uow:
                result = redeem_refresh_token(uow, candidate, new_secret="x", now=when,
                                              ttl=DAY, ids=ids)
                uow.commit()
            assert result.outcome is RedeemOutcome.INVALID, candidate
        with storage.unit_of_work() as uow:
            assert uow.refresh_tokens.require(record.id) == record

    # --- directory sync --------------------------------------------------------------

    def test_directory_sync_reconciles_and_is_idempotent(self, storage: Storage) -> None:
        """Adds, updates, soft-deletes and undeletes; a repeated sync changes nothing."""
        ids = SequentialIds()
        ann = DirectoryUser(id="usr_ann", tenant_id="tnt_1", email="Ann@X.example")
        bob = DirectoryUser(id="usr_bob", tenant_id="tnt_1", email="bob@x.example")
        ops = DirectoryGroup(id="grp_ops", tenant_id="tnt_1", name="Ops",
                             member_ids=("usr_ann", "usr_bob"))

        def sync(users: list[DirectoryUser], groups: list[DirectoryGroup]) -> SyncReport:
            with storage.unit_of_work() as uow:
                report = reconcile_directory(uow, DirectorySnapshot(users=users, groups=groups),
                                             now=T0, ids=ids, actor=ACTOR)
                uow.commit()
            return report

        with storage.unit_of_work() as uow:  # a local account the sync must leave alone
            uow.users.add(User(id="usr_local", tenant_id="tnt_1", email="root@x.example",
                               roles=("super_admin",), created_at=T0, updated_at=T0))
            uow.commit()
        first = sync([ann, bob], [ops])
        assert (first.users.added, first.groups.added, first.memberships_added) == (2, 1, 2)
        again = sync([ann, bob], [ops])
        assert not again.changed and again.users.unchanged == 2
        renamed = attrs.evolve(ann, display_name="Ann A.")
        third = sync([renamed], [attrs.evolve(ops, member_ids=("usr_ann",))])
        assert (third.users.updated, third.users.deleted, third.memberships_removed) == (1, 1, 1)
        fourth = sync([renamed, bob], [ops])
        assert (fourth.users.undeleted, fourth.memberships_added) == (1, 1)
        with storage.unit_of_work() as uow:
            assert uow.users.require("usr_local").status is UserStatus.ACTIVE
            assert uow.users.require("usr_ann").email == "ann@x.example"
            assert uow.users.require("usr_bob").status is UserStatus.ACTIVE
            assert uow.audit_log.count({"action": "directory.sync"}) == 3

    def test_directory_sync_refuses_duplicates(self, storage: Storage) -> None:
        """A directory listing one id twice is refused before anything is written."""
        dup = DirectoryUser(id="usr_x", tenant_id="tnt_1", email="x@x.example")
        with storage.unit_of_work() as uow, pytest.raises(ValidationError):
            reconcile_directory(uow, DirectorySnapshot(users=[dup, dup], groups=[]), now=T0,
                                ids=SequentialIds(), actor=ACTOR)
