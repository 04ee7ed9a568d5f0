-- create_store: the tables a ledger store keeps across extract loads (import log, rejects, write-offs, audit).
-- params: (none)
CREATE TABLE IF NOT EXISTS store_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
INSERT INTO store_meta
VALUES ('format_version', '1'), ('generation', '0')
ON CONFLICT DO NOTHING;

-- One row per load of an extract (LEDGER_FORMAT.md; issue 2 "import log").
CREATE TABLE IF NOT EXISTS import_log (
    import_id INTEGER PRIMARY KEY,
    loaded_at TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    files_json VARCHAR NOT NULL,
    row_counts_json VARCHAR NOT NULL,
    rejected_rows INTEGER NOT NULL
);

-- The control totals of each load: per table, rows read, kept and held before; per money
-- column (one row each; NULL money_column for a table without one) the sum read and stored.
CREATE TABLE IF NOT EXISTS import_controls (
    import_id INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_kept BIGINT NOT NULL,
    previous_rows BIGINT,
    money_column VARCHAR,
    read_total DECIMAL(18,2),
    stored_total DECIMAL(18,2),
    unreadable_cells BIGINT
);

-- Rows of the latest load that broke the contract, with where and why.
CREATE TABLE IF NOT EXISTS rejects (
    import_id INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    row_number INTEGER,
    column_name VARCHAR,
    value VARCHAR,
    reason VARCHAR NOT NULL,
    record_json VARCHAR
);

-- One row per committed receipt: a write-off batch or a reversal.
CREATE TABLE IF NOT EXISTS receipts (
    receipt_no VARCHAR PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    batch_key VARCHAR NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    preparer VARCHAR NOT NULL,
    approver VARCHAR,
    balance_type VARCHAR NOT NULL,
    reason_code VARCHAR NOT NULL,
    reason_text VARCHAR NOT NULL,
    adjustment_code VARCHAR,
    claim_status VARCHAR,
    note VARCHAR,
    determination_reference VARCHAR,
    criteria_json VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    ledger_fingerprint VARCHAR NOT NULL,
    line_count INTEGER NOT NULL,
    total_amount DECIMAL(18,2) NOT NULL,
    csv_sha256 VARCHAR NOT NULL,
    reversal_of VARCHAR,
    -- Crash protocol (receipts.py): the receipt and its lines are committed as PENDING in one
    -- transaction, then the files are written (temp file + rename), then WRITTEN. Anything
    -- PENDING is finished from these rows: the folder and the export profile used are kept.
    files_state VARCHAR NOT NULL,
    files_dir VARCHAR NOT NULL,
    export_profile_json VARCHAR NOT NULL
);

-- The lines of every receipt: the signed change to one bucket of one charge.
-- A write-off line is negative; a reversal line is positive and names the line it reverses.
CREATE TABLE IF NOT EXISTS writeoff_lines (
    receipt_no VARCHAR NOT NULL,
    line_no INTEGER NOT NULL,
    transaction_id VARCHAR NOT NULL UNIQUE,
    charge_id VARCHAR NOT NULL,
    encounter_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    group_key VARCHAR NOT NULL,
    bucket VARCHAR NOT NULL,
    payer_id VARCHAR,
    amount DECIMAL(18,2) NOT NULL,
    balance_before DECIMAL(18,2) NOT NULL,
    posted_date DATE NOT NULL,
    reverses_transaction_id VARCHAR,
    -- issue 14: the charge a line was made on (with encounter_id above), filled at commit from
    -- the loaded charge; a reversal line copies the line it reverses. NULL = unknown (a store
    -- older than issue 14): such a line is matched to a new extract's charge by id alone.
    charge_date_of_service DATE,
    charge_procedure_code VARCHAR,
    charge_amount DECIMAL(18,2),
    PRIMARY KEY (receipt_no, line_no)
);
-- Stores made before issue 14 get the identity columns empty (see above).
ALTER TABLE writeoff_lines ADD COLUMN IF NOT EXISTS charge_date_of_service DATE;
ALTER TABLE writeoff_lines ADD COLUMN IF NOT EXISTS charge_procedure_code VARCHAR;
ALTER TABLE writeoff_lines ADD COLUMN IF NOT EXISTS charge_amount DECIMAL(18,2);

-- issue 14: charges held out of every candidate search until a clean load, with why
-- (ledger/quarantine.py; derived by derive_quarantined_charges.sql at each load).
CREATE TABLE IF NOT EXISTS quarantined_charges (
    charge_id VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    source_table VARCHAR NOT NULL,
    source_row INTEGER
);
-- Balances derived before issue 14 lack the flag until the next load: none is held.
ALTER TABLE IF EXISTS charge_balances ADD COLUMN IF NOT EXISTS quarantined BOOLEAN DEFAULT FALSE;

-- Append-only: every commit, refusal and reversal, with who, when and which receipt.
CREATE TABLE IF NOT EXISTS audit_log (
    event_id INTEGER PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    receipt_no VARCHAR,
    detail VARCHAR
);

-- Issue 16, tamper evidence. Added as ALTERs so that stores made before them gain the columns
-- (nothing is filled in for old rows: an old event has no hash and the chain starts at the
-- first hashed event; an old receipt has no JSON or lines hash and is checked on the rest).
-- audit_log: each event's SHA-256 over audit.py's canonical serialization of it (prev_sha256
-- included), and the SHA-256 of the event before it (NULL for the first hashed event).
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS prev_sha256 VARCHAR;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS event_sha256 VARCHAR;
-- receipts: the manifest's SHA-256 (the CSV's is csv_sha256) and the SHA-256 of its lines
-- (receipts.lines_sha256), beside line_count and total_amount.
ALTER TABLE receipts ADD COLUMN IF NOT EXISTS json_sha256 VARCHAR;
ALTER TABLE receipts ADD COLUMN IF NOT EXISTS lines_sha256 VARCHAR;
