/*
 * learn.c -- CGPCloudmark LEARN spam|ham: site feedback into the local
 * layer over the cartridge (SPEC §9; the layer is sitelayer.c).
 *
 *   CGPCloudmark LEARN spam|ham [-c FILE] <file|dir>...
 *
 * Each message (queue file, RFC 822 file, .mdir folder or mbox, walked
 * like RATE) is scored on the cartridge the helper would start on (the
 * newest cached micro-update, else the embedded default) plus the current
 * layer; when it is on the wrong side -- spam below 96, ham at 10 or
 * above -- one learning step moves the layer so it lands inside.  The
 * layer is then written atomically to SiteLayerFile; a running helper
 * reloads it within a minute.  Runs at once take turns on a lock held
 * from reading the layer to the rename (lock_layer).  Messages are
 * learned in input order, so the same input gives the same layer.
 *
 * Exit: 0 the layer was written (something learned or not); 1 no input
 * was a usable message (nothing read, or only unreadable or non-mail
 * files; the layer is left as it was); 2 bad arguments or configuration;
 * 3 the layer file is unusable (left as it is: remove it to start over)
 * or cannot be written, or memory ran out.  A run is all or nothing: the
 * layer is learned in memory and written (temp file, rename) only when
 * every message was learned or found already on its side, so memory
 * running out midway leaves the file as it was, not half-learned.
 */
#include "learn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cartridge.h"
#include "config.h"
#include "engine.h"
#include "fsutil.h"
#include "log.h"
#include "msgsrc.h"
#include "queuefile.h"
#include "sitelayer.h"
#include "updater.h"
#include "whitelist.h"

/* Learning steps per message (see learn_one). */
#define LEARN_STEPS_MAX 3u
/* The sides LEARN teaches a message to (SPEC §9, the man page). */
#define LEARN_SPAM_SCORE 96u
#define LEARN_HAM_SCORE 10u

struct learn_tally {
    size_t seen;      /* messages read */
    size_t unusable;  /* unreadable or not a message */
    size_t learned;   /* a step changed the layer */
    size_t already;   /* already on the right side */
    size_t unmoved;   /* still on the wrong side after learning */
    size_t usable;    /* learned, already so, or unmoved */
    bool is_full;     /* some feature did not fit */
    bool is_out_of_memory; /* the run stopped: write nothing */
};

static void
usage(FILE *to)
{
    fprintf(to,
            "usage: CGPCloudmark LEARN spam|ham [-c CGPCloudmark.cfg] [--] "
            "<file|dir>...\n"
            "  teaches the site's own layer over the cartridge that these "
            "messages are\n"
            "  spam (to score 96 or more) or ham (to score below 10).  The "
            "layer is kept\n"
            "  in SiteLayerFile (default CGPCloudmark.learned beside the "
            "configuration),\n"
            "  survives cartridge updates, and a running helper reloads it "
            "within a minute.\n"
            "  exit 0: layer written; 1: no input was a usable message; 2: "
            "bad arguments or\n"
            "  configuration; 3: the layer file is unusable or cannot be "
            "written, or\n  memory ran out (the layer is then left as it "
            "was).\n");
}

/*
 * After learning m: whether it scores on its side (LEARN_SPAM_SCORE or
 * more for spam, below LEARN_HAM_SCORE for ham) as the helper scores it,
 * *score what it scores.  The steps see only the junk margin, and the
 * score may not follow it: the whitelist forces 0, a rule's category
 * (an executable attachment is malware), a fingerprint or reputation
 * can hold it, a weight at its limit or a full layer stops a step
 * short.  Only this says whether the message is "already scored so".
 * True also when it cannot be scored (it was parsed just before, so
 * that is no verdict on it); CM_ENOMEM sets *is_out_of_memory.
 */
