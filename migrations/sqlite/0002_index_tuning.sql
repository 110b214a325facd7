-- Index tuning chosen by the EAV benchmark (docs/benchmarks.md): idx_column_values_row duplicates the leading
-- columns of the (logical_table_id, row_id, column_definition_id) unique index. (SQLite never had the trigram
-- index that the PostgreSQL migration of the same version drops.)
DROP INDEX IF EXISTS idx_column_values_row;
