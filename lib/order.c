/*
 * The order record and its document (see order.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "order.h"
#include "xalloc.h"

void
order_rec_init(order_rec *o)
{
    memset(o, 0, sizeof *o);
    o->priority = 5;
    o->requested_at = o->start_at = o->expected_at = o->start_requested_at = -1;
    o->created_at = o->updated_at = -1;
    o->original = jv_null();
    o->body = jv_null();
}

void
order_rec_add_item(order_rec *o, const char *id, const char *action, const char *spec,
                   int64_t requested_at, jv relies_on, jv data)
{
    o->items = xrealloc(o->items, (o->nitems + 1) * sizeof *o->items);
    order_item *it = &o->items[o->nitems++];
    memset(it, 0, sizeof *it);
    it->item_id = xstrdup(id);
    it->action = xstrdup(action);
    it->spec = spec ? xstrdup(spec) : NULL;
    it->requested_at = requested_at;
    it->start_requested_at = -1;
    it->relies_on = relies_on;
    it->data = data;
}

void
order_rec_free(order_rec *o)
{
    for (size_t i = 0; i < o->nitems; i++) {
        order_item *it = &o->items[i];
        free(it->item_id);
        free(it->action);
        free(it->spec);
        free(it->fulfillment_state);
        jv_free(it->relies_on);
        jv_free(it->data);
    }
    free(o->items);
    free(o->external_id);
    free(o->cartridge);
    free(o->cartridge_version);
    free(o->order_type);
    free(o->state);
    free(o->state_reason);
    jv_free(o->original);
    jv_free(o->body);
    order_rec_init(o);
}

static jv
time_or_null(int64_t ms)
{
    char buf[CLOCK_RFC3339_MAX];
    if (ms < 0)
        return jv_null();
    rfc3339_format(ms, buf);
    return jv_string(buf);
}

static jv
str_or_null(const char *s)
{
    return s ? jv_string(s) : jv_null();
}

jv
order_document(const order_rec *o)
{
    jv items = jv_array();
    for (size_t i = 0; i < o->nitems; i++) {
        const order_item *it = &o->items[i];
        items = jv_array_append(
            items, JV_OBJECT(jv_string("id"), jv_string(it->item_id), jv_string("action"),
                             jv_string(it->action), jv_string("spec"), str_or_null(it->spec),
                             jv_string("reliesOn"), jv_copy(it->relies_on),
                             jv_string("requestedDate"), time_or_null(it->requested_at),
                             jv_string("requestedStartDate"), time_or_null(it->start_requested_at),
                             jv_string("fulfillmentState"), str_or_null(it->fulfillment_state)));
    }
    jv doc = JV_OBJECT(jv_string("kind"), jv_string("order"), jv_string("id"),
                       o->id ? jv_number((double)o->id) : jv_null(), jv_string("externalId"),
                       str_or_null(o->external_id), jv_string("revision"),
                       jv_number((double)o->revision), jv_string("cartridge"),
                       str_or_null(o->cartridge), jv_string("cartridgeVersion"),
                       str_or_null(o->cartridge_version), jv_string("orderType"),
                       str_or_null(o->order_type), jv_string("state"), str_or_null(o->state));
    if (o->state_reason)
        doc = jv_object_set(doc, jv_string("reason"), jv_string(o->state_reason));
    doc = jv_object_set(doc, jv_string("priority"), jv_number(o->priority));
    doc = jv_object_set(doc, jv_string("requestedDate"), time_or_null(o->requested_at));
    doc = jv_object_set(doc, jv_string("requestedStartDate"), time_or_null(o->start_requested_at));
    doc = jv_object_set(doc, jv_string("createdAt"), time_or_null(o->created_at));
    doc = jv_object_set(doc, jv_string("items"), items);
    doc = jv_object_set(doc, jv_string("order"), jv_copy(o->body));
    return doc;
}