static bool
lands_on_side(const struct cartridge *c, const struct sitelayer *layer,
              const struct whitelist *wl, const struct message *m,
              struct engine_scratch *scratch, bool is_junk,
              unsigned *score, bool *is_out_of_memory)
{
    struct verdict v;
    enum cm_err rc = engine_score_site(c, layer, wl, m, NULL, scratch, &v);

    if (rc != CM_OK) {
        *is_out_of_memory = rc == CM_ENOMEM;
        return true;
    }
    *score = v.score;
    return is_junk ? v.score >= LEARN_SPAM_SCORE : v.score < LEARN_HAM_SCORE;
}

/* One message: score, and learn when it is on the wrong side. */
static void
learn_one(const struct cartridge *c, struct sitelayer *layer,
          const struct whitelist *wl, struct engine_scratch *scratch,
          bool is_junk, const struct msgsrc_item *item,
          struct learn_tally *t)
{
    struct envelope env;
    struct message m;
    const uint32_t *ids = NULL;
    size_t n_ids = 0;
    size_t off = 0;
    unsigned flags = 0;
    const char *why = NULL;
    double margin;
    double spam_target;
    double ham_target;
    bool is_full = false;
    bool is_changed = false;
    bool is_on_side;
    unsigned score = 0;

    queuefile_parse(item->data, item->len, &env, &off, &flags);
    if (queuefile_is_unusable(flags, item->is_truncated, &why)) {
        log_warn("%s: %s; not learned", item->name, why);
        t->unusable++;
        return;
    }
    m.data = item->data + off;
    m.len = item->len - off;
    m.env = &env;
    m.is_truncated = item->is_truncated;
    /* A step assumes the layer's overlap gate fully open for this message
     * afterwards; a second or third look settles what it did not. */
    for (unsigned step = 0; step < LEARN_STEPS_MAX; step++) {
        bool is_step_full = false;
        bool has_step;
        enum cm_err rc;

        rc = engine_learn_view(c, layer, &m, scratch, &ids, &n_ids, &margin,
                               &spam_target, &ham_target);
        if (rc == CM_ENOMEM) {
            /* Not the message's fault, and a step of it may be in the
             * layer already: the run must not write it. */
            t->is_out_of_memory = true;
            return;
        }
        if (rc != CM_OK) {
            log_warn("%s: cannot be parsed; not learned", item->name);
            t->unusable++;
            return;
        }
        has_step = sitelayer_learn(layer, ids, n_ids, margin,
                                   is_junk ? spam_target : ham_target,
                                   is_junk, &is_step_full);
        if (sitelayer_is_out_of_memory(layer)) {
            t->is_out_of_memory = true;
            return;
        }
        if (!has_step) {
            break;
        }
        is_changed = true;
        is_full |= is_step_full;
    }
    is_on_side = lands_on_side(c, layer, wl, &m, scratch, is_junk, &score,
                               &t->is_out_of_memory);
    if (t->is_out_of_memory) {
        return;
    }
    t->usable++;
    if (!is_on_side) {
        log_warn("%s: still scores %u: the layer cannot move it there (the "
                 "whitelist, a rule, a fingerprint or reputation decides "
                 "it, or its words are at their limit)",
                 item->name, score);
        t->unmoved++;
    }
    if (is_changed) {
        t->learned++;
    } else if (is_on_side) {
        t->already++;
    }
    t->is_full |= is_full;
}

static void
learn_all(const struct config *cfg, const struct cartridge *c,
          struct sitelayer *layer, const struct whitelist *wl, bool is_junk,
          const char *const *paths, size_t n_paths, struct learn_tally *t)
{
    struct msgsrc_conf sconf = {0};
    struct msgsrc *src;
    struct engine_scratch *scratch = engine_scratch_new();
    struct msgsrc_item item;

    sconf.max_body_bytes = cfg->max_body_bytes;
    src = msgsrc_new(paths, n_paths, &sconf);
    if (src == NULL || scratch == NULL) {
        t->is_out_of_memory = true;
        msgsrc_free(src);
        engine_scratch_free(scratch);
        return;
    }
    while (!t->is_out_of_memory && msgsrc_next(src, &item)) {
        if (item.kind == MSGSRC_MESSAGE) {
            t->seen++;
            learn_one(c, layer, wl, scratch, is_junk, &item, t);
        } else if (item.kind == MSGSRC_ERROR) {
            log_warn("%s: %s", item.name, item.why);
            t->unusable++;
        } else {
            /* A folder it cannot read or past a cap, a loop, a FIFO: the
             * admin expects all of it learned and must hear what was not. */
            log_warn("%s: %s; not learned",
                     item.name != NULL ? item.name : "(input)", item.why);
        }
        msgsrc_item_clear(&item);
    }
    msgsrc_free(src);
    engine_scratch_free(scratch);
}

