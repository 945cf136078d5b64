-- osm order store, schema version 1: the whole of DESIGN §4.
--
-- Applied by lib/store.c inside one BEGIN IMMEDIATE transaction, with
-- foreign keys off and a foreign_key_check before COMMIT; the program sets
-- PRAGMA user_version and application_id itself.  Later migrations are
-- new files (002-NAME.sql ...), never edits of this one.
--
-- Conventions:
-- - Times are INTEGER milliseconds since the Unix epoch, UTC (the C API
--   speaks int64_t ms; documents print RFC 3339).  Durations are INTEGER
--   milliseconds too.  NULL means "not yet" or "none".
-- - JSON columns hold compact JSON text written by jv_dump_string; SQLite
--   never looks inside them.
-- - State columns carry CHECK constraints with the state lists of
--   DESIGN §12 (specs/ holds the transition tables; the code enforces
--   transitions, the schema only the vocabulary).
-- - Ids that people and external systems see (orders, tasks, events) are
--   AUTOINCREMENT so that a purge never lets an id come back.
-- - Every foreign key's child column is indexed, so that deleting an
--   order (purge) cascades without scanning whole tables.

-- Deployed cartridges, one row per name and version.  A version that is
-- undeployed while ended orders still refer to it keeps its row (and its
-- archive, so that history stays interpretable) with status 'undeployed';
-- it is hidden from listings and default selection, and deploying the
-- same bytes again re-activates it.  One that no order refers to is
-- deleted outright.
CREATE TABLE cartridges (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,             -- semver as written
    -- the version split for ordering: major, minor and patch compare
    -- numerically; a release (prerelease NULL) ranks above its
    -- prereleases; prerelease_key is a text encoding of the prerelease
    -- whose byte order is semver precedence (see lib/store-cartridge.c)
    major           INTEGER NOT NULL CHECK (major >= 0),
    minor           INTEGER NOT NULL CHECK (minor >= 0),
    patch           INTEGER NOT NULL CHECK (patch >= 0),
    prerelease      TEXT,
    prerelease_key  TEXT,
    sha256          TEXT NOT NULL CHECK (length(sha256) = 64),  -- of the archive, lowercase hex
    manifest        TEXT NOT NULL,             -- cartridge.json, JSON
    archive         BLOB NOT NULL,             -- the packed .osmc as deployed
    deployed_at     INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'deployed'
                    CHECK (status IN ('deployed', 'undeployed')),
    CHECK ((prerelease IS NULL) = (prerelease_key IS NULL)),
    UNIQUE (name, version)
);

-- An explicit default version per cartridge name (osm-cartridge default).
-- Without a row the default is the highest deployed semantic version.
CREATE TABLE cartridge_defaults (
    name            TEXT PRIMARY KEY,
    cartridge_id    INTEGER NOT NULL REFERENCES cartridges (id) ON DELETE CASCADE
);
CREATE INDEX cartridge_defaults_cartridge ON cartridge_defaults (cartridge_id);

-- Orders: one row per order, holding its current version.  A revision
-- replaces the row's content and raises revision; what it replaced goes to
-- order_versions.  An order keeps the cartridge version it was created
-- under until it ends, hence RESTRICT.
CREATE TABLE orders (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id         TEXT,                  -- the source's order key; NULL if it has none
    revision            INTEGER NOT NULL DEFAULT 0,  -- the source's revision number
    plan_revision       INTEGER NOT NULL DEFAULT 0,  -- plans made so far (0: not planned); tasks.plan_revision
    cartridge           TEXT NOT NULL,
    cartridge_version   TEXT NOT NULL,
    order_type          TEXT NOT NULL,
    state               TEXT NOT NULL DEFAULT 'not_started'
                        CHECK (state IN ('not_started', 'in_progress', 'suspended',
                                         'amending', 'cancelling', 'cancelled',
                                         'completed', 'failed',
                                         'waiting_for_revision', 'aborted')),
    -- the state osm-task resume returns to from 'suspended'
    resume_state        TEXT
                        CHECK (resume_state IS NULL OR
                               resume_state IN ('not_started', 'in_progress', 'amending',
                                                'cancelling', 'failed',
                                                'waiting_for_revision')),
    state_reason        TEXT,                  -- why it failed, was aborted, ...
    fulfillment_state   TEXT,                  -- the cartridge's own states, derived from items
    priority            INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
    requested_at        INTEGER,               -- requested delivery date
    start_at            INTEGER,               -- computed start date (earliest component start)
    expected_at         INTEGER,               -- expected completion (critical path)
    late_ms             INTEGER NOT NULL DEFAULT 0,  -- > 0: expected completion is this late
    jeopardy_at         INTEGER,               -- when a jeopardy was raised (once); NULL none
    original            TEXT NOT NULL,         -- the customer order as received, JSON
    body                TEXT NOT NULL,         -- the transformed order, JSON; responses merge into it
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    planned_at          INTEGER,
    started_at          INTEGER,               -- first went in_progress
    ended_at            INTEGER,               -- reached a terminal state
    FOREIGN KEY (cartridge, cartridge_version)
        REFERENCES cartridges (name, version) ON DELETE RESTRICT
);
-- idempotent submit and revision lookup; leading external_id also serves
-- osm-status --external-id across cartridges (NULL keys are not unique)
CREATE UNIQUE INDEX orders_external_id ON orders (external_id, cartridge);
-- osm-status --state, osm-run --all (not_started orders whose start came)
CREATE INDEX orders_state ON orders (state, start_at);
-- open orders per cartridge version (undeploy, list), osm-status --cartridge
CREATE INDEX orders_cartridge ON orders (cartridge, cartridge_version, state);
CREATE INDEX orders_created ON orders (created_at);
-- purge of ended orders
CREATE INDEX orders_ended ON orders (ended_at) WHERE ended_at IS NOT NULL;

