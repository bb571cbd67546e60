/*
 * main.c -- CGPCloudmark: command dispatch (SPEC §2, §6, §9).
 *
 *   CGPCloudmark [-c FILE]            helper mode (what CGP starts)
 *   CGPCloudmark RATE ...             score files from the shell
 *   CGPCloudmark CHECK-CONFIG [-c F]  validate the configuration
 *   CGPCloudmark REPORT ...           make the daily report now
 *   CGPCloudmark VERSION              engine and cartridge versions
 *
 * Command words are case-insensitive like CGP's.  Each command lives in its
 * own module; this file only picks one.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cartridge.h"
#include "checkconfig.h"
#include "engine.h"
#include "helper.h"
#include "rate.h"
#include "reportcmd.h"

static void
usage(FILE *to)
{
    fprintf(to,
            "usage: CGPCloudmark [-c CGPCloudmark.cfg]   (helper mode, "
            "started by CommuniGate Pro)\n"
            "       CGPCloudmark RATE [--threads N] [--json] [-c FILE] "
            "<file|dir>...\n"
            "       CGPCloudmark CHECK-CONFIG [-c FILE]\n"
            "       CGPCloudmark REPORT [--date YYYY-MM-DD] [--stdout] "
            "[-c FILE]\n"
            "       CGPCloudmark VERSION\n"
            "       CGPCloudmark <command> --help\n");
}

/* Prints the versions the way the original's console did (CmaeVersion,
 * CmaeCartridgeVersion), so existing monitoring scripts keep working. */
static int
version_main(void)
{
    struct cartridge *c = NULL;
    const char *why = "unknown";

    printf("CmaeVersion = \"%s\"\n", engine_version());
    if (cartridge_load_default(&c, &why) != 0) {
        printf("CmaeCartridgeVersion = \"none\"\n");
        fprintf(stderr, "CGPCloudmark: default cartridge unusable: %s\n",
                why);
        return 1;
    }
    printf("CmaeCartridgeVersion = \"%llu%s\"\n",
           (unsigned long long)cartridge_version(c),
           cartridge_is_default(c) ? " (default)" : "");
    cartridge_unref(c);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                          strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        return helper_main(argc, argv);
    }
    cmd = argv[1];
    if (strcasecmp(cmd, "RATE") == 0) {
        return rate_main(argc - 1, argv + 1);
    }
    if (strcasecmp(cmd, "CHECK-CONFIG") == 0) {
        return checkconfig_main(argc - 1, argv + 1);
    }
    if (strcasecmp(cmd, "REPORT") == 0) {
        return reportcmd_main(argc - 1, argv + 1);
    }
    if (strcasecmp(cmd, "VERSION") == 0) {
        return version_main();
    }
    if (strcasecmp(cmd, "HELP") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "CGPCloudmark: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
