"""The audit log (S13): rows appended without a lock, sealed in chained batches; verify finds a changed, removed,
added or reordered row, and a removed or changed seal."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update

from portal.core import audit
from portal.core.audit import Actor, AuditEvent, AuditSeal, record, seal_all, seal_pending, verify_chain
from portal.core.db import Base, db


def _write(n: int, start: int = 0) -> list[int]:
    return [record("test.action", actor=Actor("staff", str(i), "受理"), object_type="case", object_id=i,
                   detail={"n": i}).id for i in range(start, start + n)]


def _sealed_log(rows: int = 6, batch: int = 3) -> list[int]:
    ids = _write(rows)
    sealed = seal_all(batch)
    assert len(sealed) == -(-rows // batch)
    report = verify_chain()
    assert report.ok and report.checked == rows and report.pending == 0, report
    return ids


def test_rows_are_sealed_in_order_in_chained_batches(db_session):
    ids = _sealed_log(7, 3)
    seals = db_session.execute(select(AuditSeal).order_by(AuditSeal.id)).scalars().all()
    assert [s.id for s in seals] == [1, 2, 3] and [s.rows for s in seals] == [3, 3, 1]
    assert [(s.first_id, s.last_id) for s in seals] == [(ids[0], ids[2]), (ids[3], ids[5]), (ids[6], ids[6])]
    assert seals[0].prev_hash == "0" * 64
    assert seals[1].prev_hash == seals[0].hash and seals[2].prev_hash == seals[1].hash
    assert verify_chain().head == seals[2].hash
    assert seal_pending() is None  # nothing left to seal


def test_a_changed_row_is_found(db_session):
    ids = _sealed_log()
    db_session.execute(update(AuditEvent).where(AuditEvent.id == ids[4]).values(result="denied"))
    report = verify_chain()
    assert not report.ok and report.broken_at == ids[4] and "row altered" in report.reason
    assert report.broken_seal == 2 and report.checked == 3


def test_a_changed_row_with_its_hash_recomputed_breaks_its_seal(db_session):
    ids = _sealed_log()
    row = db_session.get(AuditEvent, ids[1])
    row.actor_id = "someone-else"
    row.hash = audit._hash(row)
    db_session.flush()
    report = verify_chain()
    assert not report.ok and report.broken_seal == 1 and "do not match its seal" in report.reason


def test_a_removed_row_is_found(db_session):
    ids = _sealed_log()
    db_session.execute(delete(AuditEvent).where(AuditEvent.id == ids[4]))
    report = verify_chain()
    assert not report.ok and report.broken_seal == 2 and "row removed or added" in report.reason


def test_a_row_moved_out_of_its_seal_is_found(db_session):
    ids = _sealed_log()
    db_session.execute(update(AuditEvent).where(AuditEvent.id == ids[5]).values(seal_id=None))
    report = verify_chain()
    assert not report.ok and report.broken_seal == 2 and "row removed or added" in report.reason


def test_reordered_rows_are_found(db_session):
    """Two rows swap places (every column but the id), each still matching its own hash."""
    ids = _sealed_log()
    columns = [c.name for c in AuditEvent.__table__.columns if c.name not in ("id", "seal_id")]
    first, second = (db_session.execute(select(AuditEvent.__table__).where(AuditEvent.id == i)).one()._mapping
                     for i in (ids[0], ids[1]))
    first, second = dict(first), dict(second)
    for target, source in ((ids[0], second), (ids[1], first)):
        db_session.execute(update(AuditEvent).where(AuditEvent.id == target).values({c: source[c] for c in columns}))
    db_session.expire_all()
    report = verify_chain()
    assert not report.ok and report.broken_seal == 1 and "reordered" in report.reason


def test_a_removed_seal_is_found(db_session):
    _sealed_log(9, 3)
    db_session.execute(update(AuditEvent).where(AuditEvent.seal_id == 2).values(seal_id=None))
    db_session.execute(delete(AuditSeal).where(AuditSeal.id == 2))
    report = verify_chain()
    assert not report.ok and report.broken_seal == 3 and "seal 2 is missing" in report.reason


def test_a_changed_seal_is_found(db_session):
    _sealed_log()
    db_session.execute(update(AuditSeal).where(AuditSeal.id == 1).values(rows=2))
    report = verify_chain()
    assert not report.ok and report.broken_seal == 1 and "seal's content" in report.reason


def test_a_row_not_sealed_yet_is_still_checked_against_its_hash(db_session):
    _sealed_log()
    pending = _write(2, 100)
    assert verify_chain().pending == 2
    db_session.execute(update(AuditEvent).where(AuditEvent.id == pending[1]).values(detail="{}"))
    report = verify_chain()
    assert not report.ok and report.broken_at == pending[1] and "not sealed yet" in report.reason


def test_rows_of_the_old_chain_are_sealed_with_their_link(db_session):
    """A row written before the batch scheme carries its old chain's prev_hash inside its content."""
    row = record("test.old", actor=Actor.system())
    row.prev_hash = "ab" * 32
    db_session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(prev_hash=row.prev_hash,
                                                                                  hash=audit._hash(row)))
    seal_all()
    assert verify_chain().ok
    db_session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(prev_hash="cd" * 32))
    assert not verify_chain().ok


def test_the_commands_seal_and_verify(app, db_session):
    _write(4)
    runner = app.test_cli_runner()
    sealed = runner.invoke(args=["portal", "audit", "seal", "--batch", "3"])
    assert sealed.exit_code == 0 and "sealed 2 batches (1–2)" in sealed.output
    intact = runner.invoke(args=["portal", "audit", "verify"])
    assert intact.exit_code == 0 and "4 sealed rows in 2 seals, 0 rows not sealed yet" in intact.output
    db_session.execute(update(AuditEvent).where(AuditEvent.seal_id == 2).values(action="test.other"))
    broken = runner.invoke(args=["portal", "audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN at row" in broken.output and "(seal 2)" in broken.output


@pytest.fixture
def postgres(app):
    if app.extensions["portal_db_engine"].dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (PORTAL_TEST_DATABASE_URL)")
    yield
    with app.app_context():
        db.session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.mark.no_db
def test_writers_never_wait_and_a_late_commit_goes_into_the_next_seal(app, postgres):
    """Transaction A writes its row first (lower id) and commits last; meanwhile B writes and commits and a sealer
    runs, and nothing waits for A (lock_timeout 1 s would fail it). A's row is sealed by the next batch."""
    with app.app_context():
        a = record("test.slow", actor=Actor.system())  # A's transaction stays open
        db.session.execute(text("SELECT pg_advisory_xact_lock(7301455)"))  # A even holds the sealer's turn
        with app.app_context():
            db.session.execute(text("SET LOCAL lock_timeout = '1s'"))
            b = record("test.fast", actor=Actor.system())
            db.session.commit()
            assert seal_pending() is None  # the turn is A's: this sealer steps aside instead of waiting
            db.session.rollback()
            assert b.id > a.id
        db.session.commit()  # releases the turn; A's row is not committed before this line
    with app.app_context():
        with app.app_context():
            record("test.later", actor=Actor.system())
            # uncommitted here: the sealer in the outer context cannot see it
            with app.app_context():
                first = seal_pending()
                db.session.commit()
            db.session.commit()
        second = seal_pending()
        db.session.commit()
        rows = dict(db.session.execute(select(AuditEvent.action, AuditEvent.seal_id)).all())
        assert first.rows == 2 and rows["test.slow"] == rows["test.fast"] == 1 and rows["test.later"] == 2
        assert second.rows == 1 and second.prev_hash == first.hash
        assert verify_chain().ok
        assert db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 3
