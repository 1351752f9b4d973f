-- Condition records decide what a query matches, so a change to them is news to every process
-- that keeps answers per ChangeSignal epoch (the response cache): they NOTIFY on the same channel
-- as therapy changes, at commit, once per statement.
CREATE TRIGGER conditions_notify
AFTER INSERT OR UPDATE OR DELETE ON conditions
FOR EACH STATEMENT EXECUTE FUNCTION notify_catalog_changes();
