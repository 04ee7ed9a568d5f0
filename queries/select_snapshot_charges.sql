-- select_snapshot_charges: every row of the loaded extract's charges table, all columns (an import adds to the snapshot and replaces it).
-- params: (none)
SELECT *
FROM charges
ORDER BY charge_id
