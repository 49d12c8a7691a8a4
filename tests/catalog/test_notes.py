"""The maintainers' view of the curation notes: staff only."""

from __future__ import annotations

from html import unescape

from portal.accounts.models import Role


def test_staff_read_every_curation_note_of_the_region(app, client, make_staff, staff_login):
    _account, secret = make_staff("kezhang", roles={Role.CHIEF})
    assert staff_login("kezhang", secret).status_code == 302
    html = unescape(client.get("/staff/guide-notes/").get_data(as_text=True))
    catalog = app.extensions["portal_catalog"]
    for note in [a.text for a in catalog.region.audit] + [a.text for i in catalog.items for a in i.audit]:
        assert note in html


def test_citizens_and_strangers_do_not_see_the_notes(client, citizen_login):
    response = client.get("/staff/guide-notes/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert citizen_login("13900000011").status_code == 302
    assert client.get("/staff/guide-notes/").status_code == 404
