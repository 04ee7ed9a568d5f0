-- replace_snapshot: replaces the six extract tables with the staged, already validated frames staged_<table>.
-- params: (none)
CREATE OR REPLACE TABLE payers AS SELECT * FROM staged_payers;
CREATE OR REPLACE TABLE patients AS SELECT * FROM staged_patients;
CREATE OR REPLACE TABLE coverages AS SELECT * FROM staged_coverages;
CREATE OR REPLACE TABLE encounters AS SELECT * FROM staged_encounters;
CREATE OR REPLACE TABLE charges AS SELECT * FROM staged_charges;
CREATE OR REPLACE TABLE transactions AS SELECT * FROM staged_transactions;
