"""NULL parameters on SQLite: bound through the NoneType adapter `models.db` registers."""

import sqlite3

import models.db  # noqa: F401  (registers the adapter)


def test_none_binds_as_null_through_a_registered_adapter() -> None:
    # Without the adapter pysqlite raises and clears an AttributeError per NULL (see models.db).
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(None, "x"), (1, None), (None, None)])
    db.execute("INSERT INTO t VALUES (?, ?)", (None, "y"))
    rows = db.execute("SELECT a, b, a IS NULL, b IS NULL FROM t ORDER BY rowid").fetchall()
    assert rows == [(None, "x", 1, 0), (1, None, 0, 1), (None, None, 1, 1), (None, "y", 1, 0)]
    assert db.execute("SELECT count(*) FROM t WHERE a = ?", (None,)).fetchone() == (0,)
