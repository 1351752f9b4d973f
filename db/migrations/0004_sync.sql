-- The sync feed (GET /v1/changes).

-- The feed leaves out a change that a newer version of the same therapy already overtook at an
-- earlier feed position (a multi-therapy transaction can take its xid before another writer's
-- and still write the later version). This index answers "is there a newer version earlier?".
CREATE INDEX changes_therapy_id_version_idx ON changes (therapy_id, version);

-- Long polls (wait=) are woken when a transaction that wrote changes commits. NOTIFY is
-- delivered at commit and dropped on rollback; one notification per statement is plenty.
CREATE FUNCTION notify_catalog_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('catalog_changes', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER changes_notify
AFTER INSERT ON changes
FOR EACH STATEMENT EXECUTE FUNCTION notify_catalog_changes();
