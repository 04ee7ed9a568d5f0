-- read_extract_csv: every data row of one extract CSV file as text, in file order; rows that break RFC 4180 (wrong field count, bad bytes) go to reject_errors instead.
-- params: path VARCHAR, columns STRUCT, delim VARCHAR
-- LEDGER_FORMAT.md: types are declared, never sniffed. Every column is read as VARCHAR
-- (the validator checks and casts), the dialect is fixed (double quotes, header); the
-- delimiter is a comma unless a vendor mapping declares another.
SELECT *
FROM read_csv(
    $path,
    columns = $columns,
    header = true,
    auto_detect = false,
    delim = $delim,
    quote = '"',
    escape = '"',
    store_rejects = true
)
