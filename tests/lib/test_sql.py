"""lib.sql: SQL literals built from code-defined values, checked against the database itself."""

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.sql import literal, literals


def test_a_quote_inside_the_text_is_doubled():
    assert literal("O'Brien") == "'O''Brien'"
    assert literal("") == "''"


def test_a_non_text_value_is_quoted_as_its_text():
    assert literal(42) == "'42'"


def test_an_in_list_joins_the_quoted_values():
    assert literals(["draft", "it's"]) == "'draft', 'it''s'"
    assert literals(v for v in ("a",)) == "'a'"


def test_an_empty_in_list_is_refused():
    with pytest.raises(ValueError, match="at least one value"):
        literals([])


# Any text a column can hold (PostgreSQL refuses NUL; surrogates cannot be encoded).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_the_database_reads_a_literal_back_as_the_same_text(text):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {literal(text)}")
        assert cursor.fetchone()[0] == text


@pytest.mark.django_db
def test_an_in_list_selects_exactly_its_values():
    values = ["a", "b'c", "d"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {literal('b' + chr(39) + 'c')} IN ({literals(values)}), 'x' IN ({literals(values)})")
        assert tuple(bool(v) for v in cursor.fetchone()) == (True, False)
