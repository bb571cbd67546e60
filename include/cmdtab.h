/*
 * cmdtab.h -- the sub-command table both programs dispatch through
 * ("CGPCloudmark RATE ...", "cmtool train ..."): look a command up by its
 * word, run it, and the "help [command]" command, which runs the
 * command's own --help so that each command has one usage text.
 *
 * State: none; a table is constant data of the program that owns it.
 */
#ifndef CM_CMDTAB_H
#define CM_CMDTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cmdtab_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command word */
};

struct cmdtab {
    const char *program; /* names the program in "unknown command" */
    const struct cmdtab_command *commands;
    size_t n_commands;
    bool is_case_blind;  /* CGPCloudmark's words are, like CGP's */
    void (*usage)(FILE *to);
};

/* The command named name, or NULL. */
const struct cmdtab_command *cmdtab_find(const struct cmdtab *t,
                                         const char *name);

/* Run the command argv[0] with its arguments: its exit status, or 2
 * with the program's usage on stderr when there is no such command. */
int cmdtab_run(const struct cmdtab *t, int argc, char **argv);

/* "help [command]" (argv[0] is the help word): the program's usage on
 * stdout with no command, else "command --help"; 2 for an unknown one. */
int cmdtab_help(const struct cmdtab *t, int argc, char **argv);

#endif