/*
 * Two LEARN runs at once would each read the layer, learn and rename
 * their copy over it, and the last rename would drop the other run's
 * learning.  So each run holds an exclusive lock on "<layer>.lock"
 * from before it reads the layer until after the rename.  The layer
 * itself cannot carry the lock: the rename replaces its inode.
 * Returns 0 with *fd holding the lock, else an exit status.
 */
static int
lock_layer(const char *layer_path, int *fd)
{
    char path[CONFIG_PATH_MAX + sizeof(".lock")];
    int n = snprintf(path, sizeof(path), "%s.lock", layer_path);
    enum cm_err rc;

    if (n < 0 || (size_t)n >= sizeof(path)) {
        fprintf(stderr, "CGPCloudmark LEARN: %s: path too long\n",
                layer_path);
        return 3;
    }
    rc = fsutil_lock(path, false, fd);
    if (rc == CM_OK && *fd < 0) {
        /* Said before blocking, so a run that seems stuck explains itself. */
        fprintf(stderr, "CGPCloudmark LEARN: waiting for another LEARN "
                        "to finish with %s\n",
                layer_path);
        rc = fsutil_lock(path, true, fd);
    }
    if (rc != CM_OK) {
        fprintf(stderr, "CGPCloudmark LEARN: cannot lock %s: %s\n", path,
                strerror(errno));
        return 3;
    }
    return 0;
}

/* The layer to extend: the file's, or a new one when there is none. */
static int
open_layer(const char *path, struct sitelayer **out)
{
    const char *why = NULL;
    enum cm_err rc = sitelayer_load(path, out, &why);

    if (rc == CM_ENOENT) {
        *out = sitelayer_new();
        return *out != NULL ? 0 : 3;
    }
    if (rc != CM_OK) {
        fprintf(stderr, "CGPCloudmark LEARN: %s: %s (remove it to start "
                        "a new layer)\n",
                path, why != NULL ? why : cm_strerror(rc));
        return 3;
    }
    return 0;
}

