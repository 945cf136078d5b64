/*
 * Cartridge tests (osm-cartridge test, DESIGN §5): each tests/NAME.order.json
 * of a cartridge is submitted, planned and run in a throwaway store with
 * the cartridge's hooks, and the outcome compared with
 * tests/NAME.expect.json.
 *
 *   NAME.order.json   the incoming order
 *   NAME.expect.json  what must hold at the end, any of:
 *                       "state":  the order's final state ("rejected" when
 *                                 intake refused it)
 *                       "plan":   the functions of the plan's tasks, in plan order
 *                       "tasks":  {function: state} (an array of states, by
 *                                 task id, when a function has several tasks)
 *                       "order":  an object the final internal order contains
 *                                 (jq's contains)
 *                       "events": the history's event types, in order
 *   NAME.hooks        optional: an osm.conf for the run ([system.NAME]
 *                     command = ...), to script the simulated systems;
 *                     commands run in the cartridge's directory
 *   NAME.now          optional: RFC 3339 instants, one a line: the order is
 *                     submitted at the first and osm-run runs at each in
 *                     turn (default: one run at OSM_NOW, else now)
 */
#ifndef OSM_CARTTEST_H
#define OSM_CARTTEST_H

#include <stdio.h>

#include "diag.h"
#include "progress.h"

/*
 * Run the tests of the cartridge directory or archive at path and print
 * a TAP stream on out, a readable difference under each failure.
 * *failed is the number of failed tests; pg (from progress_new()) is
 * told of each test run.  Returns 0 (whatever the
 * tests gave), or a status when the cartridge cannot be loaded (78, 66)
 * or has no tests (66).
 */
int carttest_run(const char *path, FILE *out, progress *pg, int *failed, osm_err *err);

#endif
