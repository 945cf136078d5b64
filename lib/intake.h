/*
 * Order intake (DESIGN §6): recognise an incoming order (which cartridge
 * and order type), validate it (every problem), transform it into the
 * internal order and extract its items — the steps osm-submit and
 * osm-validate share.  No store access here: the result is an order_rec
 * ready to be stored.
 */
#ifndef OSM_INTAKE_H
#define OSM_INTAKE_H

#include <jv.h>

#include "catalog.h"
#include "diag.h"
#include "order.h"

typedef struct intake {
    cartridge *c;           /* recognising cartridge (borrowed from the catalog) */
    char *order_type;
    int fallout;            /* onInvalid is "fallout" */
    char *fallout_workgroup;/* where its fallout goes (may be NULL) */
    jv problems;            /* array of {path, message}; empty: valid */
    order_rec rec;          /* the order to store (id 0) */
} intake;

void intake_init(intake *in);
void intake_free(intake *in);

/*
 * Recognise order (not consumed) among the catalog's candidates: order
 * types are tried from the highest relevancy down and the first whose
 * rule is true wins.  Two order types of the same relevancy that both
 * match make the order ambiguous.  Returns 0 with in->c and
 * in->order_type set, or OSM_EDATA with a message naming what was tried
 * (none matched) or the candidates (ambiguous).
 */
int intake_recognise(catalog *cat, jv order, intake *in, osm_err *err);

/*
 * Validate, transform and extract the items of order (consumed), once
 * recognised, at the instant now.  Returns 0 when the order is valid,
 * OSM_NEGATIVE when it is not (in->problems lists every problem), or
 * another status on an internal failure.  in->rec is filled as far as
 * the order allows, in every case but an internal failure.
 */
int intake_run(intake *in, jv order, int64_t now, osm_err *err);

/*
 * The cartridge_derive_fn of intake: adds to c, per order type, one
 * program that runs all of the order type's programs intake_run() needs,
 * so that an order costs one jq run instead of a dozen.  A catalog whose
 * cartridges lack it (catalog_set_derive()) gives the same results,
 * slower.
 */
void intake_derive(cartridge *c);

/* The order key of in->rec for messages: "order KEY" or "order". */
const char *intake_label(const intake *in, char *buf, size_t len);

#endif
