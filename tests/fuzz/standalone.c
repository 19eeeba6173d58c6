/*
 * tests/fuzz/standalone.c: replays a fuzz target's corpus without
 * libFuzzer, so CI runs every seed (and every crash ever found) on each
 * build.  Usage: fuzz-NAME FILE|DIR...
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    g_autofree char *buf = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &buf, &len, NULL)) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
    return 0;
}

int
main(int argc, char **argv)
{
    int n = 0;

    for (int i = 1; i < argc; i++) {
        GDir *d = g_dir_open(argv[i], 0, NULL);
        const char *name;

        if (!d) {
            if (run_file(argv[i]) != 0) {
                return 1;
            }
            n++;
            continue;
        }
        while ((name = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(argv[i], name, NULL);

            if (run_file(p) != 0) {
                g_dir_close(d);
                return 1;
            }
            n++;
        }
        g_dir_close(d);
    }
    printf("replayed %d input(s)\n", n);
    return n > 0 ? 0 : 1;
}
