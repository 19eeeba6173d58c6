/*
 * cli/main.c: umbractl's entry point.  Everything else lives in the
 * umbra-cli library (cli.c, format.c, cmd-*.c) so that tests can drive
 * it; see cli/cli.h.
 */
#include <locale.h>

#include "cli/cli.h"

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* Numbers are printed and parsed the same way in every locale. */
    setlocale(LC_NUMERIC, "C");
    return cli_main(argc, argv);
}
