/*
 * The combined intake program of an order type (see intake-int.h): one
 * jq program that runs every program of the order type that intake
 * needs, each over its own input with its own environment, with as
 * little jq of its own as it can — in jq 1.6 a comparison, a builtin or
 * a collected array costs a few thousand instructions.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake-int.h"
#include "intake.h"
#include "xalloc.h"

int
intake_single_valued(const char *src)
{
    const char *p = src;

    if (!p)
        return 0;
#define SKIP_BLANKS() while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++
    SKIP_BLANKS();
    if (*p != '.')
        return 0;
    if (isalpha((unsigned char)p[1]) || p[1] == '_') {
        while (*p == '.' && (isalpha((unsigned char)p[1]) || p[1] == '_')) {
            p++;
            while (isalnum((unsigned char)*p) || *p == '_')
                p++;
        }
    } else {
        p++;
    }
    SKIP_BLANKS();
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        SKIP_BLANKS();
        if (strncmp(p, "null", 4) == 0 || strncmp(p, "true", 4) == 0)
            p += 4;
        else if (strncmp(p, "false", 5) == 0)
            p += 5;
        else if (strncmp(p, "[]", 2) == 0 || strncmp(p, "{}", 2) == 0)
            p += 2;
        else if (*p == '"') {
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\')
                    return 0;
            if (*p++ != '"')
                return 0;
        } else if (isdigit((unsigned char)*p)) {
            while (isdigit((unsigned char)*p))
                p++;
        } else {
            return 0;
        }
        SKIP_BLANKS();
    }
#undef SKIP_BLANKS
    return *p == '\0';
}

int
intake_item_prog(const cartridge *c, const char *order_type, const char *field)
{
    char key[512];
    int idx;

    snprintf(key, sizeof key, "orderTypes.%s.items.%s", order_type, field);
    if ((idx = cartridge_prog(c, key)) >= 0)
        return idx;
    snprintf(key, sizeof key, "items.%s", field);
    return cartridge_prog(c, key);
}

/* The environments of the programs the combined program runs. */
static const char *const env_order[] = { "now", "$now", "order", "$__o", NULL };
static const char *const env_internal[] = { "now", "$now", "order", "$__i", NULL };
static const char *const env_item[] = { "now", "$now", "order", "$__i", "item", "$__m",
                                        NULL };

/*
 * Append the answer for program idx of c run over "." with the
 * environment env (see intake-int.h): every output (all),
 * else the output of an intake_single_valued() program, else at most its
 * first.
 */
static void
add_answer(strbuf *sb, cartridge *c, int idx, const char *const *env, int all, int *rc)
{
    int bare = !all && intake_single_valued(jqprog_source(c->jq, idx));

    sb_adds(sb, all ? "[" : bare ? "" : "[first(");
    if (idx < 0 || jqprog_call(c->jq, sb, idx, env) != 0)
        *rc = -1;
    sb_adds(sb, all ? "]" : bare ? "" : ")]");
}

/*
 * "E as $NAME | BODY", or BODY alone when BODY does not use $NAME (jq
 * 1.6 spends some 1,000 instructions on a binding).
 */
static void
bind_if_used(strbuf *sb, const char *e, const char *name, const strbuf *body)
{
    if (strstr(body->buf, name))
        sb_addf(sb, "%s as %s | ", e, name);
    sb_add(sb, body->buf, body->len);
}

/*
 * The combined program of order type name of c (its answer: see
 * intake-int.h), into sb.  Returns -1 when a program it needs is missing.
 *
 * jq 1.6 spends a few thousand instructions on a comparison, a builtin,
 * an array collected, so the glue is spare: the transformation's first
 * output is taken as "f as $t | ANSWER, ANSWER_WITHOUT" (jqprog_first()
 * keeps the first answer and stops there) rather than with first().
 */
