-- select_receipt_line_totals: how many lines the store holds for a receipt and what they move (positive), to compare with what the receipt recorded.
-- params: receipt_no VARCHAR
SELECT
    count(*) AS line_count,
    CAST(coalesce(sum(abs(amount)), 0) AS DECIMAL(18,2)) AS total_amount
FROM writeoff_lines
WHERE receipt_no = $receipt_no
