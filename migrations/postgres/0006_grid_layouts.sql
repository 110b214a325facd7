-- The data grid's column layout per user and table: order, hidden columns and widths, as the JSON object the
-- grid saves (`PUT /api/v1/auth/preferences/grid/{table}`). Gone with the user or the table.
CREATE TABLE grid_layouts (
    user_id          UUID        NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
    logical_table_id UUID        NOT NULL REFERENCES logical_tables (id) ON DELETE CASCADE,
    layout           TEXT        NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, logical_table_id)
);
CREATE INDEX grid_layouts_table ON grid_layouts (logical_table_id);
