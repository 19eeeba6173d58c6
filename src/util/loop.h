/*
 * util/loop.h: handing work from a thread to the GLib main context that
 * owns the data.
 */
#pragma once

#include <glib.h>

/*
 * util_context_post:
 * @ctx: the context that is to run @func (its owner's thread)
 * @func: called once, from @ctx's dispatch; its return value is ignored
 * @data: for @func, which owns it
 *
 * Queues @func on @ctx at the default priority, always as a source.
 * Unlike g_main_context_invoke(), it never runs @func in the calling
 * thread: while nobody iterates @ctx (a daemon before its main loop runs,
 * or between two iterations of a test), g_main_context_invoke() from a
 * thread whose default context is @ctx acquires it and runs @func right
 * there, beside the owner's thread using the same data.
 */
void util_context_post(GMainContext *ctx, GSourceFunc func, gpointer data);
