-- Per-user display preferences of the web app: language (`en`, `es`) and IANA time zone for DateTime values.
-- NULL means "not chosen": the browser's language and UTC are used.
ALTER TABLE app_users ADD COLUMN locale TEXT;
ALTER TABLE app_users ADD COLUMN time_zone TEXT;
