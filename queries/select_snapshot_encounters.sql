-- select_snapshot_encounters: every row of the loaded extract's encounters table, all columns (an import adds to the snapshot and replaces it).
-- params: (none)
SELECT *
FROM encounters
ORDER BY encounter_id
