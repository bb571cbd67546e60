/*
 * helper.h -- helper mode: the CGP External Filter protocol on stdin/stdout (SPEC §2). argv: [-c FILE]. Returns the process exit status (0 after QUIT, EOF or SIGTERM; 1 when reading stdin failed; 2 when it cannot start).
 */
#ifndef CM_HELPER_H
#define CM_HELPER_H

/* argv[0] is the command word; argc counts it. */
int helper_main(int argc, char **argv);

#endif
