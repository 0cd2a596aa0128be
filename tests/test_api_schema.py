"""Property-based run of schemathesis over the OpenAPI schema: no server error, no response that breaks the schema."""

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests.factories import ListingFactory, MembershipFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
EXAMPLES_PER_OPERATION = 10


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the database connection after each request, which would end the test's
    transaction; Django's own test client disconnects the same handler."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def member_token(db, settings, keep_test_connection) -> str:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min"},
    }
    cache.clear()
    membership = MembershipFactory()
    ListingFactory(company=membership.company)
    ListingFactory(company=membership.company, direction="need", text="Distributors in Vietnam")
    return Token.objects.create(user=membership.user).key


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_keeps_its_schema(case, member_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {member_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
