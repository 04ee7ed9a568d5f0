-- set_unordered_inserts: lets the next inserts write rows in any order (parallel, no order-keeping buffers); undone by reset_unordered_inserts.
-- params: (none)
SET preserve_insertion_order = false
