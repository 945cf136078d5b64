/*
 * Internals shared by lib/intake.c, which runs intake, and
 * lib/intake-derive.c, which makes the combined program it runs: the key
 * of that program and the shape of its answer.
 */
#ifndef OSM_INTAKE_INT_H
#define OSM_INTAKE_INT_H

#include "cartridge.h"

/* The key of an order type's combined program (intake_derive()). */
#define COMBINED_KEY "intake.orderTypes.%s"

/*
 * The answer of the combined program, an array:
 *   [KEY, REVISION, VALIDATE, TRANSFORM]
 * then, when the order validates and transforms into an object, one more
 * element
 *   [PRIORITY, REQUESTED_DATE, REQUESTED_START, ITEMS_PATH, [[ID, ACTION,
 *    SPEC, RELIES_ON, REQUESTED_DATE, REQUESTED_START] per item]]
 * VALIDATE and ITEMS_PATH are arrays of every output of their program,
 * TRANSFORM an array of at most its first; the others the output itself
 * when their program surely has exactly one (intake_single_valued()),
 * else an array of at most the first.  PRIORITY is null when the
 * priority is not a program.
 */
enum { A_KEY, A_REVISION, A_VALIDATE, A_TRANSFORM, A_LATER };
enum { A_PRIORITY, A_REQUESTED, A_REQUESTED_START, A_ITEMS_PATH, A_ITEMS };
enum { A_ID, A_ACTION, A_SPEC, A_RELIES_ON, A_ITEM_REQUESTED, A_ITEM_REQUESTED_START };

/*
 * Does the program src (NULL: none) surely give exactly one output, or
 * an error — a path such as ".a.b", maybe followed by "// LITERAL"?
 * Then the combined program need not collect its outputs, nor wrap it in
 * first(), whose label and break cost more than the path itself.
 */
int intake_single_valued(const char *src);

/*
 * The index of order type order_type's items program field ("path",
 * "id", "reliesOn"...): the order type's own (orderTypes.T.items.F) when
 * it has one, else the cartridge's (items.F); -1 when neither exists.
 */
int intake_item_prog(const cartridge *c, const char *order_type, const char *field);

#endif