-- Earlier versions of an order and its plan, and rejected revisions.
CREATE TABLE order_versions (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    revision        INTEGER NOT NULL,          -- the source's revision number of that version
    plan_revision   INTEGER NOT NULL,          -- the plan that went with it (0: none)
    status          TEXT NOT NULL CHECK (status IN ('superseded', 'rejected')),
    reason          TEXT,                      -- why a revision was rejected
    original        TEXT NOT NULL,             -- JSON
    body            TEXT NOT NULL,             -- JSON
    plan            TEXT,                      -- JSON snapshot of the plan, if any
    received_at     INTEGER NOT NULL,          -- when that version arrived
    recorded_at     INTEGER NOT NULL           -- when it was superseded or rejected
);
CREATE INDEX order_versions_order ON order_versions (order_id, revision);

-- The current order's items.
CREATE TABLE order_items (
    id                  INTEGER PRIMARY KEY,
    order_id            INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    item_id             TEXT NOT NULL,         -- the item's id within the order
    action              TEXT NOT NULL
                        CHECK (action IN ('add', 'modify', 'delete', 'noChange')),
    spec                TEXT,                  -- specification id: selects the fulfillment pattern
    fulfillment_state   TEXT,                  -- the cartridge's own states
    requested_at        INTEGER,               -- the item's requested delivery date
    relies_on           TEXT NOT NULL DEFAULT '[]',  -- JSON array of item ids
    data                TEXT NOT NULL,         -- the item, JSON
    updated_at          INTEGER NOT NULL,
    UNIQUE (order_id, item_id)
);

-- The orchestration plan: one task per component (function, system,
-- group key), plus compensation tasks of revisions and fallout tasks.
CREATE TABLE tasks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    plan_revision   INTEGER NOT NULL,          -- orders.plan_revision of the plan it belongs to
    function        TEXT NOT NULL,
    system          TEXT,                      -- target system; NULL for manual, timer, rule
    group_key       TEXT NOT NULL,             -- 'order', a system or an item id, per grouping
    items           TEXT NOT NULL DEFAULT '[]',  -- JSON array of the item ids covered
    kind            TEXT NOT NULL
                    CHECK (kind IN ('automated', 'manual', 'timer', 'rule', 'fallout')),
    mode            TEXT NOT NULL DEFAULT 'do' CHECK (mode IN ('do', 'undo', 'redo')),
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'ready', 'running', 'waiting', 'claimed',
                                     'completed', 'failed', 'skipped', 'cancelled',
                                     'undoing', 'undone')),
    compensates     INTEGER REFERENCES tasks (id) ON DELETE CASCADE,  -- undo/redo: the task compensated
    fallout_of      INTEGER REFERENCES tasks (id) ON DELETE CASCADE,  -- fallout: the failed task
    workgroup       TEXT,                      -- manual and fallout tasks
    assignee        TEXT,                      -- Unix user who claimed or was assigned it
    attempts        INTEGER NOT NULL DEFAULT 0,  -- hook runs of the current request
    temp_failures   INTEGER NOT NULL DEFAULT 0,  -- of which exit 75 (temporary)
    not_before      INTEGER,                   -- may not run before: start date, retry time, timer end
    deadline_at     INTEGER,                   -- a waiting (accepted) task times out at
    lease_owner     TEXT,                      -- worker holding it while running
    lease_expires   INTEGER,
    fencing         INTEGER NOT NULL DEFAULT 0,  -- bumped on every claim; stale owners lose
    correlation_id  TEXT,                      -- for asynchronous responses
    expected_ms     INTEGER,                   -- expected duration
    earliest_start  INTEGER,
    latest_start    INTEGER,
    critical        INTEGER NOT NULL DEFAULT 0 CHECK (critical IN (0, 1)),  -- on the critical path
    request         TEXT,                      -- JSON sent to the hook
    request_digest  TEXT,                      -- its significant data, for revision comparison
    response        TEXT,                      -- last JSON response
    external_status TEXT,                      -- the system's own status from the response
    error           TEXT,                      -- last error, for fallout and status
    jeopardy_at     INTEGER,                   -- when running past its expected duration was raised
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    started_at      INTEGER,
    ended_at        INTEGER
);
-- the ready queue: osm-run picks state 'ready' (and due 'pending'/'waiting')
-- by time
CREATE INDEX tasks_queue ON tasks (state, not_before);
CREATE INDEX tasks_order ON tasks (order_id, plan_revision);
CREATE UNIQUE INDEX tasks_correlation ON tasks (correlation_id)
    WHERE correlation_id IS NOT NULL;
