"""Operator actions of metering: metric definitions and service API keys.

Key secrets come from the caller (the core draws no randomness). A key is presented as
``sck_<key id>.<secret>``; only the SHA-256 hex digest of the secret is stored, which is
enough for a high-entropy random secret, and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from typing import Final

import attrs

from ..access import Scope
from ..errors import Conflict, NotFound, ValidationError
from ..ports import UnitOfWork
from .model import Aggregation, MetricDefinition, ServiceApiKey

__all__ = [
    "KEY_PREFIX",
    "NewMetric",
    "define_metric",
    "find_metric",
    "hash_secret",
    "issue_service_key",
    "key_token",
    "revoke_service_key",
    "verify_service_key",
]

KEY_PREFIX: Final = "sck_"
#: What a service key may do: report usage and check quotas (service-to-platform calls).
SERVICE_KEY_PERMISSIONS: Final = (Scope.REGISTRY_MANAGE.value,)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


@attrs.frozen(kw_only=True)
class NewMetric:
    service_slug: str
    slug: str
    name: str
    unit: str
    aggregation: Aggregation
    unique_property: str | None = None
    description: str | None = None


def find_metric(uow: UnitOfWork, service_slug: str, metric_slug: str) -> MetricDefinition | None:
    found = uow.metric_definitions.find({"service_slug": service_slug, "slug": metric_slug})
    return found[0] if found else None


def define_metric(uow: UnitOfWork, new: NewMetric, *, metric_id: str,
                  now: datetime) -> MetricDefinition:
    """Add a metric to a service; its slug and aggregation are fixed for life (they decide
    how stored usage was rolled up)."""
    if not _SLUG.fullmatch(new.slug):
        raise ValidationError(f"'{new.slug}' is not a metric slug", field="slug")
    if not uow.services.find({"slug": new.service_slug}):
        raise NotFound("Service", new.service_slug)
    unique = new.unique_property
    if new.aggregation is Aggregation.UNIQUE_COUNT:
        if not unique or not _PROPERTY.fullmatch(unique):
            raise ValidationError("a unique_count metric names the property it counts",
                                  field="unique_property")
    elif unique is not None:
        raise ValidationError("only unique_count metrics name a property",
                              field="unique_property")
    if find_metric(uow, new.service_slug, new.slug) is not None:
        raise Conflict(f"service '{new.service_slug}' already has a metric '{new.slug}'")
    return uow.metric_definitions.add(MetricDefinition(
        id=metric_id, service_slug=new.service_slug, slug=new.slug, name=new.name,
        unit=new.unit, aggregation=new.aggregation, unique_property=unique,
        description=new.description, created_at=now, updated_at=now,
    ))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_token(key_id: str, secret: str) -> str:
    """The full key a service sends in ``X-ScaiControl-Key``."""
    return f"{KEY_PREFIX}{key_id}.{secret}"


def issue_service_key(
    uow: UnitOfWork, *, service_slug: str, name: str, key_id: str, secret: str,
    now: datetime, created_by: str | None = None,
) -> ServiceApiKey:
    """Store a new key of ``service_slug``; the caller shows ``key_token`` once."""
    if len(secret) < 32:
        raise ValidationError("a key secret needs at least 32 characters", field="secret")
    if not uow.services.find({"slug": service_slug}):
        raise NotFound("Service", service_slug)
    return uow.service_api_keys.add(ServiceApiKey(
        id=key_id, service_slug=service_slug, name=name, secret_hash=hash_secret(secret),
        permissions=SERVICE_KEY_PERMISSIONS, created_by=created_by, created_at=now,
    ))


def revoke_service_key(uow: UnitOfWork, key_id: str, *, now: datetime) -> ServiceApiKey:
    """Revoke a key at once; revoking twice keeps the first instant."""
    key = uow.service_api_keys.require(key_id)
    if key.revoked_at is not None:
        return key
    return uow.service_api_keys.update(attrs.evolve(key, revoked_at=now))


def verify_service_key(uow: UnitOfWork, token: str) -> ServiceApiKey | None:
    """The active key ``token`` proves, or None (unknown, malformed, wrong or revoked)."""
    if not token.startswith(KEY_PREFIX):
        return None
    key_id, dot, secret = token[len(KEY_PREFIX):].partition(".")
    if not dot or not key_id or not secret or len(key_id) > 64:
        return None
    key = uow.service_api_keys.get(key_id)
    if key is None or not key.active:
        return None
    if not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
        return None
    return key
