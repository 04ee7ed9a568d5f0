-- select_snapshot_payers: every row of the loaded extract's payers table, all columns (an import adds to the snapshot and replaces it).
-- params: (none)
SELECT *
FROM payers
ORDER BY payer_id