static int
combined_source(cartridge *c, const char *name, strbuf *sb)
{
    static const char *const item_fields[] = {
        "id", "action", "spec", "reliesOn", "requestedDate", "requestedStartDate"
    };
    strbuf body = STRBUF_INIT, later = STRBUF_INIT, item = STRBUF_INIT;
    char key[512];
    int rc = 0;

#define PROG(...) (snprintf(key, sizeof key, __VA_ARGS__), cartridge_prog(c, key))
    int k = PROG("orderTypes.%s.key", name), r = PROG("orderTypes.%s.revision", name),
        v = PROG("orderTypes.%s.validate", name), t = PROG("orderTypes.%s.transform", name),
        p = PROG("orderTypes.%s.priority", name), d = PROG("orderTypes.%s.requestedDate", name),
        s = PROG("orderTypes.%s.requestedStartDate", name), ip = intake_item_prog(c, name, "path");
#undef PROG

    /* an item's answers, over the item */
    sb_adds(&body, "[");
    for (size_t f = 0; f < sizeof item_fields / sizeof *item_fields; f++) {
        if (f)
            sb_adds(&body, ", ");
        add_answer(&body, c, intake_item_prog(c, name, item_fields[f]), env_item, 0, &rc);
    }
    sb_adds(&body, "]");
    bind_if_used(&item, ".", "$__m", &body);

    /* the later answers, over the transformed order */
    sb_reset(&body);
    sb_adds(&body, "[");
    if (p >= 0)
        add_answer(&body, c, p, env_internal, 0, &rc);
    else
        sb_adds(&body, "null");
    sb_adds(&body, ", ");
    add_answer(&body, c, d, env_internal, 0, &rc);
    sb_adds(&body, ", ");
    add_answer(&body, c, s, env_internal, 0, &rc);
    sb_adds(&body, ", (");
    add_answer(&body, c, ip, env_internal, 1, &rc);
    /* the items as extract_items() lists them from the path's outputs:
     * a single array is the list, a single null none, else the outputs */
    sb_adds(&body, " | ., (");
    if (!intake_single_valued(jqprog_source(c->jq, ip)))
        sb_adds(&body, "if length != 1 then . else ");
    sb_adds(&body, ".[0] | if type == \"array\" then . elif . == null then [] else [.] end");
    if (!intake_single_valued(jqprog_source(c->jq, ip)))
        sb_adds(&body, " end");
    sb_addf(&body, " | [.[] | %s]))]", item.buf);
    bind_if_used(&later, ".", "$__i", &body);

    /* the whole */
    sb_reset(&body);
    add_answer(&body, c, v, env_order, 1, &rc);
    sb_adds(&body, " as $__v | ");
    add_answer(&body, c, k, env_order, 0, &rc);
    sb_adds(&body, " as $__k | ");
    add_answer(&body, c, r, env_order, 0, &rc);
    sb_adds(&body, " as $__r | (");
    if (t < 0 || jqprog_call(c->jq, &body, t, env_order) != 0)
        rc = -1;
    sb_addf(&body, " as $__t | [$__k, $__r, $__v, [$__t], (if $__v == [] then ($__t | objects"
                   " | %s) else empty end)]), [$__k, $__r, $__v, []]", later.buf);
    bind_if_used(sb, ".", "$__o", &body);
    sb_free(&body);
    sb_free(&later);
    sb_free(&item);
    return rc;
}

void
intake_derive(cartridge *c)
{
    jv types = jv_object_get(jv_copy(c->manifest), jv_string("orderTypes"));
    strbuf sb = STRBUF_INIT;

    if (jv_get_kind(types) == JV_KIND_OBJECT) {
        jv_object_foreach(types, name, ot) {
            char *key = xasprintf(COMBINED_KEY, jv_string_value(name));
            sb_reset(&sb);
            if (combined_source(c, jv_string_value(name), &sb) == 0)
                cartridge_add_prog(c, key, sb.buf);
            free(key);
            jv_free(name);
            jv_free(ot);
        }
    }
    jv_free(types);
    sb_free(&sb);
}

