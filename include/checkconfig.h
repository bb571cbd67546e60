/*
 * checkconfig.h -- CHECK-CONFIG [-c FILE]: prints file:line: key: problem for every bad value; exit 0 clean, 1 problems.
 */
#ifndef CM_CHECKCONFIG_H
#define CM_CHECKCONFIG_H

/* argv[0] is the command word; argc counts it. */
int checkconfig_main(int argc, char **argv);

#endif
