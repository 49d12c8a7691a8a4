"""``portal i18n update | compile | check``: keep the zh_Hans_CN and en catalogs complete.

Message ids are English. Simplified Chinese is the default locale and must translate every message;
English fills any empty translation with its id.
"""

from __future__ import annotations

import sys

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from ..config import ROOT

I18N = ROOT / "i18n"
POT = I18N / "messages.pot"
LOCALES = ("zh_Hans_CN", "en")


def po_path(locale: str):
    return I18N / locale / "LC_MESSAGES" / "messages.po"


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def missing_translations(locale: str) -> list[str]:
    """Message ids with no translation (or a fuzzy one) in ``locale``."""
    with po_path(locale).open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def fill_english() -> None:
    path = po_path("en")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            if not all(message.string):
                message.string = (message.id[0], message.id[1])
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalog, width=120)


def update() -> None:
    _babel("extract", "-F", str(I18N / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "--no-location",
           "--sort-output", "-o", str(POT), str(ROOT))
    for locale in LOCALES:
        if po_path(locale).exists():
            _babel("update", "-i", str(POT), "-d", str(I18N), "-l", locale, "--no-fuzzy-matching",
                   "--ignore-obsolete", "-w", "120")
        else:
            _babel("init", "-i", str(POT), "-d", str(I18N), "-l", locale, "-w", "120")
    fill_english()


def compile_all() -> None:
    for locale in LOCALES:
        _babel("compile", "-d", str(I18N), "-l", locale, "--statistics")


def register(group: click.Group) -> None:
    @group.group("i18n")
    def i18n() -> None:
        """Translation catalogs."""

    @i18n.command("update")
    def _update() -> None:
        """Extract messages and merge them into every locale's catalog."""
        update()

    @i18n.command("compile")
    def _compile() -> None:
        """Compile the catalogs the app reads."""
        compile_all()

    @i18n.command("check")
    def _check() -> None:
        """Exit 1 if any locale lacks a translation."""
        failed = False
        for locale in LOCALES:
            missing = missing_translations(locale)
            if missing:
                failed = True
                click.echo(f"{locale}: {len(missing)} untranslated: " + "; ".join(missing[:20]))
        sys.exit(1 if failed else 0)
