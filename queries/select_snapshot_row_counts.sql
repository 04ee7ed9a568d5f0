-- select_snapshot_row_counts: the rows of each table of the store's current snapshot (one row per table).
-- params: (none)
SELECT 'payers' AS table_name, count(*) AS row_count FROM payers
UNION ALL
SELECT 'patients', count(*) FROM patients
UNION ALL
SELECT 'coverages', count(*) FROM coverages
UNION ALL
SELECT 'encounters', count(*) FROM encounters
UNION ALL
SELECT 'charges', count(*) FROM charges
UNION ALL
SELECT 'transactions', count(*) FROM transactions
