-- select_snapshot_coverages: every row of the loaded extract's coverages table, all columns (an import adds to the snapshot and replaces it).
-- params: (none)
SELECT *
FROM coverages
ORDER BY patient_id, payer_id, priority, effective_from
