-- replace_payers: replaces the payers table of the snapshot with the staged, already validated frame staged_payers.
-- params: (none)
CREATE OR REPLACE TABLE payers AS
SELECT *
FROM staged_payers
