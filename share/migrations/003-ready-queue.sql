-- osm order store, schema version 3: the ready queue.
--
-- A task may run when it is pending, its dependencies are all completed
-- or skipped, its order is running (not_started or in_progress) and its
-- not-before time has come.  Finding that by scanning every pending task
-- and its dependencies costs more the bigger the backlog; here it is kept
-- up to date as tasks finish, so that claiming work is an index seek:
--
-- - tasks.deps_open counts the task's dependencies not yet completed or
--   skipped.  It is set when a plan is stored and kept by the triggers
--   below in the same transaction as every change of a task's state,
--   whichever program makes it (osm-run, osm-task skip/complete/retry...).
-- - tasks.held is 1 while the task's order is not running (suspended,
--   failed, ended...), kept by a trigger on orders.state.
-- - tasks.priority is the order's priority, copied at planning time so
--   that the queue is ordered within one index.
-- - tasks_ready holds exactly the tasks that wait for nothing but their
--   time: osm-run seeks it by (priority, not_before, id), the order in
--   which work has always been claimed.
--
-- tasks_open serves the roll-up of an order's state from its tasks
-- (lib/store-task.c): "is anything of this plan still open, failed,
-- active or runnable" are seeks there instead of a count over the order;
-- and a worker restricted to some orders seeks their ready tasks there.
-- orders.body_rev goes up each time the order's data changes, so that a
-- worker may keep an order parsed in memory while it is unchanged.

ALTER TABLE tasks ADD COLUMN deps_open INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 5;
ALTER TABLE orders ADD COLUMN body_rev INTEGER NOT NULL DEFAULT 0;

UPDATE tasks SET
    deps_open = (SELECT count(*) FROM task_deps d JOIN tasks p ON p.id = d.depends_on
                 WHERE d.task_id = tasks.id AND p.state NOT IN ('completed', 'skipped')),
    held = (SELECT o.state NOT IN ('not_started', 'in_progress') FROM orders o
            WHERE o.id = tasks.order_id),
    priority = (SELECT o.priority FROM orders o WHERE o.id = tasks.order_id);

CREATE INDEX tasks_ready ON tasks (priority, coalesce(not_before, 0), id)
    WHERE state = 'pending' AND deps_open = 0 AND held = 0 AND kind <> 'fallout';
CREATE INDEX tasks_open ON tasks (order_id, plan_revision, state, deps_open)
    WHERE state NOT IN ('completed', 'skipped') AND kind <> 'fallout';
-- timers whose time comes (waiting timer tasks, by their end)
CREATE INDEX tasks_timers ON tasks (coalesce(not_before, 0), id)
    WHERE state = 'waiting' AND kind = 'timer';
-- the old queue index served the scan that tasks_ready replaces
DROP INDEX tasks_queue;

CREATE TRIGGER tasks_dep_done AFTER UPDATE OF state ON tasks
    WHEN new.state IN ('completed', 'skipped') AND old.state NOT IN ('completed', 'skipped')
BEGIN
    UPDATE tasks SET deps_open = deps_open - 1
        WHERE id IN (SELECT task_id FROM task_deps WHERE depends_on = new.id);
END;

CREATE TRIGGER tasks_dep_reopened AFTER UPDATE OF state ON tasks
    WHEN old.state IN ('completed', 'skipped') AND new.state NOT IN ('completed', 'skipped')
BEGIN
    UPDATE tasks SET deps_open = deps_open + 1
        WHERE id IN (SELECT task_id FROM task_deps WHERE depends_on = new.id);
END;

CREATE TRIGGER orders_hold AFTER UPDATE OF state ON orders
    WHEN (old.state IN ('not_started', 'in_progress')) <> (new.state IN ('not_started', 'in_progress'))
BEGIN
    UPDATE tasks SET held = (new.state NOT IN ('not_started', 'in_progress'))
        WHERE order_id = new.id AND state IN ('pending', 'waiting', 'running');
END;
