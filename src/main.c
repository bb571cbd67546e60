/*
 * main.c -- CGPCloudmark: command dispatch (SPEC §2, §6, §9).
 *
 *   CGPCloudmark [-c FILE]            helper mode (what CGP starts)
 *   CGPCloudmark RATE ...             score files from the shell
 *   CGPCloudmark CHECK-CONFIG [-c F]  validate the configuration
 *   CGPCloudmark REPORT ...           make the daily report now
 *   CGPCloudmark UPDATE [-c F]        one micro-update cycle now
 *   CGPCloudmark LEARN spam|ham ...   site feedback into the local layer
 *   CGPCloudmark VERSION              engine and cartridge versions
 *   CGPCloudmark HELP [command]       usage (same as <command> --help)
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
#include "cmdtab.h"
#include "config.h"
#include "engine.h"
#include "helper.h"
#include "learn.h"
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
            "       CGPCloudmark RATE [--threads N] [--json] [--explain] "
            "[--cartridge FILE]\n"
            "                         [-c FILE] <file|dir>...\n"
            "       CGPCloudmark CHECK-CONFIG [-c FILE]\n"
            "       CGPCloudmark REPORT [--date YYYY-MM-DD] [--stdout] "
            "[-c FILE]\n"
            "       CGPCloudmark UPDATE [-c FILE]\n"
            "       CGPCloudmark LEARN spam|ham [-c FILE] <file|dir>...\n"
            "       CGPCloudmark VERSION [-c FILE]\n"
            "       CGPCloudmark HELP [command]\n"
            "       CGPCloudmark <command> --help\n"
            "Commands are not case-sensitive.  See CGPCloudmark(8).\n");
}

static void
version_usage(FILE *to)
{
    fprintf(to, "usage: CGPCloudmark VERSION [-c CGPCloudmark.cfg]\n"
                "Prints the engine version and the version of the cartridge "
                "the helper would\nstart on (newest valid micro-update in "
                "the cache, else the embedded default).\nExit status: 0, or "
                "1 when no cartridge is usable.\n");
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
    } else if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
                             strcmp(argv[1], "-h") == 0)) {
        version_usage(stdout);
        return 0;
    } else if (argc != 1) {
        version_usage(stderr);
        return 2;
    }
    /* A mistyped -c would show the built-in cartridge, not the one the
     * helper runs on. */
    if (!config_given_file_exists("CGPCloudmark VERSION", cfg_path)) {
        return 2;
    }
    printf("CmaeVersion = \"%s\"\n", engine_version());
    if (config_load(cfg_path, &cfg, NULL, NULL, NULL) != CM_OK ||
        updater_load_startup(&cfg, &c, &is_default, NULL) != CM_OK) {
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

/* The shell commands; HELP and the helper mode are handled in main. */
static const struct cmdtab_command commands[] = {
    {"RATE", rate_main},
    {"CHECK-CONFIG", checkconfig_main},
    {"REPORT", reportcmd_main},
    {"UPDATE", update_main},
    {"LEARN", learn_main},
    {"VERSION", version_main},
};

static const struct cmdtab table = {
    "CGPCloudmark", commands, sizeof(commands) / sizeof(commands[0]), true,
    usage,
};

int
main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                          strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        return helper_main(argc, argv);
    }
    if (strcasecmp(argv[1], "HELP") == 0) {
        return cmdtab_help(&table, argc - 1, argv + 1);
    }
    return cmdtab_run(&table, argc - 1, argv + 1);
}
