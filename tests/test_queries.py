from __future__ import annotations

import duckdb
import pytest

from writeoff_analytics import queries
from writeoff_analytics.errors import QueryError


def test_every_query_file_loads_and_declares_its_parameters():
    found = queries.all_queries()
    assert {q.name for q in found} >= {"create_store", "derive_charge_balances"}
    for q in found:
        assert q.summary, q.name


def test_unknown_query_names_the_known_ones():
    with pytest.raises(QueryError, match="no query file nope.sql.*derive_charge_balances"):
        queries.load("nope")


def test_parameters_must_match_exactly():
    con = duckdb.connect()
    queries.run(con, "create_store")
    with pytest.raises(QueryError, match="missing source"):
        queries.run(con, "insert_import_log", fingerprint="x", files_json="[]",
                    row_counts_json="{}", rejected_rows=0)
    with pytest.raises(QueryError, match="not declared: bogus"):
        queries.run(con, "create_store", bogus=1)


def test_header_and_body_must_agree(tmp_path, monkeypatch):
    (tmp_path / "select_x.sql").write_text(
        "-- select_x: x.\n-- params: a INTEGER\nSELECT $a + $b\n", encoding="utf-8"
    )
    monkeypatch.setattr(queries, "queries_dir", lambda: tmp_path)
    queries.load.cache_clear()
    try:
        with pytest.raises(QueryError, match="b used in the body but not declared"):
            queries.load("select_x")
    finally:
        queries.load.cache_clear()


def test_names_in_strings_and_comments_are_not_parameters(tmp_path, monkeypatch):
    (tmp_path / "select_y.sql").write_text(
        "-- select_y: y.\n-- params: (none)\nSELECT '$notaparam' -- $nor_this\n", encoding="utf-8"
    )
    monkeypatch.setattr(queries, "queries_dir", lambda: tmp_path)
    queries.load.cache_clear()
    try:
        assert queries.load("select_y").params == ()
    finally:
        queries.load.cache_clear()


def test_the_params_header_is_read_once_with_its_types(tmp_path, monkeypatch):
    (tmp_path / "select_z.sql").write_text(
        "-- select_z: z.\n-- params: a VARCHAR[], b DECIMAL(18,2), c DATE\nSELECT $a, $b, $c\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(queries, "queries_dir", lambda: tmp_path)
    queries.load.cache_clear()
    try:
        query = queries.load("select_z")
        assert dict(query.param_types) == {"a": "VARCHAR[]", "b": "DECIMAL(18,2)", "c": "DATE"}
        assert query.params == ("a", "b", "c")
    finally:
        queries.load.cache_clear()


@pytest.mark.parametrize(
    ("header", "words"),
    [("a", "parameter a has no declared type"), ("a INTEGER, a DATE", "parameter a is declared twice")],
)
def test_a_parameter_without_a_type_or_declared_twice_is_refused(tmp_path, monkeypatch, header, words):
    (tmp_path / "select_w.sql").write_text(
        f"-- select_w: w.\n-- params: {header}\nSELECT $a\n", encoding="utf-8"
    )
    monkeypatch.setattr(queries, "queries_dir", lambda: tmp_path)
    queries.load.cache_clear()
    try:
        with pytest.raises(QueryError, match=f"select_w.sql: {words}"):
            queries.load("select_w")
    finally:
        queries.load.cache_clear()
