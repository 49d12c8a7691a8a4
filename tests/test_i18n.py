"""Both catalogs are complete: Simplified Chinese (the default) and English translate every message."""

import pytest

from portal.core.i18n import LOCALES, missing_translations

pytestmark = pytest.mark.no_db


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale):
    assert missing_translations(locale) == []
