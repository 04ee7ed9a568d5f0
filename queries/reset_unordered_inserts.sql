-- reset_unordered_inserts: back to DuckDB's default (insertion order kept), after set_unordered_inserts.
-- params: (none)
RESET preserve_insertion_order
