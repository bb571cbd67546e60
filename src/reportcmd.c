/*
 * reportcmd.c -- CGPCloudmark REPORT (see reportcmd.h; SPEC §7).
 *
 * A CLI command: single thread, reads the configuration and the state
 * file, writes one report and prints where it went (or the mail itself
 * with --stdout).  It only reads the state file, so it may run while the
 * helper is running; the helper's daily report is unaffected.
 */
#include "reportcmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "counters.h"
#include "engine.h"
#include "fsutil.h"
#include "housekeep.h"
#include "report.h"

#define CMD "CGPCloudmark REPORT"

static void
usage(FILE *to)
{
    fprintf(to,
            "usage: CGPCloudmark REPORT [--date YYYY-MM-DD] [--stdout] "
            "[-c CGPCloudmark.cfg]\n"
            "Makes one report now from the saved counters and writes it to "
            "Submitted/ for\nCommuniGate Pro's PIPE module (--stdout: prints "
            "it instead).  Without --date the\ncurrent day so far is "
            "reported; --date picks a day the state file still keeps.\n");
}

static void
print_problem(void *ctx, const struct config_problem *p)
{
    char text[CONFIG_PATH_MAX + 512];

    (void)ctx;
    if (p->is_warning) {
        return;
    }
    config_problem_format(p, text, sizeof(text));
    fprintf(stderr, CMD ": %s\n", text);
}

static void
print_state_problem(void *ctx, size_t line, const char *problem)
{
    fprintf(stderr, CMD ": %s:%zu: %s; line ignored\n", (const char *)ctx,
            line, problem);
}

struct args {
    const char *config_path;
    const char *date;
    bool is_stdout;
};

