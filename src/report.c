/*
 * report.c -- the daily report mail and its file in Submitted/ (see
 * report.h).
 *
 * DESIGN
 *  - report_format builds the whole message in one bounded buf
 *    (CAPS_REPORT_MAX_BYTES): headers, a text/plain part and a text/html
 *    part of multipart/alternative.  Everything is 7-bit ASCII that we
 *    generate; the only configured text shown (bar labels, host name) is
 *    sanitised for the text part and HTML-escaped for the HTML part.
 *  - Numbers: counts are printed as integers; percentages with one
 *    decimal; latencies as the upper bound of their histogram bucket
 *    ("<= 1.5 ms").
 *  - Files: the .tmp is written with O_EXCL and fsync'ed before anyone can
 *    rename it, and only a rename makes a .sub, so CGP's PIPE module can
 *    never pick up a partial report (cgp-protocol.md §3).  A name is
 *    "cmreport-<kind>-<date>-<made_at>-<pid>-<seq>"; its MIME boundary is
 *    derived from it, which lets report_recover check that a leftover
 *    .tmp is complete by its last line.
 *
 * State: none.  Any thread.  SPEC §7.
 */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"

/* Columns of the text histogram and pixels of the HTML one. */
#define TEXT_BAR_COLS 40u
#define HTML_BAR_PX 300u
/* RFC 2046: a boundary is at most 70 characters. */
#define BOUNDARY_MAX 70u
#define HOST_SHOWN_MAX 64u

/* SPEC §4's default bars, used when the configuration has none. */
static const struct config_bar default_bars[] = {
    {0, 0, ""},
    {1, 39, "X"},
    {40, 80, "XX"},
    {81, 90, "XXX"},
    {91, 95, "XXXX"},
    {96, 99, "XXXXX"},
    {100, 100, "XXXXXX"},
};

/* HTML colours of the categories, by counters category index. */
static const char *const category_colours[COUNTERS_CATEGORIES] = {
    "#43a047", "#e53935", "#8e24aa", "#b71c1c", "#1e88e5", "#9e9e9e"
};

/* ---- small helpers --------------------------------------------------- */

/* Characters allowed in an address we put in a header ourselves. */
static bool
is_addr_char(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9')) {
        return true;
    }
    return strchr(".-_+=!#$%&'*/?^`{|}~@", ch) != NULL && ch != '\0';
}

static bool
is_domain(const char *s)
{
    if (s[0] == '\0' || s[0] == '.' || s[0] == '-') {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '-')) {
            return false;
        }
    }
    return true;
}

static bool
is_address(const char *s)
{
    const char *at = strchr(s, '@');

    if (s[0] == '\0' || s[0] == '@') {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (!is_addr_char((unsigned char)*p)) {
            return false;
        }
    }
    return at == NULL || (strchr(at + 1, '@') == NULL && is_domain(at + 1));
}

/* [A-Za-z0-9._-]+ of at most max bytes. */
static bool
is_token(const char *s, size_t max)
{
    size_t n = 0;

    for (const char *p = s; *p != '\0'; p++, n++) {
        unsigned char ch = (unsigned char)*p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-')) {
            return false;
        }
    }
    return n > 0 && n <= max;
}

/* Copy s into out (cap), each byte outside [ -~] turned into '?', cut at
 * max bytes. */
