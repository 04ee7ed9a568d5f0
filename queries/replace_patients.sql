-- replace_patients: replaces the patients table of the snapshot with the staged, already validated frame staged_patients.
-- params: (none)
CREATE OR REPLACE TABLE patients AS
SELECT *
FROM staged_patients
