-- insert_receipt: records one receipt (files PENDING until they are written).
-- params: receipt_no VARCHAR, seq INTEGER, batch_key VARCHAR, created_at TIMESTAMP, preparer VARCHAR, approver VARCHAR, balance_type VARCHAR, reason_code VARCHAR, reason_text VARCHAR, adjustment_code VARCHAR, claim_status VARCHAR, note VARCHAR, determination_reference VARCHAR, criteria_json VARCHAR, as_of DATE, ledger_fingerprint VARCHAR, csv_sha256 VARCHAR, reversal_of VARCHAR, files_dir VARCHAR, export_profile_json VARCHAR
INSERT INTO receipts (
    receipt_no, seq, batch_key, created_at, preparer, approver, balance_type, reason_code,
    reason_text, adjustment_code, claim_status, note, determination_reference, criteria_json,
    as_of, ledger_fingerprint, line_count, total_amount, csv_sha256, reversal_of, files_state,
    files_dir, export_profile_json
)
SELECT
    $receipt_no,
    $seq,
    $batch_key,
    $created_at,
    $preparer,
    $approver,
    $balance_type,
    $reason_code,
    $reason_text,
    $adjustment_code,
    $claim_status,
    $note,
    $determination_reference,
    $criteria_json,
    $as_of,
    $ledger_fingerprint,
    count(*),
    CAST(coalesce(sum(abs(amount)), 0) AS DECIMAL(18,2)),
    $csv_sha256,
    $reversal_of,
    'PENDING',
    $files_dir,
    $export_profile_json
FROM writeoff_lines
WHERE receipt_no = $receipt_no