static void
sanitise(const char *s, size_t max, char *out, size_t cap)
{
    size_t n = 0;

    for (; s != NULL && s[n] != '\0' && n < max && n + 1 < cap; n++) {
        unsigned char ch = (unsigned char)s[n];
        out[n] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (cap > 0) {
        out[n] = '\0';
    }
}

static void
boundary_of(const char *unique, char *out, size_t cap)
{
    snprintf(out, cap, "=_%.*s", (int)(BOUNDARY_MAX - 2), unique);
}

static double
percent(uint64_t n, uint64_t total)
{
    return total == 0 ? 0.0 : 100.0 * (double)n / (double)total;
}

/* Length of a histogram bar: 0 for 0, else at least 1, max for the max. */
static unsigned
bar_len(uint64_t n, uint64_t max, unsigned full)
{
    double w;

    if (n == 0 || max == 0) {
        return 0;
    }
    w = (double)full * (double)n / (double)max + 0.5;
    return w < 1.0 ? 1u : (unsigned)w > full ? full : (unsigned)w;
}

/* "250 us", "1.5 ms", "10 s" for a bucket bound; "> 10 s" for over. */
static void
format_latency(uint64_t us, char *out, size_t cap)
{
    const char *unit = "us";
    uint64_t div = 1;

    if (us == COUNTERS_LATENCY_OVER) {
        snprintf(out, cap, "> %llu s",
                 (unsigned long long)(counters_latency_bound_us(
                     COUNTERS_LATENCY_BUCKETS - 2) / 1000000u));
        return;
    }
    if (us >= 1000000u) {
        unit = "s";
        div = 1000000u;
    } else if (us >= 1000u) {
        unit = "ms";
        div = 1000u;
    }
    if (us % div == 0) {
        snprintf(out, cap, "<= %llu %s", (unsigned long long)(us / div),
                 unit);
    } else {
        snprintf(out, cap, "<= %llu.%llu %s", (unsigned long long)(us / div),
                 (unsigned long long)(us % div * 10u / div), unit);
    }
}

/* "missing_file" -> "missing file". */
static void
display_name(const char *name, char *out, size_t cap)
{
    size_t n = 0;

    for (; name[n] != '\0' && n + 1 < cap; n++) {
        out[n] = name[n] == '_' ? ' ' : name[n];
    }
    out[n] = '\0';
}

/* "0", "1-39" */
static void
score_range(const struct config_bar *b, char *out, size_t cap)
{
    if (b->min_score == b->max_score) {
        snprintf(out, cap, "%u", b->min_score);
    } else {
        snprintf(out, cap, "%u-%u", b->min_score, b->max_score);
    }
}

static enum cm_err
html_escape(struct buf *out, const char *s)
{
    enum cm_err rc = CM_OK;

    for (; *s != '\0' && rc == CM_OK; s++) {
        switch (*s) {
        case '<':
            rc = buf_puts(out, "&lt;");
            break;
        case '>':
            rc = buf_puts(out, "&gt;");
            break;
        case '&':
            rc = buf_puts(out, "&amp;");
            break;
        case '"':
            rc = buf_puts(out, "&quot;");
            break;
        default:
            rc = buf_putc(out, (uint8_t)*s);
            break;
        }
    }
    return rc;
}

/* ---- what the report shows (shared by both parts) -------------------- */

struct view {
    const struct report_input *in;
    char date[CLOCK_DATE_TEXT_SIZE];
    char made[40];       /* RFC 5322 date of made_at */
    char until[16];      /* "HH:MM" of made_at, for partial reports */
    char host[HOST_SHOWN_MAX + 1];
    uint64_t requests;
    uint64_t scored;
    uint64_t fail_opens;
    const struct config_bar *bars;
    size_t n_bars;
    uint64_t bar_counts[CONFIG_BARS_MAX];
    uint64_t bar_other; /* scores outside every bar */
    uint64_t bar_max;
    uint64_t category_max;
    bool has_latency;
    char p50[48];
    char p99[48];
};

size_t
report_bar_counts(const struct config *cfg, const struct counters_day *d,
                  const struct config_bar **bars, uint64_t *out,
                  uint64_t *other)
{
    const struct config_bar *b = default_bars;
    size_t n = sizeof(default_bars) / sizeof(default_bars[0]);

    if (cfg != NULL && cfg->n_bars > 0 && cfg->n_bars <= CONFIG_BARS_MAX) {
        b = cfg->bars;
        n = cfg->n_bars;
    }
    memset(out, 0, n * sizeof(out[0]));
    *other = 0;
    for (unsigned s = 0; s < COUNTERS_SCORES; s++) {
        size_t i;
        /* First matching bar wins, so overlapping bars never count a
         * message twice and the rows add up to the total. */
        for (i = 0; i < n; i++) {
            if (s >= b[i].min_score && s <= b[i].max_score) {
                break;
            }
        }
        if (i < n) {
            out[i] += d->by_score[s];
        } else {
            *other += d->by_score[s];
        }
    }
    *bars = b;
    return n;
}

enum cm_err
report_stats_format(const struct config *cfg, const struct counters_day *d,
                    struct buf *out)
{
    char date[CLOCK_DATE_TEXT_SIZE];
    const struct config_bar *bars;
    uint64_t counts[CONFIG_BARS_MAX];
    uint64_t other;
    size_t n = report_bar_counts(cfg, d, &bars, counts, &other);
    enum cm_err rc;

    clock_date_format(d->day, date, sizeof(date));
    rc = buf_printf(out,
                    "&day=%s&requests=%llu&scored=%llu&fail_opens=%llu"
                    "&errors=%llu",
                    date, (unsigned long long)counters_day_requests(d),
                    (unsigned long long)counters_day_scored(d),
                    (unsigned long long)counters_day_fail_opens(d),
                    (unsigned long long)d->errors);
    for (size_t i = 0; i < n && rc == CM_OK; i++) {
        rc = buf_printf(out, "&score_%u_%u=%llu", bars[i].min_score,
                        bars[i].max_score, (unsigned long long)counts[i]);
    }
    if (rc == CM_OK && other != 0) {
        rc = buf_printf(out, "&score_other=%llu", (unsigned long long)other);
    }
    for (unsigned i = 0; i < COUNTERS_CATEGORIES && rc == CM_OK; i++) {
        rc = buf_printf(out, "&category_%s=%llu", counters_category_name(i),
                        (unsigned long long)d->by_category[i]);
    }
    return rc;
}

static void
view_init(struct view *v, const struct config *cfg,
          const struct report_input *in)
{
    const struct counters_day *d = in->day;
    struct clock_local l;
    uint64_t us;

    memset(v, 0, sizeof(*v));
    v->in = in;
    clock_date_format(d->day, v->date, sizeof(v->date));
    if (clock_rfc5322_format(in->made_at_s, v->made, sizeof(v->made)) !=
        CM_OK) {
        snprintf(v->made, sizeof(v->made), "Thu, 01 Jan 1970 00:00:00 +0000");
    }
    if (clock_local(in->made_at_s, &l) == CM_OK) {
        snprintf(v->until, sizeof(v->until), "%02u:%02u",
                 l.minute_of_day / 60, l.minute_of_day % 60);
    } else {
        snprintf(v->until, sizeof(v->until), "now");
    }
    sanitise(in->host, HOST_SHOWN_MAX, v->host, sizeof(v->host));
    v->scored = counters_day_scored(d);
    v->fail_opens = counters_day_fail_opens(d);
    v->requests = counters_day_requests(d);
    v->n_bars = report_bar_counts(cfg, d, &v->bars, v->bar_counts,
                                  &v->bar_other);
    v->bar_max = v->bar_other;
    for (size_t i = 0; i < v->n_bars; i++) {
        if (v->bar_counts[i] > v->bar_max) {
            v->bar_max = v->bar_counts[i];
        }
    }
    for (size_t i = 0; i < COUNTERS_CATEGORIES; i++) {
        if (d->by_category[i] > v->category_max) {
            v->category_max = d->by_category[i];
        }
    }
    if (counters_day_percentile_us(d, 500, &us)) {
        v->has_latency = true;
        format_latency(us, v->p50, sizeof(v->p50));
        counters_day_percentile_us(d, 990, &us);
        format_latency(us, v->p99, sizeof(v->p99));
    }
}

static enum cm_err
put_repeat(struct buf *out, char ch, unsigned n)
{
    enum cm_err rc = CM_OK;

    for (unsigned i = 0; i < n && rc == CM_OK; i++) {
        rc = buf_putc(out, (uint8_t)ch);
    }
    return rc;
}

/* ---- text/plain ------------------------------------------------------- */

static enum cm_err
text_row(struct buf *out, const char *label, uint64_t n, uint64_t total,
         uint64_t max)
{
    unsigned cols = bar_len(n, max, TEXT_BAR_COLS);
    enum cm_err rc;

    rc = buf_printf(out, "  %-26s %10llu %6.1f", label,
                    (unsigned long long)n, percent(n, total));
    if (rc == CM_OK && cols > 0) {
        rc = buf_puts(out, "  ");
    }
    if (rc == CM_OK) {
        rc = put_repeat(out, '#', cols);
    }
    if (rc == CM_OK) {
        rc = buf_putc(out, '\n');
    }
    return rc;
}

/* The title, host, time made and request counts. */
static enum cm_err
text_head(const struct view *v, struct buf *out)
{
    enum cm_err rc;

    if (v->in->is_partial) {
        rc = buf_printf(out, "CGPCloudmark report for %s, until %s\n",
                        v->date, v->until);
    } else {
        rc = buf_printf(out, "CGPCloudmark daily report for %s\n", v->date);
    }
    if (rc == CM_OK && v->host[0] != '\0') {
        rc = buf_printf(out, "Host: %s\n", v->host);
    }
    if (rc == CM_OK) {
        rc = buf_printf(out, "Made: %s\n\n", v->made);
    }
    if (rc == CM_OK) {
        rc = buf_printf(out,
                        "Requests answered %21llu\n"
                        "  scored %30llu\n"
                        "  fail-open %27llu\n"
                        "Errors %32llu\n\n",
                        (unsigned long long)v->requests,
                        (unsigned long long)v->scored,
                        (unsigned long long)v->fail_opens,
                        (unsigned long long)v->in->day->errors);
    }
    return rc;
}

/* The score and category histograms and the fail-opens by reason. */
static enum cm_err
text_counts(const struct view *v, struct buf *out)
{
    const struct counters_day *d = v->in->day;
    char label[64];
    char range[16];
    char text[sizeof(v->bars[0].text)];
    bool any = false;
    enum cm_err rc;

    rc = buf_printf(out, "%-28s %10s %6s\n", "Scores", "count", "%");
    for (size_t i = 0; i < v->n_bars && rc == CM_OK; i++) {
        score_range(&v->bars[i], range, sizeof(range));
        sanitise(v->bars[i].text, sizeof(text) - 1, text, sizeof(text));
        snprintf(label, sizeof(label), "%-8s [%s]", range, text);
        rc = text_row(out, label, v->bar_counts[i], v->scored, v->bar_max);
    }
    if (rc == CM_OK && v->bar_other != 0) {
        rc = text_row(out, "other scores", v->bar_other, v->scored,
                      v->bar_max);
    }
    if (rc == CM_OK) {
        rc = buf_printf(out, "\n%-28s %10s %6s\n", "Categories", "count",
                        "%");
    }
    for (unsigned i = 0; i < COUNTERS_CATEGORIES && rc == CM_OK; i++) {
        if (i == COUNTERS_CATEGORY_OTHER && d->by_category[i] == 0) {
            continue;
        }
        rc = text_row(out, counters_category_name(i), d->by_category[i],
                      v->scored, v->category_max);
    }
    if (rc == CM_OK) {
        rc = buf_printf(out, "\n%-28s %10s\n", "Fail-opens", "count");
    }
    for (unsigned i = 0; i < COUNTERS_FAIL_REASONS && rc == CM_OK; i++) {
        if (d->fail_open[i] == 0) {
            continue;
        }
        any = true;
        display_name(counters_fail_name((enum counters_fail)i), label,
                     sizeof(label));
        rc = buf_printf(out, "  %-26s %10llu\n", label,
                        (unsigned long long)d->fail_open[i]);
    }
    if (rc == CM_OK && !any) {
        rc = buf_puts(out, "  none\n");
    }
    return rc;
}

/* Latency, updates installed and refused, cartridge and engine versions. */
static enum cm_err
text_latency_and_updates(const struct view *v, struct buf *out)
{
    const struct report_input *in = v->in;
    const struct counters_day *d = in->day;
    char label[64];
    enum cm_err rc;

    if (v->has_latency) {
        rc = buf_printf(out,
                        "\nLatency (all requests)\n"
                        "  p50 %33s\n"
                        "  p99 %33s\n",
                        v->p50, v->p99);
    } else {
        rc = buf_puts(out, "\nLatency (all requests)\n  no requests\n");
    }
    if (rc == CM_OK) {
        rc = buf_printf(out,
                        "\nUpdates\n"
                        "  installed %27llu\n"
                        "  refused or failed %19llu\n",
                        (unsigned long long)d->updates_installed,
                        (unsigned long long)counters_day_refused(d));
    }
    for (unsigned i = 0; i < COUNTERS_REFUSALS && rc == CM_OK; i++) {
        if (d->updates_refused[i] == 0) {
            continue;
        }
        display_name(counters_refusal_name((enum counters_refusal)i), label,
                     sizeof(label));
        rc = buf_printf(out, "    %-24s %10llu\n", label,
                        (unsigned long long)d->updates_refused[i]);
    }
    if (rc == CM_OK) {
        if (in->cartridge_version != 0) {
            rc = buf_printf(out, "Cartridge version %21llu\n",
                            (unsigned long long)in->cartridge_version);
        } else {
            rc = buf_printf(out, "Cartridge version %21s\n", "unknown");
        }
    }
    if (rc == CM_OK && in->engine_version != NULL) {
        sanitise(in->engine_version, 32, label, sizeof(label));
        rc = buf_printf(out, "Engine version %24s\n", label);
    }
    return rc;
}

static enum cm_err
text_part(const struct view *v, struct buf *out)
{
    const struct report_input *in = v->in;
    enum cm_err rc;

    rc = text_head(v, out);
    if (rc == CM_OK) {
        rc = text_counts(v, out);
    }
    if (rc == CM_OK) {
        rc = text_latency_and_updates(v, out);
    }
    if (rc == CM_OK && in->days_without_data > 0) {
        rc = buf_printf(out,
                        "\nNo counts for the %lld day(s) after %s: the "
                        "helper was not running\n(or the clock jumped).\n",
                        (long long)in->days_without_data, v->date);
    }
    if (rc == CM_OK && in->is_partial) {
        rc = buf_puts(out, "\nThe day is not over: these are the counts "
                           "so far.\n");
    }
    return rc;
}

/* ---- text/html -------------------------------------------------------- */

static enum cm_err
html_bar(struct buf *out, uint64_t n, uint64_t max, const char *colour)
{
    unsigned px = bar_len(n, max, HTML_BAR_PX);

    if (px == 0) {
        return buf_puts(out, "<td></td></tr>\n");
    }
    return buf_printf(out,
                      "<td><div style=\"background:%s;width:%upx;"
                      "height:12px\"></div></td></tr>\n",
                      colour, px);
}

static enum cm_err
html_row(struct buf *out, const char *label, const char *extra, uint64_t n,
         uint64_t total, uint64_t max, const char *colour)
{
    enum cm_err rc;

    rc = buf_puts(out, "<tr><td style=\"padding:1px 8px\">");
    if (rc == CM_OK) {
        rc = html_escape(out, label);
    }
    if (rc == CM_OK) {
        rc = buf_puts(out, "</td><td style=\"padding:1px 8px;"
                           "font-family:monospace\">");
    }
    if (rc == CM_OK) {
        rc = html_escape(out, extra);
    }
    if (rc == CM_OK) {
        rc = buf_printf(out,
                        "</td><td style=\"padding:1px 8px;text-align:right\">"
                        "%llu</td><td style=\"padding:1px 8px;"
                        "text-align:right\">%.1f</td>",
                        (unsigned long long)n, percent(n, total));
    }
    if (rc == CM_OK) {
        rc = html_bar(out, n, max, colour);
    }
    return rc;
}

static enum cm_err
html_kv(struct buf *out, const char *key, const char *value)
{
    enum cm_err rc;

    rc = buf_puts(out, "<tr><td style=\"padding:1px 8px\">");
    if (rc == CM_OK) {
        rc = html_escape(out, key);
    }
    if (rc == CM_OK) {
        rc = buf_puts(out, "</td><td style=\"padding:1px 8px;"
                           "text-align:right\">");
    }
    if (rc == CM_OK) {
        rc = html_escape(out, value);
    }
    if (rc == CM_OK) {
        rc = buf_puts(out, "</td></tr>\n");
    }
    return rc;
}

static enum cm_err
html_kv_u64(struct buf *out, const char *key, uint64_t value)
{
    char num[24];

    snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
    return html_kv(out, key, num);
}

#define HTML_TABLE "<table style=\"border-collapse:collapse\">\n"
#define HTML_H3 "<h3 style=\"margin:16px 0 4px 0\">"
#define HTML_TH "<th style=\"padding:1px 8px;text-align:left\">"
#define HTML_HEAD(a, b)                                                     \
    "<tr>" HTML_TH a "</th>" HTML_TH b "</th>" HTML_TH "count</th>" HTML_TH \
    "%</th><th></th></tr>\n"

/* The page's head, title, host and time made, and the request counts. */
static enum cm_err
html_head(const struct view *v, struct buf *out)
{
    const struct report_input *in = v->in;
    char title[96];
    enum cm_err rc;

    if (in->is_partial) {
        snprintf(title, sizeof(title), "CGPCloudmark report for %s, until %s",
                 v->date, v->until);
    } else {
        snprintf(title, sizeof(title), "CGPCloudmark daily report for %s",
                 v->date);
    }
    rc = buf_printf(out,
                    "<!DOCTYPE html>\n<html>\n<head>\n"
                    "<meta charset=\"us-ascii\">\n<title>%s</title>\n"
                    "</head>\n<body style=\"font-family:Arial,Helvetica,"
                    "sans-serif;font-size:14px;color:#212121\">\n"
                    "<h2 style=\"margin:0 0 8px 0\">%s</h2>\n<p>",
                    title, title);
    if (rc == CM_OK && v->host[0] != '\0') {
        rc = buf_puts(out, "Host: ");
        if (rc == CM_OK) {
            rc = html_escape(out, v->host);
        }
        if (rc == CM_OK) {
            rc = buf_puts(out, "<br>\n");
        }
    }
    if (rc == CM_OK) {
        rc = buf_printf(out, "Made: %s</p>\n" HTML_TABLE, v->made);
    }
    if (rc == CM_OK) {
        rc = html_kv_u64(out, "Requests answered", v->requests);
    }
    if (rc == CM_OK) {
        rc = html_kv_u64(out, "scored", v->scored);
    }
    if (rc == CM_OK) {
        rc = html_kv_u64(out, "fail-open", v->fail_opens);
    }
    if (rc == CM_OK) {
        rc = html_kv_u64(out, "Errors", in->day->errors);
    }
    return rc;
}

/* The score chart: one bar a score bar, green through to red. */
static enum cm_err
html_scores(const struct view *v, struct buf *out)
{
    char label[64];
    char range[16];
    char colour[8];
    char text[sizeof(v->bars[0].text)];
    enum cm_err rc;

    rc = buf_puts(out, "</table>\n" HTML_H3 "Scores</h3>\n" HTML_TABLE
                  HTML_HEAD("score", "bar"));
    for (size_t i = 0; i < v->n_bars && rc == CM_OK; i++) {
        unsigned s = v->bars[i].max_score > 100 ? 100 : v->bars[i].max_score;
        /* Green for clean mail through to red for certain spam. */
        snprintf(colour, sizeof(colour), "#%02x%02x%02x",
                 60u + 138u * s / 100u, 154u - 114u * s / 100u,
                 60u - 20u * s / 100u);
        score_range(&v->bars[i], range, sizeof(range));
        sanitise(v->bars[i].text, sizeof(text) - 1, text, sizeof(text));
        snprintf(label, sizeof(label), "[%s]", text);
        rc = html_row(out, range, label, v->bar_counts[i], v->scored,
                      v->bar_max, colour);
    }
    if (rc == CM_OK && v->bar_other != 0) {
        rc = html_row(out, "other scores", "", v->bar_other, v->scored,
                      v->bar_max, "#9e9e9e");
    }
    return rc;
}

/* The category chart and the fail-opens by reason. */
static enum cm_err
html_categories_and_fail_opens(const struct view *v, struct buf *out)
{
    const struct counters_day *d = v->in->day;
    char label[64];
    bool any = false;
    enum cm_err rc;

    rc = buf_puts(out, "</table>\n" HTML_H3 "Categories</h3>\n"
                  HTML_TABLE HTML_HEAD("category", ""));
    for (unsigned i = 0; i < COUNTERS_CATEGORIES && rc == CM_OK; i++) {
        if (i == COUNTERS_CATEGORY_OTHER && d->by_category[i] == 0) {
            continue;
        }
        rc = html_row(out, counters_category_name(i), "", d->by_category[i],
                      v->scored, v->category_max, category_colours[i]);
    }
    if (rc == CM_OK) {
        rc = buf_puts(out, "</table>\n" HTML_H3 "Fail-opens</h3>\n"
                      HTML_TABLE);
    }
    for (unsigned i = 0; i < COUNTERS_FAIL_REASONS && rc == CM_OK; i++) {
        if (d->fail_open[i] == 0) {
            continue;
        }
        any = true;
        display_name(counters_fail_name((enum counters_fail)i), label,
                     sizeof(label));
        rc = html_kv_u64(out, label, d->fail_open[i]);
    }
    if (rc == CM_OK && !any) {
        rc = html_kv(out, "none", "");
    }
    return rc;
}

/* Latency, updates installed and refused, cartridge and engine versions. */
static enum cm_err
html_latency_and_updates(const struct view *v, struct buf *out)
{
    const struct report_input *in = v->in;
    const struct counters_day *d = in->day;
    char label[64];
    char name[16];
    enum cm_err rc;

    rc = buf_puts(out, "</table>\n" HTML_H3 "Latency (all requests)</h3>\n"
                  HTML_TABLE);
    if (rc == CM_OK && v->has_latency) {
        rc = html_kv(out, "p50", v->p50);
        if (rc == CM_OK) {
            rc = html_kv(out, "p99", v->p99);
        }
    } else if (rc == CM_OK) {
        rc = html_kv(out, "no requests", "");
    }
    if (rc == CM_OK) {
        rc = buf_puts(out, "</table>\n" HTML_H3 "Updates</h3>\n" HTML_TABLE);
    }
    if (rc == CM_OK) {
        rc = html_kv_u64(out, "installed", d->updates_installed);
    }
    if (rc == CM_OK) {
        rc = html_kv_u64(out, "refused or failed", counters_day_refused(d));
    }
    for (unsigned i = 0; i < COUNTERS_REFUSALS && rc == CM_OK; i++) {
        if (d->updates_refused[i] == 0) {
            continue;
        }
        display_name(counters_refusal_name((enum counters_refusal)i), name,
                     sizeof(name));
        snprintf(label, sizeof(label), "- %s", name);
        rc = html_kv_u64(out, label, d->updates_refused[i]);
    }
    if (rc == CM_OK) {
        if (in->cartridge_version != 0) {
            rc = html_kv_u64(out, "Cartridge version", in->cartridge_version);
        } else {
            rc = html_kv(out, "Cartridge version", "unknown");
        }
    }
    if (rc == CM_OK && in->engine_version != NULL) {
        sanitise(in->engine_version, 32, label, sizeof(label));
        rc = html_kv(out, "Engine version", label);
    }
    return rc;
}

static enum cm_err
html_part(const struct view *v, struct buf *out)
{
    const struct report_input *in = v->in;
    enum cm_err rc;

    rc = html_head(v, out);
    if (rc == CM_OK) {
        rc = html_scores(v, out);
    }
    if (rc == CM_OK) {
        rc = html_categories_and_fail_opens(v, out);
    }
    if (rc == CM_OK) {
        rc = html_latency_and_updates(v, out);
    }
    if (rc == CM_OK) {
        rc = buf_puts(out, "</table>\n");
    }
    if (rc == CM_OK && in->days_without_data > 0) {
        rc = buf_printf(out,
                        "<p>No counts for the %lld day(s) after %s: the "
                        "helper was not running (or the clock jumped).</p>\n",
                        (long long)in->days_without_data, v->date);
    }
    if (rc == CM_OK && in->is_partial) {
        rc = buf_puts(out, "<p>The day is not over: these are the counts "
                           "so far.</p>\n");
    }
    if (rc == CM_OK) {
        rc = buf_puts(out, "</body>\n</html>\n");
    }
    return rc;
}

/* ---- the message ------------------------------------------------------ */

enum cm_err
report_recipient(const struct config *cfg, char *out, size_t cap)
{
    int n;

    if (cfg->report_to[0] != '\0') {
        if (!is_address(cfg->report_to)) {
            return CM_EINVAL;
        }
        n = snprintf(out, cap, "%s", cfg->report_to);
    } else if (cfg->main_domain[0] != '\0') {
        if (!is_domain(cfg->main_domain)) {
            return CM_EINVAL;
        }
        n = snprintf(out, cap, "postmaster@%s", cfg->main_domain);
    } else {
        n = snprintf(out, cap, "postmaster");
    }
    if (n < 0 || (size_t)n >= cap) {
        return CM_ELIMIT;
    }
    return CM_OK;
}

static enum cm_err
format_headers(const struct config *cfg, const struct view *v,
               const char *rcpt, const char *unique, const char *boundary,
               struct buf *out)
{
    const char *domain = is_domain(cfg->main_domain) ? cfg->main_domain
                                                      : NULL;
    char subject[128];

    if (v->in->is_partial) {
        snprintf(subject, sizeof(subject),
                 "CGPCloudmark report %s (until %s): %llu requests", v->date,
                 v->until, (unsigned long long)v->requests);
    } else {
        snprintf(subject, sizeof(subject),
                 "CGPCloudmark daily report %s: %llu requests", v->date,
                 (unsigned long long)v->requests);
    }
    /* Return-Path <> so that a bounce of the report cannot loop; PIPE
     * takes the envelope from Envelope-To and removes that header. */
    return buf_printf(out,
                      "Return-Path: <>\n"
                      "Envelope-To: <%s>\n"
                      "From: \"CGPCloudmark\" <postmaster%s%s>\n"
                      "To: <%s>\n"
                      "Subject: %s\n"
                      "Date: %s\n"
                      "Message-ID: <%s@%s>\n"
                      "MIME-Version: 1.0\n"
                      "Auto-Submitted: auto-generated\n"
                      "Content-Type: multipart/alternative;\n"
                      " boundary=\"%s\"\n"
                      "\n"
                      "This is a multi-part message in MIME format.\n",
                      rcpt, domain != NULL ? "@" : "",
                      domain != NULL ? domain : "", rcpt, subject, v->made,
                      unique, domain != NULL ? domain : "cgpcloudmark.invalid",
                      boundary);
}

enum cm_err
report_format(const struct config *cfg, const struct report_input *in,
              const char *unique, struct buf *out)
{
    char rcpt[CAPS_ADDR_MAX];
    char boundary[BOUNDARY_MAX + 1];
    struct view *v;
    enum cm_err rc;

    if (in->day == NULL || unique == NULL ||
        !is_token(unique, REPORT_NAME_MAX - 1)) {
        return CM_EINVAL;
    }
    rc = report_recipient(cfg, rcpt, sizeof(rcpt));
    if (rc != CM_OK) {
        return rc;
    }
    v = malloc(sizeof(*v));
    if (v == NULL) {
        return CM_ENOMEM;
    }
    view_init(v, cfg, in);
    boundary_of(unique, boundary, sizeof(boundary));
    rc = format_headers(cfg, v, rcpt, unique, boundary, out);
    if (rc == CM_OK) {
        rc = buf_printf(out,
                        "\n--%s\n"
                        "Content-Type: text/plain; charset=us-ascii\n"
                        "Content-Transfer-Encoding: 7bit\n\n",
                        boundary);
    }
    if (rc == CM_OK) {
        rc = text_part(v, out);
    }
    if (rc == CM_OK) {
        rc = buf_printf(out,
                        "\n--%s\n"
                        "Content-Type: text/html; charset=us-ascii\n"
                        "Content-Transfer-Encoding: 7bit\n\n",
                        boundary);
    }
    if (rc == CM_OK) {
        rc = html_part(v, out);
    }
    if (rc == CM_OK) {
        rc = buf_printf(out, "\n--%s--\n", boundary);
    }
    free(v);
    return rc;
}

/* ---- files ------------------------------------------------------------ */

static enum cm_err
write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return CM_EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return CM_OK;
}

