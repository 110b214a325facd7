-- Index tuning chosen by the EAV benchmark (docs/benchmarks.md):
-- * idx_column_values_row duplicates the leading columns of uq_column_values_row_column
--   (logical_table_id, row_id, column_definition_id), which serves every lookup by row and the cascade from
--   table_rows; keeping both costs one more index write per value.
-- * idx_column_values_string_trgm serves LIKE/ILIKE '%…%', which the query engine does not emit (contains is
--   strpos/instr, exact and bound); a GIN index is the most expensive index to maintain on ingest.
DROP INDEX IF EXISTS idx_column_values_row;
DROP INDEX IF EXISTS idx_column_values_string_trgm;
