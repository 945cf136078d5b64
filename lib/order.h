/*
 * Orders as osm keeps them: the record the store reads and writes, and
 * the "order" document every program prints (specs/order.schema.json).
 * Times are int64 ms since the epoch; -1 means "none".
 */
#ifndef OSM_ORDER_H
#define OSM_ORDER_H

#include <stdint.h>

#include <jv.h>

typedef struct order_item {
    char *item_id;
    char *action;               /* add, modify, delete, noChange */
    char *spec;                 /* NULL when the item has none */
    char *fulfillment_state;    /* NULL until known */
    int64_t requested_at;       /* -1: none */
    int64_t start_requested_at; /* not before (requestedStartDate); -1: none */
    jv relies_on;               /* array of item ids */
    jv data;                    /* the item as the transformed order has it */
} order_item;

typedef struct order_rec {
    int64_t id;                 /* 0 until stored */
    char *external_id;          /* the order key; NULL when the order has none */
    int64_t revision;
    char *cartridge, *cartridge_version, *order_type;
    char *state;                /* not_started, failed, ... */
    char *state_reason;         /* NULL, or why it failed */
    int priority;
    int64_t requested_at, start_at, expected_at, created_at, updated_at;
    int64_t start_requested_at; /* not before (requestedStartDate); -1: none */
    jv original;                /* the customer order as received */
    jv body;                    /* the transformed (internal) order */
    order_item *items;
    size_t nitems;
} order_rec;

/* A zeroed record with every time -1 and jv members null. */
void order_rec_init(order_rec *o);

/* Append an item (its strings copied, its jv members consumed). */
void order_rec_add_item(order_rec *o, const char *id, const char *action, const char *spec,
                        int64_t requested_at, jv relies_on, jv data);

void order_rec_free(order_rec *o);

/*
 * The order document: {kind: "order", id, externalId, revision,
 * cartridge, cartridgeVersion, orderType, state, priority, requestedDate,
 * requestedStartDate, createdAt, items: [{id, action, spec, reliesOn,
 * requestedDate, requestedStartDate, fulfillmentState}], order}.  id is null for an order not stored.
 */
jv order_document(const order_rec *o);

#endif
