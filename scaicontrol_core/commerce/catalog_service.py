"""The catalog API: create, change and browse services and plans (synchronous).

Slugs are unique (services by slug, plans by slug within their service, so plan keys are
unique too); the service checks them before writing and the SQL schema enforces them.
Nothing is ever deleted: a service or plan leaves the shop with ``is_active`` false.
"""

from __future__ import annotations

from datetime import datetime

from ..catalog_records import Plan, Service
from ..errors import DuplicateRecord, NotFound
from ..ids import IdFactory
from ..ports import Storage, UnitOfWork
from .catalog import (
    NewPlan,
    NewService,
    PlanChanges,
    ServiceChanges,
    change_plan,
    change_service,
    new_plan,
    new_service,
)
from .operations import find_plan

__all__ = ["CatalogService", "find_service"]


def find_service(uow: UnitOfWork, reference: str) -> Service:
    """A service by id or by slug."""
    service = uow.services.get(reference)
    if service is None:
        found = uow.services.find({"slug": reference}, limit=1)
        if not found:
            raise NotFound("Service", reference)
        service = found[0]
    return service


def _shop(public_only: bool) -> dict[str, object]:
    return {"is_active": True, "is_public": True} if public_only else {}


class CatalogService:
    """Services and plans. ``public_only`` listings show what the shop sells: active
    and public entries only."""

    def __init__(self, storage: Storage, ids: IdFactory) -> None:
        self.storage = storage
        self.ids = ids

    # -- services ---------------------------------------------------------------------------

    def create_service(self, command: NewService, *, now: datetime) -> Service:
        with self.storage.unit_of_work() as uow:
            service = new_service(command, service_id=self.ids.uuid(), now=now)
            if uow.services.count({"slug": service.slug}):
                raise DuplicateRecord("Service", service.slug)
            saved = uow.services.add(service)
            uow.commit()
            return saved

    def update_service(self, reference: str, changes: ServiceChanges, *,
                       now: datetime) -> Service:
        with self.storage.unit_of_work() as uow:
            saved = uow.services.update(change_service(find_service(uow, reference), changes,
                                                       now=now))
            uow.commit()
            return saved

    def get_service(self, reference: str, *, public_only: bool = False) -> Service:
        with self.storage.unit_of_work() as uow:
            service = find_service(uow, reference)
        if public_only and not (service.is_active and service.is_public):
            raise NotFound("Service", reference)
        return service

    def list_services(self, *, public_only: bool = False, offset: int = 0,
                      limit: int | None = None) -> tuple[list[Service], int]:
        where = _shop(public_only)
        with self.storage.unit_of_work() as uow:
            items = uow.services.find(where, order_by=("sort_order", "slug"), offset=offset,
                                      limit=limit)
            return items, uow.services.count(where)

    # -- plans ------------------------------------------------------------------------------

    def create_plan(self, command: NewPlan, *, now: datetime) -> Plan:
        with self.storage.unit_of_work() as uow:
            service = find_service(uow, command.service_id)
            plan = new_plan(command, service=service, plan_id=self.ids.uuid(), now=now)
            if uow.plans.count({"plan_key": plan.plan_key}):
                raise DuplicateRecord("Plan", plan.plan_key)
            saved = uow.plans.add(plan)
            uow.commit()
            return saved

    def update_plan(self, reference: str, changes: PlanChanges, *, now: datetime) -> Plan:
        with self.storage.unit_of_work() as uow:
            saved = uow.plans.update(change_plan(find_plan(uow, reference), changes, now=now))
            uow.commit()
            return saved

    def get_plan(self, reference: str, *, public_only: bool = False) -> Plan:
        """A plan by id or plan key; hidden plans are missing when ``public_only``."""
        with self.storage.unit_of_work() as uow:
            plan = find_plan(uow, reference)
            service = uow.services.require(plan.service_id)
        visible = plan.is_active and plan.is_public and service.is_active and service.is_public
        if public_only and not visible:
            raise NotFound("Plan", reference)
        return plan

    def list_plans(self, *, service: str | None = None, public_only: bool = False,
                   offset: int = 0, limit: int | None = None) -> tuple[list[Plan], int]:
        """Plans, optionally of one service (id or slug), by sort order then key."""
        where = _shop(public_only)
        with self.storage.unit_of_work() as uow:
            if service is not None:
                found = find_service(uow, service)
                if public_only and not (found.is_active and found.is_public):
                    raise NotFound("Service", service)
                where["service_id"] = found.id
            items = uow.plans.find(where, order_by=("sort_order", "plan_key"), offset=offset,
                                   limit=limit)
            return items, uow.plans.count(where)
