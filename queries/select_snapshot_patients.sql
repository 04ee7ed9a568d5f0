-- select_snapshot_patients: every row of the loaded extract's patients table, all columns (an import adds to the snapshot and replaces it).
-- params: (none)
SELECT *
FROM patients
ORDER BY patient_id
