"""A pytest plugin: every log record the suite produces is searched for the demo people's ID numbers and phones.

The README publishes them (demo logins), so they stand for the personal data a log must never hold (S14).
A record holding one fails the run at its end, naming the logger, the test and the value found (masked).
Records of the ``portal`` loggers are collected from DEBUG up; other libraries' from their own level.
"""

from __future__ import annotations

import logging

import pytest

from portal.core.masking import mask_id_number
from portal.insurance.demo import DEMO_UNIT_AGENT_PHONE, all_demo_citizens


def forbidden_values() -> tuple[str, ...]:
    values = {DEMO_UNIT_AGENT_PHONE}
    for citizen in all_demo_citizens():
        values.update((citizen.id_number, citizen.phone))
    return tuple(sorted(values))


class SweepHandler(logging.Handler):
    def __init__(self, values: tuple[str, ...]) -> None:
        super().__init__(level=logging.DEBUG)
        self.values = values
        self.current_test = "(outside a test)"
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record whose arguments do not format still gets its raw parts searched
            text = f"{record.msg} {record.args}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!r} {record.exc_info[1]}"
        for value in self.values:
            if value in text:
                self.found.append(f"{self.current_test}: logger {record.name} wrote {mask_id_number(value)}")


SWEEP = SweepHandler(forbidden_values())


def pytest_sessionstart(session: pytest.Session) -> None:
    logging.getLogger().addHandler(SWEEP)
    logging.getLogger("portal").setLevel(logging.DEBUG)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    SWEEP.current_test = item.nodeid


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(SWEEP)
    if SWEEP.found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("personal data in the log (S14):", red=True)
            for line in SWEEP.found[:50]:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
