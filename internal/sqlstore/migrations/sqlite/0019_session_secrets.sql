-- A session cookie names its session by ID and carries a secret, whose hash
-- is kept here (NULL for a session opened before: found by token_hash until
-- its next rotation). Unindexed on purpose: a rotation writes it without
-- moving an index entry. token_hash stays, for those older sessions; a
-- session with a secret has a random token_hash that no cookie hashes to.
ALTER TABLE sessions ADD COLUMN secret_hash BLOB;
