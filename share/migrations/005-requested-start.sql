-- osm order store, schema version 5: requested start dates and why
-- plan edges exist.
--
-- A TMF622 order may say when work may begin (requestedStartDate), for
-- the whole order or per item: the planner holds the order's or item's
-- components until then (tasks.not_before), and a stored plan is shown
-- again with the same dates.  A dependency keeps the rule that made it
-- (task_deps.why, JSON: {rule, scope, ...}), for osm-plan to show.

ALTER TABLE orders ADD COLUMN start_requested_at INTEGER;       -- not before; NULL none
ALTER TABLE order_items ADD COLUMN start_requested_at INTEGER;  -- not before; NULL none
ALTER TABLE task_deps ADD COLUMN why TEXT;                      -- JSON; NULL for older plans
