/*
 * tests/unit/cutest.h: a few lines of glue shared by the CUnit tests.
 *
 * CU_basic_run_tests() only reports framework errors, so CUTEST_MAIN
 * makes main() fail when any assertion failed (STYLE.md section 10).
 */
#pragma once

#include <CUnit/Basic.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>

typedef struct {
    const char *name;
    void (*func)(void);
} CutestCase;

#define CUTEST_MAIN(SUITE, CASES)                                              \
    int main(void)                                                             \
    {                                                                          \
        CU_pSuite s;                                                           \
        unsigned fails;                                                        \
        if (CU_initialize_registry() != CUE_SUCCESS) {                         \
            return 2;                                                          \
        }                                                                      \
        s = CU_add_suite(SUITE, NULL, NULL);                                   \
        for (size_t i = 0; i < G_N_ELEMENTS(CASES); i++) {                     \
            CU_add_test(s, CASES[i].name, CASES[i].func);                      \
        }                                                                      \
        CU_basic_set_mode(CU_BRM_VERBOSE);                                     \
        CU_basic_run_tests();                                                  \
        fails = CU_get_number_of_failures();                                   \
        CU_cleanup_registry();                                                 \
        return fails > 0 ? 1 : 0;                                              \
    }

/* Returns: (transfer full) a fresh temporary directory. */
static inline char *
cutest_tmpdir(void)
{
    return g_dir_make_tmp("umbra-test-XXXXXX", NULL);
}

/* Removes @dir and what it holds (one level deep is all tests create). */
static inline void
cutest_rmdir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;

    while (d && (n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, n, NULL);

        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            cutest_rmdir(p);
        } else {
            g_unlink(p);
        }
    }
    if (d) {
        g_dir_close(d);
    }
    g_rmdir(dir);
}