int
learn_main(int argc, char **argv)
{
    static struct config cfg;
    const char *cfg_path = NULL;
    const char *label = NULL;
    const char **paths = calloc((size_t)argc, sizeof(*paths));
    size_t n_paths = 0;
    struct cartridge *c = NULL;
    struct sitelayer *layer = NULL;
    struct whitelist *wl = NULL;
    struct learn_tally t;
    bool is_default = false;
    int lock_fd = -1;
    int status = 2;
    bool is_options_done = false;

    memset(&t, 0, sizeof(t));
    if (paths == NULL) {
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        /* "--" ends the options, so a path may start with '-'. */
        bool is_option = !is_options_done && argv[i][0] == '-';

        if (is_option && (strcmp(argv[i], "--help") == 0 ||
                          strcmp(argv[i], "-h") == 0)) {
            usage(stdout);
            free(paths);
            return 0;
        }
        if (is_option && strcmp(argv[i], "--") == 0) {
            is_options_done = true;
        } else if (is_option && strcmp(argv[i], "-c") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "CGPCloudmark LEARN: option -c needs a "
                                "value\n");
                free(paths);
                return 2;
            }
            cfg_path = argv[++i];
        } else if (label == NULL && (strcasecmp(argv[i], "spam") == 0 ||
                                     strcasecmp(argv[i], "ham") == 0)) {
            label = argv[i];
        } else if (is_option) {
            fprintf(stderr, "CGPCloudmark LEARN: unknown option %s\n",
                    argv[i]);
            free(paths);
            return 2;
        } else {
            paths[n_paths++] = argv[i];
        }
    }
    if (label == NULL || n_paths == 0) {
        usage(stderr);
        free(paths);
        return 2;
    }
    /* A mistyped -c would learn with the defaults into a layer no helper
     * may read: refuse it, as RATE does. */
    if (!config_given_file_exists("CGPCloudmark LEARN", cfg_path)) {
        free(paths);
        return 2;
    }
    if (config_load(cfg_path, &cfg, config_problem_log, NULL, NULL) != CM_OK ||
        updater_load_startup(&cfg, &c, &is_default, NULL) != CM_OK) {
        fprintf(stderr, "CGPCloudmark LEARN: no usable configuration or "
                        "cartridge\n");
        cartridge_unref(c);
        free(paths);
        return 2;
    }
    /* The whitelist the helper scores with: a message it forces to 0
     * cannot be taught to score 96, and LEARN must say so. */
    if (cfg.whitelist_cfg_path[0] != '\0' &&
        whitelist_load(cfg.whitelist_cfg_path, &wl, config_problem_log, NULL,
                       NULL) != CM_OK) {
        fprintf(stderr, "CGPCloudmark LEARN: out of memory while reading "
                        "%s\n",
                cfg.whitelist_cfg_path);
        cartridge_unref(c);
        free(paths);
        return 3;
    }
    status = lock_layer(cfg.sitelayer_path, &lock_fd);
    if (status == 0) {
        /* Temporary files are named by pid, so those a killed LEARN left
         * are never replaced: remove the stale ones of the layer. */
        if (fsutil_remove_stale_temps(cfg.sitelayer_path) > 0) {
            fprintf(stderr, "CGPCloudmark LEARN: removed temporary files "
                            "an interrupted run left beside %s\n",
                    cfg.sitelayer_path);
        }
        status = open_layer(cfg.sitelayer_path, &layer);
    }
    if (status == 0) {
        bool is_junk = strcasecmp(label, "spam") == 0;

        learn_all(&cfg, c, layer, wl, is_junk, paths, n_paths, &t);
        if (t.is_out_of_memory) {
            fprintf(stderr, "CGPCloudmark LEARN: out of memory; %s not "
                            "changed\n",
                    cfg.sitelayer_path);
            status = 3;
        } else if (t.usable == 0) {
            /* Files that were read but none of them mail (a wrong folder,
             * a mail client's index files) taught nothing: saying
             * "written" with exit 0 would hide the mistake from the
             * administrator's script. */
            fprintf(stderr, "CGPCloudmark LEARN: no usable message among "
                            "the inputs (%zu unreadable or not mail); %s "
                            "not changed\n",
                    t.unusable, cfg.sitelayer_path);
            status = 1;
        } else if (sitelayer_save(layer, cfg.sitelayer_path) != CM_OK) {
            fprintf(stderr, "CGPCloudmark LEARN: cannot write %s\n",
                    cfg.sitelayer_path);
            status = 3;
        }
    }
    if (status == 0) {
        printf("learned %zu of %zu messages as %s (%zu already scored "
               "so, %zu still on the other side, %zu unusable) on "
               "cartridge %llu%s; %s holds %zu features%s\n",
               t.learned, t.seen, label, t.already, t.unmoved,
               t.unusable, (unsigned long long)cartridge_version(c),
               is_default ? " (default)" : "", cfg.sitelayer_path,
               sitelayer_count(layer),
               t.is_full ? " (full: some features were not added)" : "");
    }
    fsutil_unlock(lock_fd);
    sitelayer_free(layer);
    whitelist_free(wl);
    cartridge_unref(c);
    free(paths);
    return status;
}
