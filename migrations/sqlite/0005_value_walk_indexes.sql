-- Text values move to their own unindexed column `text_value`, as on PostgreSQL (where a B-tree entry cannot
-- exceed 2,704 bytes, so long Text values were refused by the string index). The storage mapping is shared
-- by both backends. (SQLite cannot alter the single-value CHECK; writes fill exactly one column anyway.)
ALTER TABLE column_values ADD COLUMN text_value TEXT;

UPDATE column_values SET text_value = string_value, string_value = NULL
WHERE string_value IS NOT NULL
  AND column_definition_id IN (SELECT id FROM column_definitions WHERE data_type = 'Text');
