-- select_csv_rejects: the rows the last read_extract_csv set aside: record number (header = 1), byte offset, error kind, the raw line and DuckDB's message.
-- params: (none)
SELECT
    e.line AS row_number,
    e.byte_position,
    e.column_name,
    e.error_type,
    e.csv_line,
    e.error_message
FROM reject_errors AS e
ORDER BY e.line
