"""Catalog, subscriptions and service packs: what a tenant can buy and the life of it.

The services (:class:`CatalogService`, :class:`SubscriptionService`, :class:`PackService`,
:class:`AdminLifecycle`) are the synchronous API an integrator or an HTTP handler calls;
:func:`lifecycle_jobs` are the background jobs; the pure operations they are built from
live in ``catalog``, ``lifecycle``, ``adjustments`` and ``packs``.
"""

from __future__ import annotations

from .admin import MAX_BULK, AdminLifecycle, BulkAction, BulkFailure, BulkResult
from .catalog import (
    KEEP,
    Keep,
    NewPlan,
    NewService,
    PlanChanges,
    ServiceChanges,
    make_plan_key,
    plan_mrr_cents,
    quota_limit,
    usage_charge_cents,
)
from .catalog_service import CatalogService
from .jobs import JOB_ORDER, LifecycleJob, LifecyclePolicy, lifecycle_jobs
from .lifecycle import PaymentFailure, TransitionContext
from .pack_service import PackQuote, PackService, PackSubscriptionView
from .packs import NewPack, PackChanges, pack_price_cents
from .reach import EVERYTHING, Reach
from .subscription_service import SubscriptionService

__all__ = [
    "EVERYTHING",
    "JOB_ORDER",
    "KEEP",
    "MAX_BULK",
    "AdminLifecycle",
    "BulkAction",
    "BulkFailure",
    "BulkResult",
    "CatalogService",
    "Keep",
    "LifecycleJob",
    "LifecyclePolicy",
    "NewPack",
    "NewPlan",
    "NewService",
    "PackChanges",
    "PackQuote",
    "PackService",
    "PackSubscriptionView",
    "PaymentFailure",
    "PlanChanges",
    "Reach",
    "ServiceChanges",
    "SubscriptionService",
    "TransitionContext",
    "lifecycle_jobs",
    "make_plan_key",
    "pack_price_cents",
    "plan_mrr_cents",
    "quota_limit",
    "usage_charge_cents",
]
