-- osm order store, schema version 2: indexes for osm-status.
--
-- Two small partial indexes that cover what the store summary (osm-status
-- --summary, --format prometheus) reads about open orders, so that it
-- never visits the rows of the orders and tasks tables: at 1,000,000
-- orders the count of late orders and orders in jeopardy reads these
-- indexes only.  Both hold open work only (ended orders, finished tasks
-- drop out), so they stay small whatever the store's history.
--
-- A partial index is used only by queries that repeat its WHERE term
-- word for word: lib/store-status.c (SQL_LATE) does; keep them in step.

-- Open orders (every state but completed, cancelled and aborted), with
-- what lateness and jeopardy are computed from.
CREATE INDEX orders_open ON orders (state, requested_at, expected_at, jeopardy_at, plan_revision)
    WHERE state IN ('not_started', 'in_progress', 'suspended', 'amending', 'cancelling', 'failed',
                    'waiting_for_revision');

-- Components whose time runs (running, waiting, claimed): those that may
-- run past their expected duration.
CREATE INDEX tasks_active ON tasks (order_id, plan_revision, started_at, expected_ms, state, kind)
    WHERE state IN ('running', 'waiting', 'claimed') AND kind <> 'fallout';
