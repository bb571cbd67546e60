/*
 * feedback.c -- cmtool feedback: misclassification reports into a
 * training tree for the next published cartridge (SPEC §5; seeds: the
 * original network takes a report only when the misclassified message is
 * attached as message/rfc822).
 *
 *   cmtool feedback [--label spam|phish|ham] [--as-is] DIR... -o OUTDIR
 *
 * Input: feedback mails, walked like RATE walks its arguments (msgsrc:
 * files, directories, .mdir folders, mbox files; a CGP queue envelope is
 * skipped with queuefile_parse).  The verdict a reporter asks for is the
 * folder the report sits in -- the mailbox the report address delivers
 * into: the deepest path component named spam, phish or ham, at or below
 * the DIR given (feedback_label_below: a folder above it is the site's
 * layout, not a verdict), or --label for all of them.
 *
 * Output: every attached message (attmsg.h: message/rfc822, message/global
 * or a *.eml attachment; base64 undone) goes to
 * OUTDIR/feedback/<label>/<sha256>.eml, written atomically, where the
 * SHA-256 is of its bytes with each CR LF read as LF (content_digest).
 * The name is the content, so the same message reported twice, or in two
 * runs, or once with CR LF line ends and once with LF, is stored once, and `cmtool train corpus OUTDIR` reads the tree
 * as one more source named "feedback" (whose junk trainfp trusts as
 * reported: a fingerprint even for a campaign seen once).  A message also
 * stored under another label is written anyway and warned about: training
 * then holds it as ham too, so no fingerprint matching it can be made.
 *
 * With --as-is the mails themselves are the misclassified messages --
 * the files a site gave `CGPCloudmark LEARN`, in any form LEARN reads
 * (plain files, .mdir folders, mbox files, CGP queue files, whose
 * envelope is left out) -- and each is stored whole in the same tree, so
 * the site's own feedback reaches the cartridges it publishes (SPEC §9:
 * a layer "that cmtool can also ingest"; the layer itself holds hashed
 * weights, not mail to train on).  A mail that may be cut, is blank or
 * is over CAPS_FEEDBACK_MESSAGE_MAX_BYTES is refused as an attachment
 * would be.
 *
 * Not taken: a report without an attached message (a forward quoted
 * inline has lost its headers; the original network also drops those),
 * an attachment that may be cut (the report itself was cut, or its
 * multipart never closed), one that is quoted-printable or broken base64,
 * one over CAPS_FEEDBACK_MESSAGE_MAX_BYTES.  Each is a warning and a
 * count in the summary; only unreadable input and failed writes are
 * errors (exit 1).
 *
 * Single-threaded; state is the tally on the stack.
 */
#include "feedback.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attmsg.h"
#include "buf.h"
#include "caps.h"
#include "fingerprint.h"
#include "fsutil.h"
#include "log.h"
#include "model.h"
#include "msgsrc.h"
#include "queuefile.h"

#define FEEDBACK_DIRS_MAX 64u
#define FEEDBACK_PATH_MAX 4096u
#define FEEDBACK_LABELS 3u
#define FEEDBACK_UP_MAX 256u /* directories looked at above a mail */

static const char *const label_names[FEEDBACK_LABELS] = {"ham", "spam",
                                                          "phish"};

struct feedback_opts {
    const char *dirs[FEEDBACK_DIRS_MAX];
    size_t n_dirs;
    const char *out;
    int label; /* --label, or -1: from each mail's path */
    bool is_as_is; /* --as-is: each mail is the misclassified message */
    bool has_own; /* OUTDIR/feedback is own_dev, own_ino */
    dev_t own_dev;
    ino_t own_ino;
};

struct feedback_tally {
    size_t n_mails;       /* feedback mails read */
    size_t n_unlabelled;  /* not under a spam/phish/ham folder */
    size_t n_unusable;    /* not a message (queue file flags) */
    size_t n_no_attached; /* no attached message */
    size_t n_extracted;   /* attached messages written */
    size_t n_duplicates;  /* already in the tree */
    size_t n_conflicts;   /* also stored under another label */
    size_t n_refused;     /* cut, undecodable or too large */
    size_t n_errors;      /* unreadable input, failed writes */
    size_t by_label[FEEDBACK_LABELS];
};

