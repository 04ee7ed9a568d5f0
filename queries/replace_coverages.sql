-- replace_coverages: replaces the coverages table of the snapshot with the staged, already validated frame staged_coverages.
-- params: (none)
CREATE OR REPLACE TABLE coverages AS
SELECT *
FROM staged_coverages
