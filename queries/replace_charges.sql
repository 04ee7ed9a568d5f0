-- replace_charges: replaces the charges table of the snapshot with the staged, already validated frame staged_charges.
-- params: (none)
CREATE OR REPLACE TABLE charges AS
SELECT *
FROM staged_charges
