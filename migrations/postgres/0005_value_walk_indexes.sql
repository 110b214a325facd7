-- Query engine indexes (docs/research/eav-query-plans.md §8, docs/decisions/0009-eav-page-queries.md).
--
-- * Text values move to their own unindexed column `text_value`: a B-tree entry cannot exceed 2,704 bytes, so
--   long Text values were refused by the string index. Text is searched with contains/starts_with (per-row
--   probes), never walked in index order.
-- * The value indexes lead with logical_table_id and end with row_id: a page query walks the sort column's
--   index in page order (index-only, ties already by row id when ascending) and probes each filter by
--   (table, row, column). Several tables share a partition and a definition can be attached to several tables,
--   hence logical_table_id first.
-- * The (table, row, column) unique index covers the non-string values, so range probes and sort-key lookups
--   by row are index-only.
ALTER TABLE column_values ADD COLUMN text_value TEXT COLLATE "C";

UPDATE column_values v SET text_value = v.string_value, string_value = NULL
FROM column_definitions d
WHERE d.id = v.column_definition_id AND d.data_type = 'Text' AND v.string_value IS NOT NULL;

ALTER TABLE column_values DROP CONSTRAINT ck_column_values_single_value;
ALTER TABLE column_values ADD CONSTRAINT ck_column_values_single_value CHECK (
    (string_value IS NOT NULL)::int + (text_value IS NOT NULL)::int + (int_value IS NOT NULL)::int
    + (decimal_value IS NOT NULL)::int + (boolean_value IS NOT NULL)::int + (date_value IS NOT NULL)::int <= 1);

DROP INDEX IF EXISTS idx_column_values_string;
DROP INDEX IF EXISTS idx_column_values_int;
DROP INDEX IF EXISTS idx_column_values_decimal;
DROP INDEX IF EXISTS idx_column_values_boolean;
DROP INDEX IF EXISTS idx_column_values_date;
CREATE INDEX idx_column_values_string ON column_values (logical_table_id, column_definition_id, string_value, row_id)
    WHERE string_value IS NOT NULL;
CREATE INDEX idx_column_values_int ON column_values (logical_table_id, column_definition_id, int_value, row_id)
    WHERE int_value IS NOT NULL;
CREATE INDEX idx_column_values_decimal ON column_values (logical_table_id, column_definition_id, decimal_value, row_id)
    WHERE decimal_value IS NOT NULL;
CREATE INDEX idx_column_values_boolean ON column_values (logical_table_id, column_definition_id, boolean_value, row_id)
    WHERE boolean_value IS NOT NULL;
CREATE INDEX idx_column_values_date ON column_values (logical_table_id, column_definition_id, date_value, row_id)
    WHERE date_value IS NOT NULL;

ALTER TABLE column_values DROP CONSTRAINT uq_column_values_row_column;
ALTER TABLE column_values ADD CONSTRAINT uq_column_values_row_column
    UNIQUE (logical_table_id, row_id, column_definition_id) INCLUDE (int_value, decimal_value, boolean_value, date_value);
