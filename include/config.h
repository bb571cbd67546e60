/*
 * config.h -- the three configuration files → struct config (SPEC §8).
 *
 * CGPCloudmark.cfg (CGP dictionary syntax, parsed by cgpdict) names the
 * other two, relative to its own directory: cartridge.cfg (key = value,
 * libinih) and whitelist.cfg (parsed by whitelist).  Missing files mean
 * defaults.  A bad value is reported through the problem callback with
 * file, line and key, and the default is kept for that key.  Unknown keys
 * are reported as warnings.
 *
 * Ownership: main loads the config once before any thread starts; every
 * other module gets a const pointer and never changes it.
 */
#ifndef CM_CONFIG_H
#define CM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "caps.h"
#include "err.h"
#include "log.h"

/* The main file when no -c is given, in the current directory. */
#define CONFIG_DEFAULT_MAIN "CGPCloudmark.cfg"
#define CONFIG_BARS_MAX 16
#define CONFIG_HEADER_MAX 256
#define CONFIG_TEXT_MAX 256
#define CONFIG_PATH_MAX 1024

/* One score range and the bar text shown for it: min..max → text. */
struct config_bar {
    unsigned min_score;
    unsigned max_score;
    char text[16]; /* e.g. "XXXX" (shown inside [ ]) */
};

enum config_fail_answer {
    CONFIG_FAIL_OK = 0, /* "<seq> OK" */
    CONFIG_FAIL_FAILURE /* "<seq> FAILURE" */
};

/* cartridge.cfg */
struct config_cartridge {
    char mu_url[CONFIG_PATH_MAX];      /* micro-update url (wins) */
    char mu_hostname[CONFIG_TEXT_MAX]; /* micro-update hostname */
    unsigned mu_port;                  /* micro-update port, default 80 */
    unsigned mu_interval_s;            /* micro-update interval */
    unsigned mu_timeout_s;             /* micro-update timeout */
    char cache_path[CONFIG_PATH_MAX];  /* micro-update cache path */
    bool download_before_init;         /* download micro-updates before init */
    char http_proxy[CONFIG_TEXT_MAX];  /* host:port */
    char http_proxy_auth[CONFIG_TEXT_MAX]; /* user:password (never logged) */
    char local_address[64];            /* local address for m-u conns */
    char customer_id[CONFIG_TEXT_MAX];
    bool report_statistics;
    bool anonymize_statistics;
    bool favor_analysis;               /* favor analysis over speed */
    char public_key_path[CONFIG_PATH_MAX];  /* update public key */
    char content_key_path[CONFIG_PATH_MAX]; /* update content key */
};

struct config {
    /* Where the files came from (for messages and relative paths). */
    char main_path[CONFIG_PATH_MAX];
    char base_dir[CONFIG_PATH_MAX]; /* directory of CGPCloudmark.cfg */
    char cartridge_cfg_path[CONFIG_PATH_MAX]; /* resolved */
    char whitelist_cfg_path[CONFIG_PATH_MAX]; /* resolved */

    /* Answer headers (empty name disables that header). */
    char junk_header[CONFIG_HEADER_MAX];  /* HeaderJunkScore "X-Junk-Score" */
    char score_header[CONFIG_HEADER_MAX]; /* HeaderScore "X-Cloudmark-Score" */
    char alert_header[CONFIG_TEXT_MAX];   /* AlertHeader whole line */
    char color_header[CONFIG_TEXT_MAX];   /* ColorHeader whole line */
    unsigned alert_threshold;             /* AlertThreshold, default 91 */
    bool add_analysis_header;   /* AnalysisHeader (also favor analysis) */
    unsigned minimum_score;     /* MinimumScore: below it, plain OK */
    struct config_bar bars[CONFIG_BARS_MAX]; /* BarLevels */
    size_t n_bars;

    /* Processing. */
    size_t max_body_bytes;   /* Max_Body_Length, ≤ CAPS_BODY_CEILING_BYTES */
    unsigned threads;        /* Threads, 0 = number of CPUs */
    unsigned time_budget_ms; /* MessageTimeout per message, default 10000 */
    enum config_fail_answer fail_answer; /* FailOpenAnswer */
    unsigned intf_max;       /* InterfaceVersion, default 3 */
    enum log_level log_level; /* LogLevel 0..3 */

    /* Report (issue #6). */
    char report_time[8];                /* ReportTime "HH:MM", "00:00" */
    char report_to[CAPS_ADDR_MAX];      /* ReportTo; "" = derived */
    char main_domain[CONFIG_TEXT_MAX];  /* MainDomain */
    char submitted_dir[CONFIG_PATH_MAX]; /* SubmittedDir "Submitted" */
    char state_path[CONFIG_PATH_MAX];   /* StateFile */
    char sitelayer_path[CONFIG_PATH_MAX]; /* SiteLayerFile (LEARN) */

    struct config_cartridge cart;
};

/* One problem found while loading. */
struct config_problem {
    const char *file; /* path as given */
    unsigned line;    /* 1-based, 0 when unknown */
    const char *key;  /* "" when the problem is not about one key */
    const char *problem;
    bool is_warning;  /* unknown key and the like: not counted as an error */
};

typedef void (*config_problem_fn)(void *ctx, const struct config_problem *p);

/* p as "file:line: key: problem" into dst (capacity cap, always
 * terminated): ":line" is left out when the problem is about the whole
 * file (line 0), "key: " when it is about no one key.  The one spelling
 * of a configuration problem in logs and on the terminal. */
void config_problem_format(const struct config_problem *p, char *dst,
                           size_t cap);

/* A config_problem_fn that logs each problem as a warning (log.h); ctx is
 * unused. */
void config_problem_log(void *ctx, const struct config_problem *p);

/* Fill every field with its default (see config.c's table). */
void config_defaults(struct config *cfg);

/*
 * Load main_path (NULL: "CGPCloudmark.cfg" in the current directory) and
 * the cartridge.cfg it names into *cfg (which is first set to defaults).
 * Every problem goes to report (may be NULL); *n_errors (may be NULL)
 * counts the non-warning ones.  Returns CM_OK even with problems: only
 * CM_ENOMEM is fatal.  The whitelist is loaded separately
 * (whitelist_load on cfg->whitelist_cfg_path).
 */
enum cm_err config_load(const char *main_path, struct config *cfg,
                        config_problem_fn report, void *ctx,
                        size_t *n_errors);

/*
 * For the shell commands that take the helper's -c: true when main_path
 * is NULL (the default file) or names a file.  Else false, with
 * "<command>: configuration file not found: ..." on stderr: run on the
 * defaults, a mistyped -c would show, learn or report what the helper
 * does not use.
 */
bool config_given_file_exists(const char *command, const char *main_path);

/* Text of the bar for score (without brackets), e.g. "XXXX". */
const char *config_bar_text(const struct config *cfg, unsigned score);

#endif
