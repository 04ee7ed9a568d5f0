-- insert_rejects: replaces the rejects list with the staged problems of one import.
-- params: import_id INTEGER
DELETE FROM rejects;
INSERT INTO rejects
SELECT $import_id, table_name, file, row_number, column_name, value, reason, record_json
FROM staged_rejects
