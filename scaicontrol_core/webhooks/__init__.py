"""Outbound webhooks, decided without I/O: signatures, headers, topic matching, retry policy
and target-URL safety. The dispatcher (elsewhere) does the HTTP and DNS and feeds results in.

Modules: ``signing`` (ScaiControl and Standard Webhooks signatures, secrets), ``headers``
(the header set of an attempt), ``matching`` (topic patterns), ``retry`` (response
classification, backoff) and ``urls`` (SSRF checks); and, for the dispatcher, ``model``
(subscription, delivery and attempt records), ``store`` (their repository protocols),
``dispatch`` (fan-out, claiming, settling), ``admin`` (operator actions) and ``samples``
(test events). Those are imported from their modules, not re-exported here.
"""

from __future__ import annotations

from .headers import (
    CONTENT_TYPE,
    DEFAULT_USER_AGENT,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    STANDARD_ID_HEADER,
    STANDARD_SIGNATURE_HEADER,
    STANDARD_TIMESTAMP_HEADER,
    TIMESTAMP_HEADER,
    delivery_headers,
)
from .matching import (
    matches_any,
    matching_topics,
    normalize_topic_pattern,
    topic_matches,
    validate_topic_patterns,
)
from .retry import (
    BACKOFF_SCHEDULE,
    MAX_ATTEMPTS,
    REQUEST_TIMEOUT,
    DeliveryOutcome,
    NextAttempt,
    backoff_delay,
    classify_response,
    next_attempt,
    trigger_for,
)
from .signing import (
    REPLAY_TOLERANCE,
    SECRET_PREFIX,
    generate_secret,
    sign,
    sign_standard,
    signature_problem,
    standard_key,
    standard_signature_problem,
    unix_seconds,
    verify,
    verify_standard,
)
from .urls import UrlPolicy, UrlProblem, UrlVerdict, address_problem, check_target_url

__all__ = [
    "BACKOFF_SCHEDULE",
    "CONTENT_TYPE",
    "DEFAULT_USER_AGENT",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "MAX_ATTEMPTS",
    "REPLAY_TOLERANCE",
    "REQUEST_TIMEOUT",
    "SECRET_PREFIX",
    "SIGNATURE_HEADER",
    "STANDARD_ID_HEADER",
    "STANDARD_SIGNATURE_HEADER",
    "STANDARD_TIMESTAMP_HEADER",
    "TIMESTAMP_HEADER",
    "DeliveryOutcome",
    "NextAttempt",
    "UrlPolicy",
    "UrlProblem",
    "UrlVerdict",
    "address_problem",
    "backoff_delay",
    "check_target_url",
    "classify_response",
    "delivery_headers",
    "generate_secret",
    "matches_any",
    "matching_topics",
    "next_attempt",
    "normalize_topic_pattern",
    "sign",
    "sign_standard",
    "signature_problem",
    "standard_key",
    "standard_signature_problem",
    "topic_matches",
    "trigger_for",
    "unix_seconds",
    "validate_topic_patterns",
    "verify",
    "verify_standard",
]
