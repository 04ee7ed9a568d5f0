-- select_snapshot_transactions: every row of the loaded extract's transactions table, all columns (an import adds to the snapshot and replaces it).
-- params: (none)
SELECT *
FROM transactions
ORDER BY transaction_id
