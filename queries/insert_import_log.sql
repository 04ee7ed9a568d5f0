-- insert_import_log: records one load of an extract and returns its import_id.
-- params: source VARCHAR, fingerprint VARCHAR, files_json VARCHAR, row_counts_json VARCHAR, rejected_rows INTEGER
INSERT INTO import_log
SELECT
    coalesce(max(import_id), 0) + 1,
    current_localtimestamp(),
    $source,
    $fingerprint,
    $files_json,
    $row_counts_json,
    $rejected_rows
FROM import_log
RETURNING import_id
