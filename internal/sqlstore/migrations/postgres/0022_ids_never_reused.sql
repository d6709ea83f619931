-- Identity columns draw from sequences, which never hand an id out again:
-- nothing to change here (SQLite's tables are rebuilt with AUTOINCREMENT
-- by its migration of the same number).
SELECT 1;
