-- sessions_expires served no query: the sweep deletes sessions expired OR
-- idle (last_seen_at, not indexed), which both databases answer with a
-- scan. Every login, second step and session rotation still paid for it:
-- two more index pages written in each of their commits.
DROP INDEX IF EXISTS sessions_expires;
