"""Who may act as an agent: a Bearer token, compared in constant time, failing closed."""

import pytest

from atende.adapters.agent_auth import BearerTokenAuthenticator
from atende.errors import ConfigurationError, UnauthorizedCallerError


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Bearer "}, "missing_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_token"),
        ({"Authorization": "Bearer wrong"}, "wrong_token"),
        ({"Authorization": "Bearer s3cret-tokén"}, "wrong_token"),
    ],
)
def test_a_caller_without_the_right_token_is_refused(headers, code):
    with pytest.raises(UnauthorizedCallerError) as refused:
        BearerTokenAuthenticator("s3cret-token").authenticate(headers)
    assert refused.value.code == code


@pytest.mark.parametrize("header", ["Authorization", "authorization"])
def test_the_right_token_is_accepted_whatever_the_header_case(header):
    BearerTokenAuthenticator("s3cret-token").authenticate({header: "bearer s3cret-token"})


@pytest.mark.parametrize("token", [None, ""])
def test_with_no_token_configured_nobody_gets_in(token):
    with pytest.raises(ConfigurationError):
        BearerTokenAuthenticator(token).authenticate({"Authorization": "Bearer anything"})
