/*
 * reportcmd.h -- CGPCloudmark REPORT [--date YYYY-MM-DD] [--stdout]
 * [-c FILE]: make one report now from the saved counters (SPEC §7).
 *
 * Reads the state file of the configuration (CGPCloudmark.cfg in the
 * current directory, or -c FILE) without changing it: the daily report
 * is not affected.  Without --date the counters' current day is reported
 * (marked "until HH:MM" while it is not over); --date picks that day or
 * one of the ended days the state file keeps.  The mail goes to
 * Submitted/ (.tmp, fsync, rename .sub) or, with --stdout, to stdout.
 * Exit status: 0 done, 1 failure (no counters for that day, write
 * failed), 2 unusable arguments.  CLI command: stdout/stderr directly.
 */
#ifndef CM_REPORTCMD_H
#define CM_REPORTCMD_H

/* argv[0] is the command word; argc counts it. */
int reportcmd_main(int argc, char **argv);

#endif
