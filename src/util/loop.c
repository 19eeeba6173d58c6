/*
 * util/loop.c: handing work from a thread to a GLib main context.
 */
#include "util/loop.h"

void
util_context_post(GMainContext *ctx, GSourceFunc func, gpointer data)
{
    GSource *src = g_idle_source_new();

    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, func, data, NULL);
    g_source_set_static_name(src, "util_context_post");
    g_source_attach(src, ctx);
    g_source_unref(src);
}
