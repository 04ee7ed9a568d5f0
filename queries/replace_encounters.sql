-- replace_encounters: replaces the encounters table of the snapshot with the staged, already validated frame staged_encounters.
-- params: (none)
CREATE OR REPLACE TABLE encounters AS
SELECT *
FROM staged_encounters