static bool
path_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 || errno != ENOENT;
}

static enum cm_err
file_paths(const char *dir, const char *name, struct report_file *out)
{
    char base[REPORT_PATH_MAX];
    int n;

    if (fsutil_join(base, sizeof(base), dir, name) != CM_OK) {
        return CM_ELIMIT;
    }
    n = snprintf(out->tmp_path, sizeof(out->tmp_path), "%s.tmp", base);
    if (n < 0 || (size_t)n >= sizeof(out->tmp_path)) {
        return CM_ELIMIT;
    }
    n = snprintf(out->sub_path, sizeof(out->sub_path), "%s.sub", base);
    if (n < 0 || (size_t)n >= sizeof(out->sub_path)) {
        return CM_ELIMIT;
    }
    n = snprintf(out->name, sizeof(out->name), "%s", name);
    if (n < 0 || (size_t)n >= sizeof(out->name)) {
        return CM_ELIMIT;
    }
    return CM_OK;
}

/* Write mail to f->tmp_path, which must not exist.  CM_EEXIST-like
 * collisions are told apart through *is_taken. */
static enum cm_err
write_tmp(const struct report_file *f, const struct buf *mail,
          bool *is_taken)
{
    int fd;

    *is_taken = false;
    fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              0640);
    if (fd < 0) {
        *is_taken = errno == EEXIST;
        return CM_EIO;
    }
    if (write_all(fd, mail->data, mail->len) != CM_OK || fsync(fd) != 0) {
        close(fd);
        unlink(f->tmp_path);
        return CM_EIO;
    }
    if (close(fd) != 0) {
        unlink(f->tmp_path);
        return CM_EIO;
    }
    return CM_OK;
}

