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
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cartridge.h"
#include "checkconfig.h"
#include "config.h"
#include "engine.h"
#include "helper.h"
#include "rate.h"
#include "reportcmd.h"
#include "update.h"
#include "updater.h"

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
            "       CGPCloudmark UPDATE [-c FILE]\n"
            "       CGPCloudmark VERSION [-c FILE]\n"
            "       CGPCloudmark <command> --help\n");
}

/* Prints the versions the way the original's console did (CmaeVersion,
 * CmaeCartridgeVersion), so existing monitoring scripts keep working.  The
 * cartridge is the one the helper would start on: the newest valid cached
 * micro-update, else the embedded default. */
static int
version_main(int argc, char **argv)
{
    static struct config cfg;
    const char *cfg_path = NULL;
    struct cartridge *c = NULL;
    bool is_default = false;

    if (argc == 3 && strcmp(argv[1], "-c") == 0) {
        cfg_path = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: CGPCloudmark VERSION [-c FILE]\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    printf("CmaeVersion = \"%s\"\n", engine_version());
    if (config_load(cfg_path, &cfg, NULL, NULL, NULL) != CM_OK ||
        updater_load_startup(&cfg, &c, &is_default) != CM_OK) {
        printf("CmaeCartridgeVersion = \"none\"\n");
        fprintf(stderr, "CGPCloudmark: no usable cartridge\n");
        return 1;
    }
    printf("CmaeCartridgeVersion = \"%llu%s\"\n",
           (unsigned long long)cartridge_version(c),
           is_default ? " (default)" : "");
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
    if (strcasecmp(cmd, "UPDATE") == 0) {
        return update_main(argc - 1, argv + 1);
    }
    if (strcasecmp(cmd, "VERSION") == 0) {
        return version_main(argc - 1, argv + 1);
    }
    if (strcasecmp(cmd, "HELP") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "CGPCloudmark: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
