/*
 * Pictures of an orchestration plan for people: a Graphviz digraph
 * (osm-plan --format dot), the same drawn as SVG by Graphviz's dot
 * (osm-plan --format svg, the plans of the HTML report) and a
 * Gantt-style table for a terminal (osm-plan --format table).
 *
 * Both work from the plan *document* (specs/plan.schema.json), not from
 * lib/plan's structs, so that a stored plan and a freshly computed one
 * render the same way, and so would a plan document read back from a
 * file.  Both are forgiving: a missing or null field, a field of the
 * wrong type, an unknown kind or state, a date that does not parse, or
 * no tasks at all just leave that part of the picture out; they never
 * fail on the document's content.
 *
 * jv ownership follows jv.h; the plan passed in is borrowed (not
 * consumed) by both functions.
 */
#ifndef OSM_PLANVIEW_H
#define OSM_PLANVIEW_H

#include <stddef.h>
#include <stdio.h>

#include <jv.h>

#include "diag.h"

/* Default and largest bar width of planview_table(), in columns. */
#define PLANVIEW_WIDTH 40
#define PLANVIEW_WIDTH_MAX 1000

/*
 * The plan as a complete Graphviz "digraph" (ending with a newline),
 * malloc'ed: the caller frees it.  Never NULL (allocation failure ends
 * the process, as everywhere in osm).
 *
 * One node per task, named by its key; its shape tells the kind
 * (automated box, manual house, timer octagon, rule hexagon, anything
 * else a dashed box), its fill the task state, and a thick red border
 * that it is on the critical path.  One edge per "after" entry, from
 * the dependency to the task, labelled with its wait ("+PT1H",
 * "until JQ", "when JQ"); edges between consecutive tasks of the
 * critical path are bold red.  The graph's label gives the order, its
 * start date, expected completion, requested date and, when the plan is
 * late, "LATE by X".  Every string is escaped for a dot quoted string.
 */
char *planview_dot(jv plan);

/*
 * Flags of planview_dot_flags().  PLANVIEW_STATES: each node's label
 * ends with its task's state in words ("(completed)"), so that the
 * picture does not speak in colours only, and a task with an id gives
 * its node the SVG id "task-ID" and the classes "task state-STATE".
 */
#define PLANVIEW_STATES 1

/* planview_dot() with flags; planview_dot(plan) is planview_dot_flags(plan, 0). */
char *planview_dot_flags(jv plan, int flags);

/*
 * The plan as an SVG document, drawn by Graphviz: the digraph of
 * planview_dot_flags(plan, PLANVIEW_STATES) given to "dot -Tsvg" (found
 * along PATH, run through lib/hook.h, without a shell), into *svg
 * (malloc'ed, NUL-terminated; the caller frees it) and *len.  Every
 * string of the document reaches the SVG as XML text escaped by dot.
 * Returns 0; OSM_EUNAVAILABLE "dot (Graphviz) is not installed" when
 * dot cannot be found or run; OSM_ESOFTWARE "dot: ..." (the first line
 * of what it said) when it fails, is killed or takes more than a
 * minute; the statuses of hook_start() when it cannot be started.  On
 * error *svg is NULL.
 */
int planview_svg(jv plan, char **svg, size_t *len, osm_err *err);

/*
 * Write the plan to f as a Gantt-style table in plain ASCII: a header
 * line about the order, a column header, then one row per task in the
 * order of "tasks": key, function, system (or kind), items, start,
 * duration and a bar of width columns (PLANVIEW_WIDTH when width <= 0,
 * at most PLANVIEW_WIDTH_MAX) scaled from the plan's earliest start to
 * its latest end.  In the bar '=' is the task's span ('#' when the task
 * is critical), '.' the slack between its earliest start and its
 * scheduled start, and '|' marks the requested date when it falls
 * within the chart.  Rows carry no trailing blanks.
 *
 * Returns 0, or OSM_EIO when writing to (or flushing) f fails.
 */
int planview_table(FILE *f, jv plan, int width);

#endif