/* 0 to go on, else the exit status. */
static int
parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return -1;
        }
        if (strcmp(argv[i], "--stdout") == 0) {
            a->is_stdout = true;
        } else if (strcmp(argv[i], "--date") == 0 && i + 1 < argc &&
                   a->date == NULL) {
            a->date = argv[++i];
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc &&
                   a->config_path == NULL) {
            a->config_path = argv[++i];
        } else {
            fprintf(stderr, CMD ": unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

static void
list_days(const struct counters_snapshot *s)
{
    char d[CLOCK_DATE_TEXT_SIZE];

    fprintf(stderr, CMD ": days kept:");
    if (s->today.day != COUNTERS_DAY_NONE) {
        clock_date_format(s->today.day, d, sizeof(d));
        fprintf(stderr, " %s", d);
    }
    for (size_t i = 0; i < s->n_history; i++) {
        clock_date_format(s->history[i].day, d, sizeof(d));
        fprintf(stderr, " %s", d);
    }
    fprintf(stderr, "\n");
}

/* Write or print the report; returns the exit status. */
static int
emit(const struct config *cfg, const struct report_input *in,
     const char *submitted, bool is_stdout)
{
    char date[CLOCK_DATE_TEXT_SIZE];
    char unique[REPORT_NAME_MAX];
    struct report_file f;
    struct buf mail;
    unsigned seq = 0;
    enum cm_err rc;

    clock_date_format(in->day->day, date, sizeof(date));
    if (is_stdout) {
        snprintf(unique, sizeof(unique), "cmreport-%s-%s-%lld-%ld-0",
                 REPORT_KIND_MANUAL, date, (long long)in->made_at_s,
                 (long)getpid());
        buf_init(&mail, CAPS_REPORT_MAX_BYTES);
        rc = report_format(cfg, in, unique, &mail);
        if (rc == CM_OK &&
            fwrite(mail.data, 1, mail.len, stdout) != mail.len) {
            rc = CM_EIO;
        }
        buf_clear(&mail);
        if (rc != CM_OK) {
            fprintf(stderr, CMD ": cannot make the report: %s\n",
                    cm_strerror(rc));
            return 1;
        }
        return fflush(stdout) == 0 ? 0 : 1;
    }
    /* Submitted/ is CGP's (its PIPE module makes it): missing, it means
     * REPORT runs outside CGP's base directory, and a Submitted/ made here
     * would be one nothing ever delivers from. */
    if (!fsutil_is_dir(submitted)) {
        fprintf(stderr,
                CMD ": no directory %s (CGP's Submitted folder): run from "
                "CGP's base directory or set SubmittedDir\n",
                submitted);
        return 1;
    }
    rc = report_prepare(cfg, in, submitted, REPORT_KIND_MANUAL, &seq, &f);
    if (rc == CM_OK) {
        rc = report_commit(&f);
        if (rc != CM_OK) {
            report_abort(&f);
        }
    }
    if (rc != CM_OK) {
        fprintf(stderr, CMD ": cannot write the report to %s: %s\n",
                submitted, cm_strerror(rc));
        return 1;
    }
    printf("report for %s written to %s\n", date, f.sub_path);
    return 0;
}

int
reportcmd_main(int argc, char **argv)
{
    struct args a;
    struct config *cfg = NULL;
    struct counters_snapshot *snap = NULL;
    const struct clock *clk = clock_real();
    char state[CONFIG_PATH_MAX];
    char submitted[CONFIG_PATH_MAX];
    char host[256];
    struct report_input in;
    const struct counters_day *day = NULL;
    int64_t now = clock_wall_s(clk);
    int64_t wanted = COUNTERS_DAY_NONE;
    int64_t current;
    enum cm_err rc;
    int status;

    status = parse_args(argc, argv, &a);
    if (status != 0) {
        return status < 0 ? 0 : status;
    }
    if (a.date != NULL &&
        clock_date_parse(a.date, strlen(a.date), &wanted) != CM_OK) {
        fprintf(stderr, CMD ": --date wants YYYY-MM-DD, not '%s'\n", a.date);
        return 2;
    }
    /* A mistyped -c would report a state file that is not the helper's
     * (all zero) under the default settings: a bad argument. */
    if (!config_given_file_exists(CMD, a.config_path)) {
        return 2;
    }
    status = 1;
    cfg = malloc(sizeof(*cfg));
    snap = malloc(sizeof(*snap));
    if (cfg == NULL || snap == NULL ||
        config_load(a.config_path, cfg, print_problem, NULL, NULL) != CM_OK) {
        fprintf(stderr, CMD ": out of memory\n");
        goto out;
    }
    if (housekeep_paths(cfg, state, sizeof(state), submitted,
                        sizeof(submitted)) != CM_OK) {
        fprintf(stderr, CMD ": StateFile or SubmittedDir path too long\n");
        goto out;
    }
    if (housekeep_day_of(housekeep_report_minute(cfg), now, &current) !=
        CM_OK) {
        fprintf(stderr, CMD ": the clock has no local date\n");
        goto out;
    }
    rc = counters_read_file(state, snap, print_state_problem, state, NULL);
    if (rc == CM_ENOENT && a.date == NULL) {
        /* A fresh installation: an all-zero report is still a useful
         * test that reports reach postmaster. */
        fprintf(stderr, CMD ": no state file %s yet; all counts are 0\n",
                state);
        memset(snap, 0, sizeof(*snap));
        snap->today.day = current;
        snap->last_reported = COUNTERS_DAY_NONE;
    } else if (rc != CM_OK) {
        fprintf(stderr, CMD ": cannot use %s: %s\n", state, cm_strerror(rc));
        goto out;
    }
    if (snap->today.day == COUNTERS_DAY_NONE) {
        snap->today.day = current;
    }
    if (wanted == COUNTERS_DAY_NONE) {
        wanted = snap->today.day;
    }
    day = counters_snapshot_find(snap, wanted);
    if (day == NULL) {
        fprintf(stderr, CMD ": no saved counters for %s\n", a.date);
        list_days(snap);
        goto out;
    }
    if (gethostname(host, sizeof(host) - 1) != 0) {
        host[0] = '\0';
    }
    host[sizeof(host) - 1] = '\0';
    memset(&in, 0, sizeof(in));
    in.day = day;
    in.cartridge_version = snap->cartridge_version;
    in.engine_version = engine_version();
    in.host = host[0] != '\0' ? host : NULL;
    in.made_at_s = now;
    /* The current day is over only once the clock has left it. */
    in.is_partial = day == &snap->today && current <= day->day;
    status = emit(cfg, &in, submitted, a.is_stdout);
out:
    free(snap);
    free(cfg);
    return status;
}