enum cm_err
report_prepare(const struct config *cfg, const struct report_input *in,
               const char *dir, const char *kind, unsigned *seq,
               struct report_file *out)
{
    char date[CLOCK_DATE_TEXT_SIZE];
    char name[REPORT_NAME_MAX];
    struct report_file f;
    struct buf mail;
    enum cm_err rc = CM_ELIMIT;

    if (in->day == NULL || !is_token(kind, 16)) {
        return CM_EINVAL;
    }
    if (!fsutil_is_dir(dir)) {
        return CM_ENOENT;
    }
    clock_date_format(in->day->day, date, sizeof(date));
    buf_init(&mail, CAPS_REPORT_MAX_BYTES);
    for (unsigned tries = 0; tries < CAPS_REPORT_NAME_TRIES; tries++) {
        bool is_taken;
        int n = snprintf(name, sizeof(name), "cmreport-%s-%s-%lld-%ld-%u",
                         kind, date, (long long)in->made_at_s,
                         (long)getpid(), (*seq)++);

        if (n < 0 || (size_t)n >= sizeof(name)) {
            rc = CM_ELIMIT;
            break;
        }
        rc = file_paths(dir, name, &f);
        if (rc != CM_OK) {
            break;
        }
        if (path_exists(f.sub_path)) {
            rc = CM_ELIMIT;
            continue;
        }
        buf_reset(&mail);
        rc = report_format(cfg, in, name, &mail);
        if (rc != CM_OK) {
            break;
        }
        rc = write_tmp(&f, &mail, &is_taken);
        if (rc == CM_OK) {
            *out = f;
            break;
        }
        if (!is_taken) {
            break;
        }
        rc = CM_ELIMIT;
    }
    buf_clear(&mail);
    return rc;
}

