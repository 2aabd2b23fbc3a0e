"""The authorization matrix: every endpoint of the route table, for anonymous callers and
each role, answers exactly the expected status.

Expectations come from each endpoint's declared ``access`` and the role-to-scope table
(``ROLE_SCOPES``): public endpoints succeed for everyone, other endpoints answer 401 to
anonymous callers, and a role gets the endpoint's success status when it holds the scope
(``super_admin`` holds all) or 403 otherwise. The test runs as the real demo users through
real bearer authentication.

An endpoint whose request needs path values or a body must have a :class:`~.authz.Case`
saying how to reach its handler (here, or in an ``authz_cases_<capability>.py`` module in
this folder); a new endpoint without one fails this test. ``expect`` overrides the derived
status for a role where a handler narrows access further (see docs/identity.md, "The
authorization matrix").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scaicontrol_adapters.identity import local_plugin
from scaicontrol_adapters.storage import memory
from scaicontrol_core.access import ROLE_SCOPES, Role
from scaicontrol_core.identity_demo import DEMO_PASSWORD
from scaicontrol_server.api import Endpoint
from scaicontrol_server.routes import ENDPOINTS

from .authz import CALLERS, Case, expected, extra_cases, needs_case
from .conftest import MEMORY, IdentityClient, identity_server


def _profile(role: str) -> dict[str, Any]:
    return {"company_name": f"Matrix {role}", "address_line1": "Keizersgracht 1",
            "postal_code": "1015 CJ", "city": "Amsterdam", "country_code": "NL",
            "vat_number": "NL867406598B01", "preferred_language": "nl"}


GLOBEX = {"tenant_id": "tnt_demo_globex"}
NORTHWIND = {"partner_id": "prt_demo_northwind"}
GLOBEX_ADMIN = {"user_id": "usr_demo_globex_admin"}
GLOBEX_GROUP = {"group_id": "grp_demo_globex_ops"}

IDENTITY_CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/lookups/currencies/{code}"): Case(path={"code": "EUR"}),
    ("POST", "/api/v1/auth/token"): Case(body={
        "grant_type": "password", "username": "user@acme.example", "password": DEMO_PASSWORD}),
    ("PATCH", "/api/v1/organization/tenant"): Case(body={}),
    ("GET", "/api/v1/admin/tenants/{tenant_id}"): Case(path=GLOBEX),
    ("PUT", "/api/v1/admin/tenants/{tenant_id}/billing-profile"): Case(path=GLOBEX,
                                                                       body=_profile),
    ("POST", "/api/v1/admin/partners"): Case(body={"name": "Matrix Partner"},
                                             expect={"partner_admin": 403}),
    ("GET", "/api/v1/admin/partners/{partner_id}"): Case(path=NORTHWIND),
    ("PATCH", "/api/v1/admin/partners/{partner_id}"): Case(path=NORTHWIND,
                                                           body={"bank_name": "Matrix Bank"}),
    ("GET", "/api/v1/admin/partners/{partner_id}/tenants"): Case(path=NORTHWIND),
    ("POST", "/api/v1/admin/partners/{partner_id}/tenants"): Case(
        path=NORTHWIND, body={"name": "Matrix Tenant"}),
    ("POST", "/api/v1/admin/users"): Case(body=lambda role: {
        "tenant_id": "tnt_demo_globex", "email": f"matrix-{role}@globex.example"}),
    ("GET", "/api/v1/admin/users/{user_id}"): Case(path=GLOBEX_ADMIN),
    ("PATCH", "/api/v1/admin/users/{user_id}"): Case(path=GLOBEX_ADMIN,
                                                     body={"display_name": "Globex Admin"}),
    ("POST", "/api/v1/admin/users/{user_id}/role"): Case(path=GLOBEX_ADMIN,
                                                         body={"role": "tenant_user"}),
    ("DELETE", "/api/v1/admin/users/{user_id}/role"): Case(path=GLOBEX_ADMIN,
                                                           query="role=tenant_user"),
    ("GET", "/api/v1/admin/groups/{group_id}"): Case(path=GLOBEX_GROUP),
    ("POST", "/api/v1/admin/groups/{group_id}/role"): Case(path=GLOBEX_GROUP,
                                                           body={"role": "tenant_user"}),
    ("DELETE", "/api/v1/admin/groups/{group_id}/role"): Case(path=GLOBEX_GROUP),
    ("PUT", "/api/v1/billing/billing-profile"): Case(body=_profile),
}
CASES = {**IDENTITY_CASES, **extra_cases()}


@pytest.fixture(scope="module")
def matrix_client() -> Iterator[IdentityClient]:
    """One served app (memory backend, demo data) for the whole matrix."""
    with identity_server(MEMORY, [memory, local_plugin]) as client:
        yield client


def _request(client: IdentityClient, endpoint: Endpoint, caller: str,
             case: Case) -> tuple[int, bytes]:
    path = endpoint.full_path.format_map(dict(case.path))
    if case.query:
        path += "?" + case.query
    headers = {} if caller == "anonymous" else client.headers(caller)
    kwargs: dict[str, Any] = {"headers": headers}
    if endpoint.body_schema is not None:
        kwargs["json"] = case.body(caller) if callable(case.body) else case.body
    reply = client.request(endpoint.method, path, **kwargs)
    return reply.status, reply.body


@pytest.mark.parametrize("endpoint", ENDPOINTS,
                         ids=[f"{e.method} {e.full_path}" for e in ENDPOINTS])
def test_every_endpoint_answers_each_caller_as_declared(
    endpoint: Endpoint, matrix_client: IdentityClient
) -> None:
    """Each caller gets exactly the derived status (success, 401 or 403) on this endpoint."""
    key = (endpoint.method, endpoint.full_path)
    if key not in CASES and needs_case(endpoint):
        pytest.fail(f"{endpoint.method} {endpoint.full_path} needs path values or a body: add "
                    "a Case in tests/server/identity/authz_cases_<capability>.py (see authz.py)")
    case = CASES.get(key, Case())
    results = {caller: _request(matrix_client, endpoint, caller, case) for caller in CALLERS}
    wanted = {caller: expected(endpoint, caller, case) for caller in CALLERS}
    got = {caller: status for caller, (status, _) in results.items()}
    bodies = {c: body[:200] for c, (status, body) in results.items() if status != wanted[c]}
    assert got == wanted, bodies


def test_every_case_names_a_real_endpoint() -> None:
    """No stale entries: each case belongs to an endpoint of the route table."""
    routes = {(e.method, e.full_path) for e in ENDPOINTS}
    assert set(CASES) - routes == set()


def test_the_matrix_covers_all_roles_and_scopes() -> None:
    """Every role is a caller, and every scope is held by some non-super role or used."""
    assert set(CALLERS) - {"anonymous"} == {r.value for r in Role}
    assert all(isinstance(scope, str) for scopes in ROLE_SCOPES.values() for scope in scopes)
