-- events_org held every event, most of them without an organization (logins,
-- second steps): each of those wrote a page of it for nothing, and SQLite
-- read the organization audit log's second part ("its members' 2FA turned
-- on, off or reset": org_id IS NULL) by walking every event without an
-- organization in it. Only an organization's events are in it now; the
-- members' events are found through events_user, person by person.
DROP INDEX IF EXISTS events_org;
CREATE INDEX events_org ON events(org_id, id) WHERE org_id IS NOT NULL;