enum cm_err
report_commit(const struct report_file *f)
{
    if (path_exists(f->sub_path)) {
        return CM_EIO;
    }
    if (rename(f->tmp_path, f->sub_path) != 0) {
        return CM_EIO;
    }
    /* The .sub is CGP's to send from now on: a failure is no longer one. */
    fsutil_sync_renamed(f->sub_path);
    return CM_OK;
}

void
report_abort(const struct report_file *f)
{
    unlink(f->tmp_path);
}

/* ---- recovery --------------------------------------------------------- */

/* Date of a leftover daily report name "cmreport-daily-YYYY-MM-DD-….tmp"
 * into *day; false for any other name. */
static bool
daily_tmp_date(const char *name, int64_t *day)
{
    static const char prefix[] = "cmreport-" REPORT_KIND_DAILY "-";
    size_t pl = sizeof(prefix) - 1;
    size_t len = strlen(name);

    if (len < pl + 11 + 4 || len >= REPORT_NAME_MAX + 4 ||
        memcmp(name, prefix, pl) != 0 || name[pl + 10] != '-' ||
        memcmp(name + len - 4, ".tmp", 4) != 0) {
        return false;
    }
    return clock_date_parse(name + pl, 10, day) == CM_OK;
}

/* A manual report's .tmp ("cmreport-manual-YYYY-MM-DD-….tmp") that a
 * crashed REPORT left: a regular file (lstat; never a link) old enough
 * that no REPORT can still be writing it.  Nothing commits these (only
 * daily reports have a state file saying they were made), so without
 * this they would pile up in Submitted/. */
