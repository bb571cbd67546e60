/*
 * cmtool.c -- the publisher's tool: command dispatch.
 *
 *   cmtool train DIR... -o FILE     train a cartridge from labelled mail
 *   cmtool inspect FILE             print what a cartridge holds
 */
#include <stdio.h>
#include <string.h>

#include "inspect.h"
#include "train.h"

static void
usage(FILE *to)
{
    fprintf(to, "usage: cmtool train [--version N] DIR... -o FILE\n"
                "       cmtool inspect FILE\n"
                "       cmtool <command> --help\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "train") == 0) {
        return train_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "inspect") == 0) {
        return inspect_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "cmtool: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
