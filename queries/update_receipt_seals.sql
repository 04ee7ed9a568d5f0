-- update_receipt_seals: records a receipt's manifest SHA-256 and the SHA-256 of its lines (in the commit's transaction).
-- params: receipt_no VARCHAR, json_sha256 VARCHAR, lines_sha256 VARCHAR
UPDATE receipts
SET json_sha256 = $json_sha256,
    lines_sha256 = $lines_sha256
WHERE receipt_no = $receipt_no
