/*
 * render.c -- a verdict → the answer line CGP reads and the plain header
 * lines RATE shows (SPEC §2 and §4, cgp-protocol.md §1.7).
 *
 * DESIGN
 * One pass picks the header lines for a verdict, in this order:
 *
 *   <HeaderJunkScore>: N [bar]       when HeaderJunkScore is not empty
 *   <HeaderScore>: N [bar]           when HeaderScore is not empty
 *   <AlertHeader>                    when N >= AlertThreshold
 *   <ColorHeader>                    when N >= AlertThreshold
 *   X-Cloudmark-Analysis: v=1 s=N c=<category> sc=<subcategory>
 *       r=<0|1> <analysis>           when AnalysisHeader (or favor
 *                                    analysis over speed) is on
 *
 * and none at all when N < MinimumScore.  An empty category or
 * subcategory is written "-"; the details are left out when the engine
 * gave none.  The lines are built as plain text (each bounded by the sizes
 * of the config and verdict fields it comes from); in them every control
 * byte but TAB, and every byte that is not well-formed UTF-8, becomes '?'
 * (CGP decodes an escaped LF into the header text, where it would end the
 * line: an escape is not enough).  Then every line goes through
 * cgpstr_escape with is_multiline false, so a quote, backslash or TAB
 * becomes an escape and can neither end the quoted string nor start a new
 * protocol line.  The \e separators between lines are written here, never
 * taken from the text.
 *
 * The answer is "<seq> ADDHEADER \"h1\eh2...\" OK\n".  Its length is
 * computed from cgpstr_escaped_len before anything is written; while it
 * would exceed CAPS_ANSWER_MAX, whole lines are dropped from the end (the
 * analysis line goes first), so a line is never cut inside.  With no line
 * left the answer is "<seq> OK\n".
 *
 * State: none.  Pure; any thread.  Limits: CAPS_ANSWER_MAX per answer,
 * CAPS_RENDER_SEQ_MAX for the echoed sequence token.
 */
#include "render.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "cgpstr.h"
#include "charset.h"

#define RENDER_LINES_MAX 5
/* A plain line: a config header (< 256 bytes) plus a score and bar, or
 * the analysis line (two names < 32 bytes and details < 512 bytes). */
#define RENDER_LINE_MAX 1024
#define RENDER_ANALYSIS_NAME "X-Cloudmark-Analysis"

struct render_lines {
    char text[RENDER_LINES_MAX][RENDER_LINE_MAX];
    size_t len[RENDER_LINES_MAX];
    size_t n;
};

static void
add_line(struct render_lines *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * What CGP decodes from the quoted string is the header text itself, and
 * there an escaped LF ("\010") is an end of line like "\e": so a control
 * byte other than TAB (CR, LF, NUL ...) becomes '?' here, before the
 * escaping, as does a byte that is not part of well-formed UTF-8 (CGP
 * strings are UTF-8).  Only the separators render_answer writes end a
 * header line.
 */
static void
sanitize_line(char *text, size_t len)
{
    unsigned char *s = (unsigned char *)text;
    size_t i = 0;

    while (i < len) {
        size_t n = 1;

        if (s[i] >= 0x80) {
            n = charset_utf8_seq_len(s + i, len - i);
            if (n == 0) {
                s[i] = '?';
                n = 1;
            }
        } else if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
            s[i] = '?';
        }
        i += n;
    }
}

