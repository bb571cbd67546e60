/*
 * rate.h -- RATE [--threads N] [--json] [-c FILE] <file|dir>... (SPEC §6). Returns the exit status.
 */
#ifndef CM_RATE_H
#define CM_RATE_H

/* argv[0] is the command word; argc counts it. */
int rate_main(int argc, char **argv);

#endif