-- expired leases to retake, async waits that time out
CREATE INDEX tasks_lease ON tasks (lease_expires) WHERE lease_expires IS NOT NULL;
CREATE INDEX tasks_deadline ON tasks (deadline_at) WHERE deadline_at IS NOT NULL;
-- osm-task list --workgroup / --mine
CREATE INDEX tasks_workgroup ON tasks (workgroup, state) WHERE workgroup IS NOT NULL;
CREATE INDEX tasks_assignee ON tasks (assignee, state) WHERE assignee IS NOT NULL;
CREATE INDEX tasks_compensates ON tasks (compensates) WHERE compensates IS NOT NULL;
CREATE INDEX tasks_fallout_of ON tasks (fallout_of) WHERE fallout_of IS NOT NULL;

-- Task dependencies: task_id waits for depends_on, then optionally for a
-- delay, a date computed by jq, or a condition on order data.
CREATE TABLE task_deps (
    task_id         INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    depends_on      INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    delay_ms        INTEGER,                   -- wait this long after depends_on completes
    until_jq        TEXT,                      -- jq over the order giving a date to wait for
    condition_jq    TEXT,                      -- jq predicate over the order that must hold
    met_at          INTEGER,                   -- when the dependency, wait included, was met
    PRIMARY KEY (task_id, depends_on),
    CHECK (task_id <> depends_on)
) WITHOUT ROWID;
CREATE INDEX task_deps_depends_on ON task_deps (depends_on);

-- Asynchronous responses (osm-task respond) as received, applied by the
-- engine when it can: kept while the order is amending, never lost.
CREATE TABLE responses (
    id              INTEGER PRIMARY KEY,
    task_id         INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    correlation_id  TEXT,
    actor           TEXT NOT NULL,             -- Unix user that delivered it
    body            TEXT NOT NULL,             -- JSON
    received_at     INTEGER NOT NULL,
    applied_at      INTEGER
);
CREATE INDEX responses_task ON responses (task_id, applied_at);

-- The append-only history.  order_id NULL: a store-wide event (cartridge
-- deploy, workgroup change).  Ids only grow: osm-status --follow --after.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        INTEGER REFERENCES orders (id) ON DELETE CASCADE,
    task_id         INTEGER REFERENCES tasks (id) ON DELETE SET NULL,
    at              INTEGER NOT NULL,
    type            TEXT NOT NULL CHECK (type <> ''),  -- 'order.state', 'task.state', 'hook', ...
    actor           TEXT NOT NULL,             -- effective Unix user
    data            TEXT NOT NULL DEFAULT '{}' -- JSON
);
CREATE INDEX events_order ON events (order_id, id);
CREATE INDEX events_task ON events (task_id) WHERE task_id IS NOT NULL;

-- Notification outbox: one row per event a cartridge subscribes to,
-- written in the same transaction as the event, delivered in event order,
-- at least once.
CREATE TABLE outbox (
    event_id        INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    payload         TEXT,                      -- rendered notification, JSON; NULL: the event's data
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    delivered_at    INTEGER,                   -- NULL until the hook took it
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, event_id) WHERE delivered_at IS NULL;

-- Workgroups for manual and fallout tasks; names are store-wide.
CREATE TABLE workgroups (
    name            TEXT PRIMARY KEY,
    cartridge       TEXT,                      -- declared by this cartridge; NULL: by the site
    fallout         INTEGER NOT NULL DEFAULT 0 CHECK (fallout IN (0, 1)),
    created_at      INTEGER NOT NULL
);

CREATE TABLE workgroup_members (
    workgroup       TEXT NOT NULL REFERENCES workgroups (name)
                    ON DELETE CASCADE ON UPDATE CASCADE,
    user            TEXT NOT NULL,             -- Unix user name
    added_at        INTEGER NOT NULL,
    added_by        TEXT NOT NULL,
    PRIMARY KEY (workgroup, user)
) WITHOUT ROWID;
CREATE INDEX workgroup_members_user ON workgroup_members (user);