static void
usage(FILE *to)
{
    fprintf(to,
            "usage: cmtool feedback [--label spam|phish|ham] [--as-is] "
            "DIR... -o OUTDIR\n"
            "  extracts the misclassified messages attached (as "
            "message/rfc822) to\n"
            "  feedback mails into OUTDIR/" FEEDBACK_SOURCE
            "/<label>/<sha256>.eml for\n"
            "  `cmtool train CORPUS OUTDIR`.  DIR holds files, .mdir "
            "folders or mbox\n"
            "  files; a mail's label is the folder it sits in (spam/, "
            "phish/, ham/)\n"
            "  unless --label gives one for all.  --as-is: each mail is "
            "itself the\n"
            "  misclassified message (the files given to LEARN), stored "
            "whole.\n"
            "  exit 0: done; 1: an input could not be read or an output "
            "not written;\n"
            "  2: bad arguments.\n");
}

static int
label_of_name(const char *name)
{
    for (size_t i = 0; i < FEEDBACK_LABELS; i++) {
        if (strcmp(name, label_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* The label a path component (s, len) names, or -1. */
static int
component_label(const char *s, size_t len, bool is_last)
{
    char c[16];
    size_t n = len;

    if (is_last) {
        /* msgsrc names the n-th message of an mbox "<path>:<n>". */
        size_t k = n;

        while (k > 0 && s[k - 1] >= '0' && s[k - 1] <= '9') {
            k--;
        }
        if (k < n && k > 0 && s[k - 1] == ':') {
            n = k - 1;
        }
    }
    if (n >= sizeof(c)) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        c[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    }
    c[n] = '\0';
    if (n > 5 && (strcmp(c + n - 5, ".mdir") == 0 ||
                  strcmp(c + n - 5, ".mbox") == 0)) {
        c[n - 5] = '\0';
    }
    return label_of_name(c);
}

int
feedback_label_of_path(const char *path)
{
    int label = -1;
    size_t i = 0;

    while (path[i] != '\0') {
        size_t start = i;
        int l;

        while (path[i] != '\0' && path[i] != '/') {
            i++;
        }
        l = component_label(path + start, i - start, path[i] == '\0');
        if (l >= 0) {
            label = l;
        }
        while (path[i] == '/') {
            i++;
        }
    }
    return label;
}

/*
 * Where the label search of path starts when path was walked from dir:
 * the first byte of dir's own last component.  False when path is not
 * dir itself nor below it as msgsrc names things (dir + "/" + ..., or
 * dir + ":n" for an mbox given by itself).
 */
static bool
label_start(const char *dir, const char *path, size_t *start)
{
    size_t len = strlen(dir);
    size_t at;

    if (len == 0) {
        return false; /* names nothing (and dir[len - 1] is not there) */
    }
    while (len > 1 && dir[len - 1] == '/') {
        len--;
    }
    if (strncmp(path, dir, len) != 0 ||
        (path[len] != '\0' && path[len] != '/' && path[len] != ':' &&
         dir[len - 1] != '/')) {
        return false;
    }
    at = len;
    while (at > 0 && dir[at - 1] != '/') {
        at--;
    }
    *start = at;
    return true;
}

int
feedback_label_below(const char *dir, const char *path)
{
    size_t start = 0;

    if (!label_start(dir, path, &start)) {
        return -1;
    }
    return feedback_label_of_path(path + start);
}

/*
 * The label of a mail walked from the DIRs given: only the folders at or
 * below a DIR may label it, not the ones above (a DIR /home/spam/reports
 * would make every report spam).  A mail below two DIRs (one inside the
 * other) takes the wider one: every folder below it was named.
 */
static int
item_label(const struct feedback_opts *o, const char *name)
{
    size_t best_len = 0;
    int label = -1;

    for (size_t i = 0; i < o->n_dirs; i++) {
        size_t start = 0;
        size_t len = strlen(o->dirs[i]);

        if (label_start(o->dirs[i], name, &start) &&
            (best_len == 0 || len < best_len)) {
            best_len = len;
            label = feedback_label_below(o->dirs[i], name);
        }
    }
    return label;
}

static int
parse_args(int argc, char **argv, struct feedback_opts *o)
{
    o->n_dirs = 0;
    o->out = NULL;
    o->label = -1;
    o->is_as_is = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            o->out = argv[++i];
        } else if (strcmp(a, "--label") == 0 && i + 1 < argc) {
            o->label = label_of_name(argv[++i]);
            if (o->label < 0) {
                fprintf(stderr, "cmtool feedback: --label takes spam, phish "
                                "or ham\n");
                return 2;
            }
        } else if (strcmp(a, "--as-is") == 0) {
            o->is_as_is = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "cmtool feedback: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (o->n_dirs < FEEDBACK_DIRS_MAX) {
            o->dirs[o->n_dirs++] = a;
        } else {
            fprintf(stderr, "cmtool feedback: at most %u inputs\n",
                    FEEDBACK_DIRS_MAX);
            return 2;
        }
    }
    if (o->n_dirs == 0 || o->out == NULL) {
        usage(stderr);
        return 2;
    }
    return 0;
}

static void
hex_of(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* OUTDIR/feedback/<label>/<hex>.eml into path; false when too long. */
static bool
stored_path(const char *out, int label, const char *hex, char *path,
            size_t cap)
{
    int n = snprintf(path, cap, "%s/%s/%s/%s.eml", out, FEEDBACK_SOURCE,
                     label_names[label], hex);

    return n > 0 && (size_t)n < cap;
}

/* A stored message's name: the hex of its digest, then ".eml". */
static bool
is_stored_name(const char *name, size_t len)
{
    size_t n_hex = 2 * FINGERPRINT_DIGEST_LEN;

    if (len != n_hex + 4 || memcmp(name + n_hex, ".eml", 4) != 0) {
        return false;
    }
    for (size_t i = 0; i < n_hex; i++) {
        if (!((name[i] >= '0' && name[i] <= '9') ||
              (name[i] >= 'a' && name[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* Temporary files a run killed between writing and renaming left in the
 * label directories (fsutil_write_temp names them by pid, so no later
 * run replaces them, and `cmtool train corpus` would read them as mail):
 * the stale ones go before this run writes. */
static void
remove_stale_temps(const struct feedback_opts *o)
{
    char dir[FEEDBACK_PATH_MAX];

    for (size_t i = 0; i < FEEDBACK_LABELS; i++) {
        int n = snprintf(dir, sizeof(dir), "%s/%s/%s", o->out,
                         FEEDBACK_SOURCE, label_names[i]);
        size_t n_removed;

        if (n <= 0 || (size_t)n >= sizeof(dir)) {
            continue;
        }
        n_removed = fsutil_remove_stale_temps_in(dir, is_stored_name);
        if (n_removed > 0) {
            log_info("%s: removed %zu temporary file(s) an interrupted "
                     "run left", dir, n_removed);
        }
    }
}

/* SHA-256 of p with every CR that ends a line (CR LF) left out: a message
 * is the same report whichever line ends the mailbox it was forwarded
 * from stored it with.  The runs between those CRs are hashed as they
 * are, no copy. */
static bool
content_digest(const uint8_t *p, size_t len,
               uint8_t out[FINGERPRINT_DIGEST_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    size_t start = 0;
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

    for (size_t i = 0; ok && i + 1 < len; i++) {
        if (p[i] == '\r' && p[i + 1] == '\n') {
            ok = EVP_DigestUpdate(ctx, p + start, i - start) == 1;
            start = i + 1;
        }
    }
    ok = ok && EVP_DigestUpdate(ctx, p + start, len - start) == 1 &&
         EVP_DigestFinal_ex(ctx, out, &n) == 1 &&
         n == FINGERPRINT_DIGEST_LEN;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* Store one extracted message under its content hash. */
static void
store(const struct feedback_opts *o, int label, const char *mail,
      const struct buf *msg, struct feedback_tally *t)
{
    uint8_t d[FINGERPRINT_DIGEST_LEN];
    char hex[2 * FINGERPRINT_DIGEST_LEN + 1];
    char path[FEEDBACK_PATH_MAX];
    char dir[FEEDBACK_PATH_MAX];

    if (!content_digest(msg->data, msg->len, d)) {
        log_error("%s: cannot hash an attached message", mail);
        t->n_errors++;
        return;
    }
    hex_of(d, sizeof(d), hex);
    for (int other = 0; other < (int)FEEDBACK_LABELS; other++) {
        if (other != label &&
            stored_path(o->out, other, hex, path, sizeof(path)) &&
            fsutil_is_file(path)) {
            log_warn("%s: the attached message %.16s is also reported as "
                     "%s; kept under both", mail, hex, label_names[other]);
            t->n_conflicts++;
        }
    }
    if (!stored_path(o->out, label, hex, path, sizeof(path)) ||
        fsutil_dirname(dir, sizeof(dir), path) != CM_OK) {
        log_error("%s: output path too long", o->out);
        t->n_errors++;
        return;
    }
    if (fsutil_is_file(path)) {
        t->n_duplicates++;
        return;
    }
    if (fsutil_mkdirs(dir, 0755) != CM_OK ||
        fsutil_write_atomic(path, msg->data, msg->len, 0644) != CM_OK) {
        log_error("%s: cannot be written", path);
        t->n_errors++;
        return;
    }
    t->n_extracted++;
    t->by_label[label]++;
}

static bool
is_blank(const struct buf *b)
{
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] != ' ' && b->data[i] != '\t' && b->data[i] != '\r' &&
            b->data[i] != '\n') {
            return false;
        }
    }
    return true;
}

/* --as-is: the mail at p (its queue envelope left out) is the message. */
static void
store_as_is(const struct feedback_opts *o, int label,
            const struct msgsrc_item *item, const uint8_t *p, size_t len,
            struct buf *msg, struct feedback_tally *t)
{
    const char *why = NULL;

    buf_reset(msg);
    if (item->is_truncated) {
        why = "may be cut";
    } else if (len > CAPS_FEEDBACK_MESSAGE_MAX_BYTES) {
        why = "too large";
    } else if (buf_append(msg, p, len) != CM_OK) {
        log_error("%s: %s", item->name, cm_strerror(CM_ENOMEM));
        t->n_errors++;
        return;
    } else if (is_blank(msg)) {
        why = "empty";
    }
    if (why != NULL) {
        log_warn("%s: %s; skipped", item->name, why);
        t->n_refused++;
        return;
    }
    store(o, label, item->name, msg, t);
}

/* The attached messages of one feedback mail. */
static void
one_mail(const struct feedback_opts *o, const struct msgsrc_item *item,
         struct buf *msg, struct feedback_tally *t)
{
    int label = o->label >= 0 ? o->label : item_label(o, item->name);
    struct envelope env;
    struct attmsg_result r;
    size_t off = 0;
    unsigned flags = 0;
    const char *why = NULL;
    const uint8_t *p;
    size_t len;

    if (label < 0) {
        log_warn("%s: not under a spam/, phish/ or ham/ folder (use "
                 "--label); skipped", item->name);
        t->n_unlabelled++;
        return;
    }
    queuefile_parse(item->data, item->len, &env, &off, &flags);
    if (queuefile_is_unusable(flags, item->is_truncated, &why)) {
        log_warn("%s: %s; skipped", item->name, why);
        t->n_unusable++;
        return;
    }
    p = item->data + off;
    len = item->len - off;
    if (o->is_as_is) {
        store_as_is(o, label, item, p, len, msg, t);
        return;
    }
    attmsg_find(p, len, &r);
    if (r.n == 0) {
        log_warn("%s: no attached message (a report must attach the "
                 "misclassified mail as message/rfc822)", item->name);
        t->n_no_attached++;
        return;
    }
    if ((r.flags & ATTMSG_COUNT_CAPPED) != 0) {
        log_warn("%s: more than %u attached messages; the rest skipped",
                 item->name, CAPS_ATTMSG_MAX);
    }
    for (size_t i = 0; i < r.n; i++) {
        const struct attmsg_span *s = &r.spans[i];
        enum cm_err rc;

        if (s->is_last_of_open ||
            (item->is_truncated && s->off + s->len == len)) {
            log_warn("%s: attached message %zu may be cut; skipped",
                     item->name, i + 1);
            t->n_refused++;
            continue;
        }
        buf_reset(msg);
        rc = attmsg_decode(p, len, s, CAPS_FEEDBACK_MESSAGE_MAX_BYTES, msg);
        if (rc == CM_OK && is_blank(msg)) {
            rc = CM_EPARSE;
        }
        if (rc == CM_ENOMEM || rc == CM_ECRYPTO) {
            log_error("%s: attached message %zu: %s", item->name, i + 1,
                      cm_strerror(rc));
            t->n_errors++;
            continue;
        }
        if (rc != CM_OK) {
            log_warn("%s: attached message %zu: %s; skipped", item->name,
                     i + 1, rc == CM_ELIMIT ? "too large"
                            : s->encoding == ATTMSG_QP
                                ? "quoted-printable (not taken)"
                            : s->encoding == ATTMSG_OTHER
                                ? "unknown transfer encoding (not taken)"
                                : "empty or broken encoding");
            t->n_refused++;
            continue;
        }
        store(o, label, item->name, msg, t);
    }
}

/*
 * Whether the file name is one this command stored: OUTDIR below a DIR
 * must not be read back as reports, or a reported message that carries an
 * attached message itself would add that one as another report on every
 * run (and within one, as the walk reaches what it just wrote).  Compared
 * by device and inode, so any spelling of the paths matches.
 */
static bool
is_own_output(const struct feedback_opts *o, const char *name)
{
    char dir[FEEDBACK_PATH_MAX];

    if (!o->has_own || fsutil_dirname(dir, sizeof(dir), name) != CM_OK) {
        return false;
    }
    return fsutil_is_within(dir, sizeof(dir), o->own_dev, o->own_ino,
                            FEEDBACK_UP_MAX);
}

/* OUTDIR/feedback, made now so it is known before the walk reaches it.
 * Not known when it cannot be made: store() reports that. */
static void
find_own(struct feedback_opts *o)
{
    char dir[FEEDBACK_PATH_MAX];
    struct stat st;
    int n = snprintf(dir, sizeof(dir), "%s/%s", o->out, FEEDBACK_SOURCE);

    o->has_own = n > 0 && (size_t)n < sizeof(dir) &&
                 fsutil_mkdirs(dir, 0755) == CM_OK && stat(dir, &st) == 0;
    if (o->has_own) {
        o->own_dev = st.st_dev;
        o->own_ino = st.st_ino;
    }
}

static void
print_summary(const struct feedback_tally *t)
{
    fprintf(stderr,
            "feedback: %zu mails read; %zu messages extracted (ham %zu, spam "
            "%zu, phish %zu), %zu already stored, %zu also under another "
            "label; %zu mails without an attached message, %zu unlabelled, "
            "%zu unusable; %zu attachments refused; %zu errors\n",
            t->n_mails, t->n_extracted, t->by_label[MODEL_LABEL_HAM],
            t->by_label[MODEL_LABEL_SPAM], t->by_label[MODEL_LABEL_PHISH],
            t->n_duplicates, t->n_conflicts, t->n_no_attached,
            t->n_unlabelled, t->n_unusable, t->n_refused, t->n_errors);
}

int
feedback_main(int argc, char **argv)
{
    struct feedback_opts o;
    struct feedback_tally t;
    struct msgsrc_conf sconf = {0};
    struct msgsrc *src;
    struct msgsrc_item item;
    struct buf msg;
    int rc = parse_args(argc, argv, &o);

    if (rc != 0) {
        return rc == 1 ? 0 : rc;
    }
    memset(&t, 0, sizeof(t));
    find_own(&o);
    remove_stale_temps(&o);
    sconf.max_body_bytes = CAPS_FEEDBACK_MAIL_MAX_BYTES;
    src = msgsrc_new(o.dirs, o.n_dirs, &sconf);
    if (src == NULL) {
        fprintf(stderr, "cmtool feedback: out of memory\n");
        return 1;
    }
    buf_init(&msg, CAPS_FEEDBACK_MESSAGE_MAX_BYTES);
    while (msgsrc_next(src, &item)) {
        /* NULL only when msgsrc ran out of memory naming a skipped item. */
        const char *name = item.name != NULL ? item.name : "(unnamed)";

        if (item.name != NULL && is_own_output(&o, item.name)) {
            msgsrc_item_clear(&item);
            continue;
        }
        if (item.kind == MSGSRC_MESSAGE) {
            t.n_mails++;
            one_mail(&o, &item, &msg, &t);
        } else if (item.kind == MSGSRC_ERROR) {
            log_error("%s: %s", name, item.why);
            t.n_errors++;
        } else {
            log_warn("%s: %s; skipped", name, item.why);
        }
        msgsrc_item_clear(&item);
    }
    msgsrc_free(src);
    buf_clear(&msg);
    print_summary(&t);
    return t.n_errors > 0 ? 1 : 0;
}