static void
add_line(struct render_lines *rl, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(rl->text[rl->n], RENDER_LINE_MAX, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    /* The field sizes keep every line well inside RENDER_LINE_MAX; a cut
     * here would still end on a whole byte of plain text. */
    rl->len[rl->n] = (size_t)n < RENDER_LINE_MAX ? (size_t)n
                                                 : RENDER_LINE_MAX - 1;
    sanitize_line(rl->text[rl->n], rl->len[rl->n]);
    rl->n++;
}

/* Length of a char array field that should be NUL-terminated but is not
 * trusted to be. */
static int
field_len(const char *s, size_t size)
{
    size_t n = 0;

    while (n < size && s[n] != '\0') {
        n++;
    }
    return (int)n;
}

static void
pick_lines(const struct config *cfg, const struct verdict *v,
           struct render_lines *rl)
{
    unsigned score = v->score > 100 ? 100 : v->score;
    const char *bar = config_bar_text(cfg, score);
    int cat_len = field_len(v->category_name, sizeof(v->category_name));
    int sub_len = field_len(v->subcategory_name, sizeof(v->subcategory_name));
    int an_len = field_len(v->analysis, sizeof(v->analysis));
    bool is_alert = score >= cfg->alert_threshold;

    rl->n = 0;
    if (score < cfg->minimum_score) {
        return;
    }
    if (cfg->junk_header[0] != '\0') {
        add_line(rl, "%.*s: %u [%s]",
                 field_len(cfg->junk_header, sizeof(cfg->junk_header)),
                 cfg->junk_header, score, bar);
    }
    if (cfg->score_header[0] != '\0') {
        add_line(rl, "%.*s: %u [%s]",
                 field_len(cfg->score_header, sizeof(cfg->score_header)),
                 cfg->score_header, score, bar);
    }
    if (is_alert && cfg->alert_header[0] != '\0') {
        add_line(rl, "%.*s",
                 field_len(cfg->alert_header, sizeof(cfg->alert_header)),
                 cfg->alert_header);
    }
    if (is_alert && cfg->color_header[0] != '\0') {
        add_line(rl, "%.*s",
                 field_len(cfg->color_header, sizeof(cfg->color_header)),
                 cfg->color_header);
    }
    if (cfg->add_analysis_header) {
        add_line(rl, "%s: v=1 s=%u c=%.*s sc=%.*s r=%d%s%.*s",
                 RENDER_ANALYSIS_NAME, score, cat_len > 0 ? cat_len : 1,
                 cat_len > 0 ? v->category_name : "-",
                 sub_len > 0 ? sub_len : 1,
                 sub_len > 0 ? v->subcategory_name : "-", v->rescan ? 1 : 0,
                 an_len > 0 ? " " : "", an_len, v->analysis);
    }
}

static bool
is_valid_seq(const char *seq, size_t *len)
{
    size_t n = 0;

    if (seq == NULL) {
        return false;
    }
    while (seq[n] != '\0') {
        unsigned char ch = (unsigned char)seq[n];

        if (ch <= 0x20 || ch >= 0x7f || n >= CAPS_RENDER_SEQ_MAX) {
            return false;
        }
        n++;
    }
    *len = n;
    return n > 0;
}

enum cm_err
render_answer(const struct config *cfg, const char *seq,
              const struct verdict *v, char *out, size_t cap,
              size_t *out_len)
{
    static const char head[] = " ADDHEADER \"";
    static const char tail[] = "\" OK\n";
    struct render_lines rl;
    size_t esc_len[RENDER_LINES_MAX];
    size_t seq_len = 0;
    size_t total;
    struct buf b;
    enum cm_err rc = CM_OK;

    if (cfg == NULL || v == NULL || out == NULL ||
        cap < CAPS_ANSWER_MAX + 1 || !is_valid_seq(seq, &seq_len)) {
        return CM_EINVAL;
    }
    pick_lines(cfg, v, &rl);
    for (size_t i = 0; i < rl.n; i++) {
        esc_len[i] = cgpstr_escaped_len((const uint8_t *)rl.text[i],
                                        rl.len[i], false);
    }
    /* Drop whole lines from the end until the answer fits. */
    for (;;) {
        total = seq_len + sizeof(head) - 1 + sizeof(tail) - 1;
        for (size_t i = 0; i < rl.n; i++) {
            total += esc_len[i] + (i > 0 ? 2 : 0);
        }
        if (rl.n == 0 || total <= CAPS_ANSWER_MAX) {
            break;
        }
        rl.n--;
    }
    if (rl.n == 0) {
        memcpy(out, seq, seq_len);
        memcpy(out + seq_len, " OK\n", 5);
        *out_len = seq_len + 4;
        return CM_OK;
    }
    buf_init(&b, CAPS_ANSWER_MAX);
    if (buf_reserve(&b, total) != CM_OK) {
        return CM_ENOMEM;
    }
    rc = buf_append(&b, seq, seq_len);
    if (rc == CM_OK) {
        rc = buf_append(&b, head, sizeof(head) - 1);
    }
    for (size_t i = 0; i < rl.n && rc == CM_OK; i++) {
        if (i > 0) {
            rc = buf_append(&b, "\\e", 2);
        }
        if (rc == CM_OK) {
            rc = cgpstr_escape((const uint8_t *)rl.text[i], rl.len[i], false,
                               &b);
        }
    }
    if (rc == CM_OK) {
        rc = buf_append(&b, tail, sizeof(tail) - 1);
    }
    if (rc == CM_OK && b.len != total) {
        rc = CM_ELIMIT; /* cannot happen: the length was computed above */
    }
    if (rc == CM_OK) {
        memcpy(out, b.data, b.len);
        out[b.len] = '\0';
        *out_len = b.len;
    }
    buf_clear(&b);
    return rc;
}

enum cm_err
render_headers(const struct config *cfg, const struct verdict *v, char *out,
               size_t cap, size_t *out_len)
{
    struct render_lines rl;
    size_t n = 0;

    if (cfg == NULL || v == NULL || out == NULL || cap == 0) {
        return CM_EINVAL;
    }
    pick_lines(cfg, v, &rl);
    for (size_t i = 0; i < rl.n; i++) {
        size_t need = rl.len[i] + (i > 0 ? 1 : 0);

        if (need >= cap - n) {
            out[0] = '\0';
            return CM_ELIMIT;
        }
        if (i > 0) {
            out[n++] = '\n';
        }
        /* Plain text for people: control bytes from a message or a
         * cartridge become '?' so each header stays on its own line. */
        for (size_t k = 0; k < rl.len[i]; k++) {
            unsigned char ch = (unsigned char)rl.text[i][k];

            out[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
        }
    }
    out[n] = '\0';
    *out_len = n;
    return CM_OK;
}
