"""Write-offs: batches, receipts, history, audit log and permissions."""
