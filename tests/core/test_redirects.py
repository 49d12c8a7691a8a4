"""The ``next=`` check (issue 25, point 2): only same-origin paths, judged the way a browser reads them."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.core.redirects import safe_target

ORIGIN = "https://portal.example"
BROWSER_STRIPPED = "".join(chr(c) for c in range(0x21))

# Known bypasses of naive "starts with /" checks (OWASP, PortSwigger and HackerOne write-ups).
BYPASSES = [
    "//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "\\/evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example", " //evil.example",
    "\x00//evil.example", "/\x0b/evil.example", "/\\/evil.example", "\\\\evil.example",
    "https://evil.example", "http:evil.example", "https:/evil.example", "//evil.example@portal.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "\x01javascript:alert(1)", "data:text/html,<script>",
    "/%09/evil.example"[0:1] + "\t/evil.example", "evil.example", "@evil.example", ".evil.example",
    "//evil%E3%80%82example", "/\x7f/evil.example", "/\u0085/evil.example", "", " ", "/" + "a" * 3000,
    "\\\\\\evil.example", "/\t\t/evil.example", "/\r/evil.example", "\n/\n/evil.example\n",
]
SAFE = ["/", "/guide/", "/me?tab=records", "/apply/002036004001#materials", "/%2F%2Fevil.example",
        "/staff/cases/12", "/guide/?q=异地就医", "/lang/en?next=/guide/"]


def browser_reads(location: str) -> str:
    """What a browser does to a Location value before resolving it (WHATWG URL basic parser)."""
    return location.strip(BROWSER_STRIPPED).translate(str.maketrans("", "", "\t\n\r")).replace("\\", "/")


def stays_home(location: str) -> bool:
    resolved = urlsplit(urljoin(ORIGIN + "/here", browser_reads(location)))
    return (resolved.scheme, resolved.netloc) == ("https", "portal.example")


@pytest.mark.parametrize("value", BYPASSES)
def test_known_bypasses_are_refused(value):
    assert safe_target(value) is None


@pytest.mark.parametrize("value", SAFE)
def test_same_site_paths_are_kept(value):
    assert safe_target(value) == value


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from([*"/\\\t\n\r :@.%?#ae\x00\x0b\x7f", "evil", "http", "//", "https:"]),
                max_size=12).map("".join))
def test_anything_accepted_stays_on_this_site(value):
    target = safe_target(value)
    if target is not None:
        assert stays_home(target)
        assert browser_reads(target) == target  # what we send is what the browser follows
        assert safe_target(target) == target


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_text_never_leaves_the_site(value):
    target = safe_target(value)
    assert target is None or stays_home(target)


def test_language_switch_does_not_redirect_off_site(client):
    response = client.get("/lang/en?next=/%09/evil.example")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/elder/on?next=/%5C/evil.example").headers["Location"] == "/"
    assert client.get("/lang/en?next=/guide/").headers["Location"] == "/guide/"


def test_login_does_not_remember_an_off_site_next(client):
    client.get("/login?next=/%09/evil.example")
    with client.session_transaction() as session:
        assert session.get("next") is None
    client.get("/login?next=/me/records")
    with client.session_transaction() as session:
        assert session.get("next") == "/me/records"
