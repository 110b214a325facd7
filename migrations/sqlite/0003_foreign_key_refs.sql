-- Foreign-key references of child rows: which parent key each child row points at, per FOREIGN KEY
-- constraint. Parent deletes and key updates find their children through (constraint_id, normalized_key).
CREATE TABLE foreign_key_refs (
    constraint_id  TEXT NOT NULL REFERENCES table_constraints (id) ON DELETE CASCADE,
    row_id         TEXT NOT NULL REFERENCES table_rows (id) ON DELETE CASCADE,
    normalized_key TEXT NOT NULL,
    CONSTRAINT pk_foreign_key_refs PRIMARY KEY (constraint_id, row_id)
);
CREATE INDEX idx_foreign_key_refs_key ON foreign_key_refs (constraint_id, normalized_key);
CREATE INDEX idx_foreign_key_refs_row ON foreign_key_refs (row_id);
