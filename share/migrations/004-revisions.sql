-- osm order store, schema version 4: revisions and cancellation.
--
-- A revision (osm-revise, or osm-submit of a higher revision number)
-- moves an order to a new plan revision: components it keeps move to
-- the new plan as they are; compensation tasks are added to it — mode
-- 'undo' (tasks.compensates names the task undone, tasks.request is what
-- that task sent) and 'redo' (tasks.previous_request is what was sent
-- before) — and components the revision adds are done with amend = 1
-- (the hook's mode is then "amend-do").  While compensation runs the
-- order is 'amending' (or 'cancelling'), and its tasks run: the held flag
-- of migration 003 now counts those states as running too.

ALTER TABLE tasks ADD COLUMN amend INTEGER NOT NULL DEFAULT 0;
-- the idempotency key the task's request was first sent with: kept for
-- every later run of it (a worker's crash, a retry), made anew when an
-- operator's retry may have changed the request
ALTER TABLE tasks ADD COLUMN idem_key TEXT;
ALTER TABLE tasks ADD COLUMN previous_request TEXT;

DROP TRIGGER orders_hold;
CREATE TRIGGER orders_hold AFTER UPDATE OF state ON orders
    WHEN (old.state IN ('not_started', 'in_progress', 'amending', 'cancelling'))
         <> (new.state IN ('not_started', 'in_progress', 'amending', 'cancelling'))
BEGIN
    UPDATE tasks SET held = (new.state NOT IN ('not_started', 'in_progress', 'amending', 'cancelling'))
        WHERE order_id = new.id AND state IN ('pending', 'waiting', 'running');
END;
UPDATE tasks SET held = 0 WHERE held = 1 AND state IN ('pending', 'waiting', 'running')
    AND order_id IN (SELECT id FROM orders WHERE state IN ('amending', 'cancelling'));