static bool
is_stale_manual_tmp(const char *dir, const char *name)
{
    static const char prefix[] = "cmreport-" REPORT_KIND_MANUAL "-";
    size_t pl = sizeof(prefix) - 1;
    size_t len = strlen(name);
    char path[REPORT_PATH_MAX + 8];
    struct stat st;
    int64_t day;

    if (len < pl + 11 + 4 || memcmp(name, prefix, pl) != 0 ||
        name[pl + 10] != '-' || memcmp(name + len - 4, ".tmp", 4) != 0 ||
        clock_date_parse(name + pl, 10, &day) != CM_OK ||
        fsutil_join(path, sizeof(path), dir, name) != CM_OK ||
        lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return false;
    }
    return time(NULL) - st.st_mtime >= (time_t)CAPS_STALE_TEMP_S;
}

/* The file ends with the closing boundary derived from its name. */
static bool
is_complete(const struct report_file *f)
{
    char boundary[BOUNDARY_MAX + 1];
    char tail[BOUNDARY_MAX + 8];
    struct buf b;
    bool is_truncated = false;
    bool ok = false;
    int n;

    boundary_of(f->name, boundary, sizeof(boundary));
    n = snprintf(tail, sizeof(tail), "\n--%s--\n", boundary);
    buf_init(&b, CAPS_REPORT_RECOVER_MAX_BYTES);
    if (n > 0 && (size_t)n < sizeof(tail) &&
        fsutil_read_file(f->tmp_path, CAPS_REPORT_RECOVER_MAX_BYTES, &b,
                         &is_truncated, NULL) == CM_OK &&
        !is_truncated && b.len >= (size_t)n &&
        memcmp(b.data + b.len - (size_t)n, tail, (size_t)n) == 0) {
        ok = true;
    }
    buf_clear(&b);
    return ok;
}

