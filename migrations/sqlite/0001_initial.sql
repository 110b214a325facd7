-- Tessera initial schema: SQLite (embedded / desktop local mode).
--
-- The same tables, columns, keys, foreign keys and seed rows as migrations/postgres/0001_initial.sql, in SQLite's
-- types. PRAGMAs (foreign_keys, journal_mode, busy_timeout) are set per connection by the application.
--
-- Storage formats (enforced by CHECKs so that a wrongly encoded value fails loudly instead of sorting wrongly):
-- * UUIDs: TEXT, hyphenated lower case — bind uuid::fmt::Hyphenated or a String, not Uuid (sqlx encodes it as a
--   16-byte BLOB, which never equals the text). Primary keys check length(id) = 36; foreign keys catch the rest.
-- * Timestamps: TEXT `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, always 6 fractional digits) so text order = time order.
--   A Date value is midnight UTC in that format.
-- * Booleans: INTEGER 0/1. JSON: TEXT holding valid JSON (JSON1).
-- * Decimals: column_values.decimal_value is the exact TEXT; decimal_sort is a REAL shadow (this backend's only
--   extra column) used for ordering and range filters, with an exact re-check in the application.
-- * Strings compare with SQLite's default BINARY collation, i.e. by code point for UTF-8.
-- Differences from PostgreSQL: column_values is a plain table (no partitions); no idx_table_rows_jsonb (GIN) and no
-- idx_column_values_string_trgm (pg_trgm); NULL-tolerant uniqueness on roles / user_roles uses expression indexes
-- over COALESCE(workspace_id, '') instead of NULLS NOT DISTINCT.

-- ---------------------------------------------------------------------------------------------------------------
-- Tenancy
-- ---------------------------------------------------------------------------------------------------------------

CREATE TABLE workspaces (
    id          TEXT    PRIMARY KEY CHECK (length(id) = 36),
    name        TEXT    NOT NULL,
    slug        TEXT    NOT NULL,
    settings    TEXT    NOT NULL DEFAULT '{}',
    is_active   INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at  TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by  TEXT,
    updated_at  TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by  TEXT,
    CONSTRAINT uq_workspaces_slug UNIQUE (slug),
    CONSTRAINT ck_workspaces_settings_object CHECK (json_valid(settings) AND json_type(settings) = 'object')
);

-- ---------------------------------------------------------------------------------------------------------------
-- Metadata
-- ---------------------------------------------------------------------------------------------------------------

CREATE TABLE logical_tables (
    id              TEXT    PRIMARY KEY CHECK (length(id) = 36),
    workspace_id    TEXT    NOT NULL REFERENCES workspaces (id),
    table_name      TEXT    NOT NULL,
    description     TEXT,
    is_hierarchical INTEGER NOT NULL DEFAULT 0 CHECK (is_hierarchical IN (0, 1)),
    cache_policy    TEXT    NOT NULL DEFAULT 'None',
    is_system       INTEGER NOT NULL DEFAULT 0 CHECK (is_system IN (0, 1)),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by      TEXT,
    updated_at      TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by      TEXT,
    CONSTRAINT uq_logical_tables_name UNIQUE (workspace_id, table_name),
    -- Target of table_rows (workspace_id, logical_table_id): a row always lives in its table's workspace.
    CONSTRAINT uq_logical_tables_workspace_id UNIQUE (workspace_id, id),
    CONSTRAINT ck_logical_tables_cache_policy CHECK (cache_policy IN ('None', 'FullTable', 'IndividualRows'))
);

-- The attribute library: a definition can be attached to many logical tables.
CREATE TABLE column_definitions (
    id            TEXT    PRIMARY KEY CHECK (length(id) = 36),
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id),
    column_name   TEXT    NOT NULL,
    data_type     TEXT    NOT NULL,
    default_value TEXT,
    masking_rule  TEXT, -- none | full | partial:<n> | email | hash; validated by the application
    description   TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by    TEXT,
    updated_at    TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by    TEXT,
    CONSTRAINT uq_column_definitions_name UNIQUE (workspace_id, column_name),
    CONSTRAINT ck_column_definitions_data_type
        CHECK (data_type IN ('String', 'Text', 'Int', 'Decimal', 'Boolean', 'Date', 'DateTime'))
);

-- Attachment of a definition to a table (attachment-level settings).
CREATE TABLE table_column_properties (
    logical_table_id      TEXT    NOT NULL REFERENCES logical_tables (id) ON DELETE CASCADE,
    column_definition_id  TEXT    NOT NULL REFERENCES column_definitions (id),
    display_order         INTEGER NOT NULL DEFAULT 0,
    is_mandatory          INTEGER NOT NULL DEFAULT 0 CHECK (is_mandatory IN (0, 1)),
    is_value_unique       INTEGER NOT NULL DEFAULT 0 CHECK (is_value_unique IN (0, 1)),
    validation_rule_type  TEXT, -- email | url | regex | range | length | enum; validated by the application
    validation_parameters TEXT CHECK (json_valid(validation_parameters)),
    created_at            TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by            TEXT,
    updated_at            TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by            TEXT,
    PRIMARY KEY (logical_table_id, column_definition_id)
);

CREATE INDEX idx_table_column_properties_definition ON table_column_properties (column_definition_id);

-- ---------------------------------------------------------------------------------------------------------------
-- Data
-- ---------------------------------------------------------------------------------------------------------------

CREATE TABLE table_rows (
    id                  TEXT    PRIMARY KEY CHECK (length(id) = 36),
    workspace_id        TEXT    NOT NULL,
    logical_table_id    TEXT    NOT NULL,
    code                TEXT,
    display_value       TEXT,
    sort_order          INTEGER NOT NULL DEFAULT 0,
    is_active           INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    parent_row_id       TEXT,
    extended_properties TEXT    NOT NULL DEFAULT '{}',
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by          TEXT,
    updated_at          TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by          TEXT,
    -- Deleting a logical table deletes its rows (and, through them, their values).
    CONSTRAINT fk_table_rows_logical_table FOREIGN KEY (workspace_id, logical_table_id)
        REFERENCES logical_tables (workspace_id, id) ON DELETE CASCADE,
    -- A parent is a row of the same logical table. No cascade: deleting a row with children is refused unless the
    -- application deletes the subtree (in one statement, or children first).
    CONSTRAINT fk_table_rows_parent FOREIGN KEY (logical_table_id, parent_row_id)
        REFERENCES table_rows (logical_table_id, id),
    CONSTRAINT ck_table_rows_extended_properties_object
        CHECK (json_valid(extended_properties) AND json_type(extended_properties) = 'object'),
    CONSTRAINT ck_table_rows_not_own_parent CHECK (parent_row_id IS NULL OR parent_row_id <> id)
);

-- Unique so that (logical_table_id, id) can be the target of composite foreign keys (parent rows, column values).
CREATE UNIQUE INDEX idx_table_rows_logical_table ON table_rows (logical_table_id, id);
CREATE INDEX idx_table_rows_code ON table_rows (logical_table_id, code) WHERE code IS NOT NULL;
CREATE INDEX idx_table_rows_active ON table_rows (logical_table_id, is_active);
CREATE INDEX idx_table_rows_sort ON table_rows (logical_table_id, sort_order, id);
CREATE INDEX idx_table_rows_parent ON table_rows (parent_row_id) WHERE parent_row_id IS NOT NULL;
-- idx_table_rows_jsonb (GIN on extended_properties) has no SQLite equivalent.

-- One typed value per (row, column). A plain table here; partitioned by logical_table_id on PostgreSQL.
CREATE TABLE column_values (
    id                   TEXT    PRIMARY KEY CHECK (length(id) = 36),
    row_id               TEXT    NOT NULL,
    column_definition_id TEXT    NOT NULL REFERENCES column_definitions (id),
    logical_table_id     TEXT    NOT NULL,
    string_value         TEXT,
    int_value            INTEGER,
    decimal_value        TEXT,    -- exact decimal as text
    decimal_sort         REAL,    -- ordering / filtering shadow of decimal_value (SQLite only)
    boolean_value        INTEGER CHECK (boolean_value IN (0, 1)),
    date_value           TEXT    CHECK (date_value GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'), -- DateTime; a Date is stored at midnight UTC
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by           TEXT,
    updated_at           TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by           TEXT,
    CONSTRAINT uq_column_values_row_column UNIQUE (logical_table_id, row_id, column_definition_id),
    -- Includes logical_table_id so the value's table always matches its row's (as on PostgreSQL).
    CONSTRAINT fk_column_values_row FOREIGN KEY (logical_table_id, row_id)
        REFERENCES table_rows (logical_table_id, id) ON DELETE CASCADE,
    -- Each value fills exactly one typed column (a stored NULL fills none).
    CONSTRAINT ck_column_values_single_value CHECK (
        (string_value IS NOT NULL) + (int_value IS NOT NULL) + (decimal_value IS NOT NULL)
        + (boolean_value IS NOT NULL) + (date_value IS NOT NULL) <= 1),
    CONSTRAINT ck_column_values_decimal_sort CHECK ((decimal_value IS NULL) = (decimal_sort IS NULL))
);

CREATE INDEX idx_column_values_row ON column_values (row_id);
CREATE INDEX idx_column_values_definition ON column_values (column_definition_id);
CREATE INDEX idx_column_values_string ON column_values (column_definition_id, string_value)
    WHERE string_value IS NOT NULL;
CREATE INDEX idx_column_values_int ON column_values (column_definition_id, int_value)
    WHERE int_value IS NOT NULL;
CREATE INDEX idx_column_values_decimal ON column_values (column_definition_id, decimal_sort)
    WHERE decimal_sort IS NOT NULL;
CREATE INDEX idx_column_values_boolean ON column_values (column_definition_id, boolean_value)
    WHERE boolean_value IS NOT NULL;
CREATE INDEX idx_column_values_date ON column_values (column_definition_id, date_value)
    WHERE date_value IS NOT NULL;
-- idx_column_values_string_trgm (pg_trgm) has no SQLite equivalent; substring search scans.

-- ---------------------------------------------------------------------------------------------------------------
-- Constraint metadata
-- ---------------------------------------------------------------------------------------------------------------

CREATE TABLE table_constraints (
    id               TEXT    PRIMARY KEY CHECK (length(id) = 36),
    logical_table_id TEXT    NOT NULL REFERENCES logical_tables (id) ON DELETE CASCADE,
    constraint_name  TEXT    NOT NULL,
    constraint_type  TEXT    NOT NULL,
    is_active        INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by       TEXT,
    updated_at       TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by       TEXT,
    CONSTRAINT uq_table_constraints_name UNIQUE (logical_table_id, constraint_name),
    CONSTRAINT ck_table_constraints_type
        CHECK (constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY', 'CHECK'))
);

-- At most one active PRIMARY KEY per logical table.
CREATE UNIQUE INDEX uq_table_constraints_primary_key ON table_constraints (logical_table_id)
    WHERE constraint_type = 'PRIMARY KEY' AND is_active = 1;

CREATE TABLE constraint_columns (
    id                   TEXT    PRIMARY KEY CHECK (length(id) = 36),
    constraint_id        TEXT    NOT NULL REFERENCES table_constraints (id) ON DELETE CASCADE,
    column_definition_id TEXT    NOT NULL REFERENCES column_definitions (id),
    ordinal_position     INTEGER NOT NULL,
    created_at           TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by           TEXT,
    updated_at           TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by           TEXT,
    CONSTRAINT uq_constraint_columns_position UNIQUE (constraint_id, ordinal_position),
    CONSTRAINT uq_constraint_columns_column UNIQUE (constraint_id, column_definition_id)
);

CREATE INDEX idx_constraint_columns_definition ON constraint_columns (column_definition_id);

-- Options of a PRIMARY KEY / UNIQUE constraint.
CREATE TABLE unique_indexes (
    id                TEXT    PRIMARY KEY CHECK (length(id) = 36),
    constraint_id     TEXT    NOT NULL REFERENCES table_constraints (id) ON DELETE CASCADE,
    is_case_sensitive INTEGER NOT NULL DEFAULT 1 CHECK (is_case_sensitive IN (0, 1)),
    index_type        TEXT,
    created_at        TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by        TEXT,
    updated_at        TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by        TEXT,
    CONSTRAINT uq_unique_indexes_constraint UNIQUE (constraint_id)
);

-- Extended-property JSON paths that take part in a PRIMARY KEY / UNIQUE key.
CREATE TABLE unique_index_json_properties (
    id                TEXT    PRIMARY KEY CHECK (length(id) = 36),
    unique_index_id   TEXT    NOT NULL REFERENCES unique_indexes (id) ON DELETE CASCADE,
    property_path     TEXT    NOT NULL,
    is_case_sensitive INTEGER NOT NULL DEFAULT 1 CHECK (is_case_sensitive IN (0, 1)),
    ordinal_position  INTEGER NOT NULL,
    created_at        TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by        TEXT,
    updated_at        TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by        TEXT,
    CONSTRAINT uq_unique_index_json_properties_position UNIQUE (unique_index_id, ordinal_position),
    CONSTRAINT uq_unique_index_json_properties_path UNIQUE (unique_index_id, property_path)
);

-- The referenced columns are the referenced table's PRIMARY KEY. MATCH PARTIAL is rejected by the application.
-- referenced_table_id is NO ACTION: a table referenced by another table's FK cannot be deleted. To delete a logical
-- table, delete its table_constraints first (same rule as on PostgreSQL, where a self-reference would block the
-- nested cascade).
CREATE TABLE foreign_key_references (
    id                  TEXT PRIMARY KEY CHECK (length(id) = 36),
    constraint_id       TEXT NOT NULL REFERENCES table_constraints (id) ON DELETE CASCADE,
    referenced_table_id TEXT NOT NULL REFERENCES logical_tables (id),
    on_update_action    TEXT NOT NULL DEFAULT 'NO ACTION',
    on_delete_action    TEXT NOT NULL DEFAULT 'NO ACTION',
    match_type          TEXT NOT NULL DEFAULT 'SIMPLE',
    created_at          TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by          TEXT,
    updated_at          TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by          TEXT,
    CONSTRAINT uq_foreign_key_references_constraint UNIQUE (constraint_id),
    CONSTRAINT ck_foreign_key_references_on_update
        CHECK (on_update_action IN ('NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT')),
    CONSTRAINT ck_foreign_key_references_on_delete
        CHECK (on_delete_action IN ('NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT')),
    CONSTRAINT ck_foreign_key_references_match_type CHECK (match_type IN ('SIMPLE', 'FULL'))
);

CREATE INDEX idx_foreign_key_references_referenced ON foreign_key_references (referenced_table_id);

CREATE TABLE check_constraints (
    id               TEXT PRIMARY KEY CHECK (length(id) = 36),
    constraint_id    TEXT NOT NULL REFERENCES table_constraints (id) ON DELETE CASCADE,
    check_expression TEXT NOT NULL,
    error_message    TEXT,
    created_at       TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by       TEXT,
    updated_at       TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by       TEXT,
    CONSTRAINT uq_check_constraints_constraint UNIQUE (constraint_id)
);

-- Enforcement of PRIMARY KEY / UNIQUE: one normalized key per (constraint, row), written in the row's transaction.
-- The primary key makes concurrent duplicate inserts race-free. A key with a NULL component is not stored.
CREATE TABLE constraint_keys (
    constraint_id  TEXT NOT NULL REFERENCES table_constraints (id) ON DELETE CASCADE,
    normalized_key TEXT NOT NULL,
    row_id         TEXT NOT NULL REFERENCES table_rows (id) ON DELETE CASCADE,
    CONSTRAINT pk_constraint_keys PRIMARY KEY (constraint_id, normalized_key)
);

CREATE UNIQUE INDEX idx_constraint_keys_row ON constraint_keys (row_id, constraint_id);

-- ---------------------------------------------------------------------------------------------------------------
-- Authentication
-- ---------------------------------------------------------------------------------------------------------------

CREATE TABLE app_users (
    id                       TEXT    PRIMARY KEY CHECK (length(id) = 36),
    username                 TEXT    NOT NULL,
    email                    TEXT, -- stored normalized (lower case) by the application
    display_name             TEXT,
    password_hash            TEXT, -- PHC string; NULL for passkey-only users
    password_last_changed_at TEXT    CHECK (password_last_changed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    failed_login_attempts    INTEGER NOT NULL DEFAULT 0,
    locked_until             TEXT    CHECK (locked_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    lockout_count            INTEGER NOT NULL DEFAULT 0,
    status                   TEXT    NOT NULL DEFAULT 'active',
    is_active                INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    user_profile_row_id      TEXT    REFERENCES table_rows (id) ON DELETE SET NULL,
    created_at               TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by               TEXT,
    updated_at               TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by               TEXT,
    CONSTRAINT uq_app_users_username UNIQUE (username),
    CONSTRAINT uq_app_users_email UNIQUE (email)
);

CREATE TABLE workspace_members (
    id           TEXT    PRIMARY KEY CHECK (length(id) = 36),
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT    NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
    is_active    INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at   TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by   TEXT,
    updated_at   TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by   TEXT,
    CONSTRAINT uq_workspace_members_user UNIQUE (workspace_id, user_id)
);

CREATE INDEX idx_workspace_members_user ON workspace_members (user_id);

CREATE TABLE user_passkeys (
    id               TEXT    PRIMARY KEY CHECK (length(id) = 36),
    user_id          TEXT    NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
    credential_id    TEXT    NOT NULL, -- base64url
    public_key       TEXT    NOT NULL, -- base64url COSE key
    attestation_type TEXT,
    provider         TEXT,             -- from the AAGUID map
    device_info      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(device_info)), -- name, platform, transports
    aaguid           TEXT,
    sign_count       INTEGER NOT NULL DEFAULT 0,
    backup_eligible  INTEGER NOT NULL DEFAULT 0 CHECK (backup_eligible IN (0, 1)),
    backup_state     INTEGER NOT NULL DEFAULT 0 CHECK (backup_state IN (0, 1)),
    credential       TEXT    NOT NULL CHECK (json_valid(credential)), -- the serialized webauthn-rs Passkey
    last_used_at     TEXT    CHECK (last_used_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    is_active        INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at       TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by       TEXT,
    updated_at       TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by       TEXT,
    CONSTRAINT uq_user_passkeys_credential UNIQUE (credential_id)
);

CREATE INDEX idx_user_passkeys_user ON user_passkeys (user_id);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id       TEXT NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
    family_id     TEXT NOT NULL,
    auth_method   TEXT NOT NULL, -- e.g. password | passkey
    auth_provider TEXT,
    device_info   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(device_info)),
    ip            TEXT,
    user_agent    TEXT,
    created_at    TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    last_seen_at  TEXT CHECK (last_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at    TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    revoked_at    TEXT CHECK (revoked_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
);

CREATE INDEX idx_sessions_user ON sessions (user_id);
CREATE INDEX idx_sessions_family ON sessions (family_id);

-- Opaque refresh tokens, stored hashed, rotated on every use; replaced_by links the rotation chain.
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY CHECK (length(id) = 36),
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    issued_at   TEXT NOT NULL CHECK (issued_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at  TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    used_at     TEXT CHECK (used_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    replaced_by TEXT REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    CONSTRAINT uq_refresh_tokens_hash UNIQUE (token_hash)
);

CREATE INDEX idx_refresh_tokens_session ON refresh_tokens (session_id);

-- JWT signing keys; id is the JWT kid. private_key is encrypted with TESSERA_SECRET_KEY (base64 text).
CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY CHECK (length(id) = 36),
    algorithm   TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    not_after   TEXT CHECK (not_after GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    retired_at  TEXT CHECK (retired_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
);

CREATE TABLE password_reset_tokens (
    id         TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id    TEXT NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    expires_at TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    used_at    TEXT CHECK (used_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by TEXT,
    CONSTRAINT uq_password_reset_tokens_hash UNIQUE (token_hash)
);

CREATE INDEX idx_password_reset_tokens_user ON password_reset_tokens (user_id);

-- One-time passkey enrollment links issued by an administrator (created_by).
CREATE TABLE enrollment_tokens (
    id         TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id    TEXT NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    expires_at TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    used_at    TEXT CHECK (used_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by TEXT,
    CONSTRAINT uq_enrollment_tokens_hash UNIQUE (token_hash)
);

CREATE INDEX idx_enrollment_tokens_user ON enrollment_tokens (user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY CHECK (length(id) = 36),
    user_id      TEXT NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    scopes       TEXT NOT NULL DEFAULT '[]', -- array of permission strings
    last_used_at TEXT CHECK (last_used_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at   TEXT CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    revoked_at   TEXT CHECK (revoked_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_at   TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by   TEXT,
    CONSTRAINT uq_api_tokens_hash UNIQUE (token_hash),
    CONSTRAINT ck_api_tokens_scopes_array CHECK (json_valid(scopes) AND json_type(scopes) = 'array')
);

CREATE INDEX idx_api_tokens_user ON api_tokens (user_id);

-- ---------------------------------------------------------------------------------------------------------------
-- RBAC
-- ---------------------------------------------------------------------------------------------------------------

-- workspace_id NULL = a global role.
CREATE TABLE roles (
    id             TEXT    PRIMARY KEY CHECK (length(id) = 36),
    workspace_id   TEXT    REFERENCES workspaces (id),
    name           TEXT    NOT NULL,
    description    TEXT,
    is_system_role INTEGER NOT NULL DEFAULT 0 CHECK (is_system_role IN (0, 1)),
    is_active      INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    parent_role_id TEXT    REFERENCES roles (id),
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by     TEXT,
    updated_at     TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by     TEXT,
    CONSTRAINT ck_roles_not_own_parent CHECK (parent_role_id IS NULL OR parent_role_id <> id)
);

-- UNIQUE NULLS NOT DISTINCT (workspace_id, name) on PostgreSQL.
CREATE UNIQUE INDEX uq_roles_workspace_name ON roles (COALESCE(workspace_id, ''), name);

-- permission_name is `<resource>:<action>` or `<resource>:<id>:<action>`; `*` segments are wildcards.
CREATE TABLE permissions (
    id                   TEXT    PRIMARY KEY CHECK (length(id) = 36),
    permission_name      TEXT    NOT NULL,
    resource_type        TEXT    NOT NULL,
    action_type          TEXT    NOT NULL,
    description          TEXT,
    is_system_permission INTEGER NOT NULL DEFAULT 0 CHECK (is_system_permission IN (0, 1)),
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by           TEXT,
    updated_at           TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by           TEXT,
    CONSTRAINT uq_permissions_name UNIQUE (permission_name)
);

-- workspace_id NULL = the role applies in every workspace.
CREATE TABLE user_roles (
    id           TEXT    PRIMARY KEY CHECK (length(id) = 36),
    user_id      TEXT    NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
    role_id      TEXT    NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    workspace_id TEXT    REFERENCES workspaces (id) ON DELETE CASCADE,
    is_active    INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    expires_at   TEXT    CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_at   TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by   TEXT,
    updated_at   TEXT    CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by   TEXT
);

-- UNIQUE NULLS NOT DISTINCT (user_id, role_id, workspace_id) on PostgreSQL.
CREATE UNIQUE INDEX uq_user_roles_user_role_workspace ON user_roles (user_id, role_id, COALESCE(workspace_id, ''));
CREATE INDEX idx_user_roles_role ON user_roles (role_id);

CREATE TABLE role_permissions (
    id            TEXT PRIMARY KEY CHECK (length(id) = 36),
    role_id       TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by    TEXT,
    updated_at    TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by    TEXT,
    CONSTRAINT uq_role_permissions_role_permission UNIQUE (role_id, permission_id)
);

CREATE INDEX idx_role_permissions_permission ON role_permissions (permission_id);

-- A filter expression (CHECK language) restricting the rows a role sees in a table.
CREATE TABLE row_policies (
    id                TEXT PRIMARY KEY CHECK (length(id) = 36),
    role_id           TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    logical_table_id  TEXT NOT NULL REFERENCES logical_tables (id) ON DELETE CASCADE,
    filter_expression TEXT NOT NULL,
    created_at        TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_by        TEXT,
    updated_at        TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_by        TEXT,
    CONSTRAINT uq_row_policies_role_table UNIQUE (role_id, logical_table_id)
);

CREATE INDEX idx_row_policies_table ON row_policies (logical_table_id);

-- ---------------------------------------------------------------------------------------------------------------
-- Events, audit, background jobs
-- ---------------------------------------------------------------------------------------------------------------

-- Transactional outbox, written in the same transaction as the change it describes.
CREATE TABLE domain_events (
    id                  TEXT    PRIMARY KEY CHECK (length(id) = 36),
    workspace_id        TEXT    NOT NULL REFERENCES workspaces (id),
    event_type          TEXT    NOT NULL,
    aggregate_id        TEXT    NOT NULL,
    aggregate_type      TEXT    NOT NULL,
    event_data          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(event_data)),
    created_at          TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    processed_at        TEXT    CHECK (processed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    processing_attempts INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    status              TEXT    NOT NULL DEFAULT 'pending',
    version             INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT ck_domain_events_status CHECK (status IN ('pending', 'processed', 'dead'))
);

-- The publisher's queue (in creation order) and the retention clean-up.
CREATE INDEX idx_domain_events_pending ON domain_events (created_at, id) WHERE status = 'pending';
CREATE INDEX idx_domain_events_processed ON domain_events (processed_at) WHERE status = 'processed';

-- Append-only. No foreign keys: entries outlive the users and entities they mention.
CREATE TABLE audit_log (
    id            TEXT PRIMARY KEY CHECK (length(id) = 36),
    workspace_id  TEXT NOT NULL,
    actor_user_id TEXT,
    ip            TEXT,
    user_agent    TEXT,
    action        TEXT NOT NULL,
    entity_type   TEXT NOT NULL,
    entity_id     TEXT,
    before        TEXT CHECK (json_valid(before)),
    after         TEXT CHECK (json_valid(after)),
    created_at    TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
);

CREATE INDEX idx_audit_log_workspace_created ON audit_log (workspace_id, created_at);
CREATE INDEX idx_audit_log_entity ON audit_log (entity_type, entity_id);
CREATE INDEX idx_audit_log_actor ON audit_log (actor_user_id);

-- Named leases for background work that must run on one instance at a time (single writer: BEGIN IMMEDIATE).
CREATE TABLE job_leases (
    name         TEXT PRIMARY KEY,
    holder       TEXT,
    lease_until  TEXT CHECK (lease_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    heartbeat_at TEXT CHECK (heartbeat_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    progress     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(progress))
);

-- ---------------------------------------------------------------------------------------------------------------
-- Seed data (fixed ids, identical in both backends); created_at is the current time in the storage format.
-- ---------------------------------------------------------------------------------------------------------------

INSERT INTO workspaces (id, name, slug, settings, is_active, created_at)
SELECT column1, column2, column3, column4, column5,
       strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'
FROM (VALUES
    ('00000000-0000-0000-0000-000000000001', 'Default', 'default', '{}', 1));

-- System roles are global and immutable. Admin holds `*`; the application alone reserves owner transfer to Owner.
INSERT INTO roles (id, workspace_id, name, description, is_system_role, is_active, created_at)
SELECT column1, column2, column3, column4, column5, column6,
       strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'
FROM (VALUES
    ('00000000-0000-0000-0000-0000000000a1', NULL, 'Owner',  'Full access, including ownership transfer', 1, 1),
    ('00000000-0000-0000-0000-0000000000a2', NULL, 'Admin',  'Full access except ownership transfer',     1, 1),
    ('00000000-0000-0000-0000-0000000000a3', NULL, 'Editor', 'Read and write data, run reports and migrations', 1, 1),
    ('00000000-0000-0000-0000-0000000000a4', NULL, 'Viewer', 'Read data and run reports',                 1, 1));

INSERT INTO permissions (id, permission_name, resource_type, action_type, description, is_system_permission, created_at)
SELECT column1, column2, column3, column4, column5, column6,
       strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'
FROM (VALUES
    ('00000000-0000-0000-0001-000000000001', '*',                   '*',         '*',       'Everything',                      1),
    ('00000000-0000-0000-0001-000000000002', 'table:*:read',        'table',     'read',    'Read rows of every table',        1),
    ('00000000-0000-0000-0001-000000000003', 'table:*:create',      'table',     'create',  'Create rows in every table',      1),
    ('00000000-0000-0000-0001-000000000004', 'table:*:update',      'table',     'update',  'Update rows of every table',      1),
    ('00000000-0000-0000-0001-000000000005', 'table:*:delete',      'table',     'delete',  'Delete rows of every table',      1),
    ('00000000-0000-0000-0001-000000000006', 'report:*:read',       'report',    'read',    'Read every report',               1),
    ('00000000-0000-0000-0001-000000000007', 'report:*:execute',    'report',    'execute', 'Execute every report',            1),
    ('00000000-0000-0000-0001-000000000008', 'migration:*:execute', 'migration', 'execute', 'Run data migrations',             1),
    ('00000000-0000-0000-0001-000000000009', 'schema:manage',       'schema',    'manage',  'Design tables, columns and constraints', 1),
    ('00000000-0000-0000-0001-000000000010', 'users:manage',        'users',     'manage',  'Manage users',                    1),
    ('00000000-0000-0000-0001-000000000011', 'roles:manage',        'roles',     'manage',  'Manage roles and permissions',    1),
    ('00000000-0000-0000-0001-000000000012', 'audit:read',          'audit',     'read',    'Read and export the audit log',   1),
    ('00000000-0000-0000-0001-000000000013', 'settings:manage',     'settings',  'manage',  'Manage settings',                 1));

INSERT INTO role_permissions (id, role_id, permission_id, created_at)
SELECT column1, column2, column3,
       strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'
FROM (VALUES
    -- Owner
    ('00000000-0000-0000-0002-000000000001', '00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0001-000000000001'),
    -- Admin
    ('00000000-0000-0000-0002-000000000002', '00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0001-000000000001'),
    -- Editor
    ('00000000-0000-0000-0002-000000000003', '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0001-000000000002'),
    ('00000000-0000-0000-0002-000000000004', '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0001-000000000003'),
    ('00000000-0000-0000-0002-000000000005', '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0001-000000000004'),
    ('00000000-0000-0000-0002-000000000006', '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0001-000000000005'),
    ('00000000-0000-0000-0002-000000000007', '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0001-000000000006'),
    ('00000000-0000-0000-0002-000000000008', '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0001-000000000007'),
    ('00000000-0000-0000-0002-000000000009', '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0001-000000000008'),
    -- Viewer
    ('00000000-0000-0000-0002-000000000010', '00000000-0000-0000-0000-0000000000a4', '00000000-0000-0000-0001-000000000002'),
    ('00000000-0000-0000-0002-000000000011', '00000000-0000-0000-0000-0000000000a4', '00000000-0000-0000-0001-000000000006'),
    ('00000000-0000-0000-0002-000000000012', '00000000-0000-0000-0000-0000000000a4', '00000000-0000-0000-0001-000000000007'));
