/*
 * cmdtab.c -- sub-command lookup and help for both programs (cmdtab.h).
 */
#include "cmdtab.h"

#include <string.h>
#include <strings.h>

const struct cmdtab_command *
cmdtab_find(const struct cmdtab *t, const char *name)
{
    for (size_t i = 0; i < t->n_commands; i++) {
        const char *word = t->commands[i].name;

        if (t->is_case_blind ? strcasecmp(name, word) == 0
                             : strcmp(name, word) == 0) {
            return &t->commands[i];
        }
    }
    return NULL;
}

static int
unknown(const struct cmdtab *t, const char *name)
{
    fprintf(stderr, "%s: unknown command '%s'\n", t->program, name);
    t->usage(stderr);
    return 2;
}

int
cmdtab_run(const struct cmdtab *t, int argc, char **argv)
{
    const struct cmdtab_command *c = cmdtab_find(t, argv[0]);

    if (c == NULL) {
        return unknown(t, argv[0]);
    }
    return c->run(argc, argv);
}

int
cmdtab_help(const struct cmdtab *t, int argc, char **argv)
{
    const struct cmdtab_command *c;
    char help_word[] = "--help";
    char *help_argv[] = {NULL, help_word, NULL};

    if (argc < 2) {
        t->usage(stdout);
        return 0;
    }
    c = cmdtab_find(t, argv[1]);
    if (c == NULL) {
        return unknown(t, argv[1]);
    }
    help_argv[0] = argv[1];
    return c->run(2, help_argv);
}
