"""Every table has a factory in tests/factories.py that inserts a valid row, on both backends."""

from sqlmodel import Session

import models
from tests.factories import FACTORIES


def test_every_table_has_a_factory_that_inserts_a_valid_row(session: Session) -> None:
    assert set(FACTORIES) == set(models.metadata.tables)
    for table, factory in FACTORIES.items():
        row = factory(session)
        assert type(row).__tablename__ == table
        key = models.metadata.tables[table].primary_key.columns.values()[0].name
        session.expunge(row)  # read back from the database, not the identity map
        assert session.get(type(row), getattr(row, key)) is not None, table
