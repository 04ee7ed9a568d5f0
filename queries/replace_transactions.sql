-- replace_transactions: replaces the transactions table of the snapshot with the staged, already validated frame staged_transactions.
-- params: (none)
CREATE OR REPLACE TABLE transactions AS
SELECT *
FROM staged_transactions