enum cm_err
report_recover(const char *dir, int64_t last_reported, size_t *n_committed,
               size_t *n_removed)
{
    DIR *d;
    struct dirent *e;
    size_t seen = 0;
    size_t committed = 0;
    size_t removed = 0;

    d = opendir(dir);
    if (d == NULL) {
        return errno == ENOENT ? CM_ENOENT : CM_EIO;
    }
    /* Acting while reading is safe here: a renamed entry becomes a .sub,
     * which this loop never acts on, and removals cannot hide others. */
    while (seen < CAPS_REPORT_RECOVER_ENTRIES) {
        struct report_file f;
        char name[REPORT_NAME_MAX + 4];
        int64_t day;
        size_t len;

        errno = 0;
        e = readdir(d);
        if (e == NULL) {
            break;
        }
        seen++;
        if (is_stale_manual_tmp(dir, e->d_name)) {
            char path[REPORT_PATH_MAX + 8];

            if (fsutil_join(path, sizeof(path), dir, e->d_name) == CM_OK &&
                unlink(path) == 0) {
                removed++;
            }
            continue;
        }
        if (!daily_tmp_date(e->d_name, &day)) {
            continue;
        }
        len = strlen(e->d_name) - 4;
        memcpy(name, e->d_name, len);
        name[len] = '\0';
        if (file_paths(dir, name, &f) != CM_OK) {
            continue;
        }
        if (last_reported != COUNTERS_DAY_NONE && day <= last_reported &&
            is_complete(&f)) {
            /* Its day is marked reported and will not be made again: a
             * rename that fails (a disk error) leaves it for the next
             * start rather than lose it. */
            if (report_commit(&f) == CM_OK) {
                committed++;
            }
        } else if (unlink(f.tmp_path) == 0) {
            removed++;
        }
    }
    closedir(d);
    if (n_committed != NULL) {
        *n_committed = committed;
    }
    if (n_removed != NULL) {
        *n_removed = removed;
    }
    return CM_OK;
}
