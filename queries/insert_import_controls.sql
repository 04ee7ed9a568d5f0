-- insert_import_controls: records the control totals of one load from the staged frame staged_controls.
-- params: import_id INTEGER
INSERT INTO import_controls
SELECT
    $import_id,
    table_name,
    file,
    rows_read,
    rows_kept,
    previous_rows,
    money_column,
    read_total,
    stored_total,
    unreadable_cells
FROM staged_controls
