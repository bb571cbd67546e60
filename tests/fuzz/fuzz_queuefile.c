/*
 * fuzz_queuefile.c -- libFuzzer target for the helper's whole mail path
 * on one queue file: the envelope parser, then (when the file is usable)
 * engine_score on the embedded default cartridge -- MIME, decoders,
 * charsets, HTML to text, URL extraction, features, model, heuristics --
 * and render_answer.  Checks that the envelope parser stays inside the
 * input, that every text field is NUL-terminated within its array and
 * free of control bytes, that the unusable verdict agrees with the flags,
 * and that the answer is one bounded line with a score in 0..100.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cartridge.h"
#include "config.h"
#include "engine.h"
#include "queuefile.h"
#include "render.h"

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

static void
check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    check(n < cap);
    for (size_t i = 0; i < n; i++) {
        check((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Made once and kept for the process (as the helper does). */
static struct cartridge *fuzz_cart;
static struct engine_scratch *fuzz_scratch;
static struct config fuzz_cfg;

static void
score(const uint8_t *data, size_t size, size_t msg_off,
      const struct envelope *env)
{
    struct message msg;
    struct verdict v;
    char answer[CAPS_ANSWER_MAX + 2];
    size_t n = 0;
    const char *why = NULL;

    if (fuzz_cart == NULL) {
        check(cartridge_load_default(&fuzz_cart, &why) == CM_OK);
        fuzz_scratch = engine_scratch_new();
        check(fuzz_scratch != NULL);
        config_defaults(&fuzz_cfg);
    }
    msg.data = data + msg_off;
    msg.len = size - msg_off;
    msg.env = env;
    msg.is_truncated = false;
    check(engine_score(fuzz_cart, NULL, &msg, NULL, fuzz_scratch, &v) ==
          CM_OK);
    check(v.score <= 100);
    check(strnlen(v.analysis, sizeof(v.analysis)) < sizeof(v.analysis));
    check(render_answer(&fuzz_cfg, "7", &v, answer, sizeof(answer), &n) ==
          CM_OK);
    check(n > 0 && n <= CAPS_ANSWER_MAX + 1 && answer[n - 1] == '\n');
    check(memchr(answer, '\n', n - 1) == NULL &&
          memchr(answer, '\r', n) == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct envelope env;
    size_t msg_off = 12345;
    unsigned flags = 0;
    const char *why = NULL;
    bool unusable;

    queuefile_parse(data, size, &env, &msg_off, &flags);
    check(msg_off <= size);
    check(env.n_rcpts <= CAPS_ENVELOPE_RCPTS);
    check_text(env.return_path, sizeof(env.return_path));
    check_text(env.source, sizeof(env.source));
    check_text(env.auth_user, sizeof(env.auth_user));
    check_text(env.peer_ip, sizeof(env.peer_ip));
    for (size_t i = 0; i < env.n_rcpts; i++) {
        check_text(env.rcpts[i], sizeof(env.rcpts[i]));
        check(env.rcpts[i][0] != '\0');
    }
    check(env.has_peer_ip == (env.peer_ip[0] != '\0'));
    check(env.is_authenticated == (env.auth_user[0] != '\0'));
    unusable = queuefile_is_unusable(flags, false, &why);
    check(unusable == ((flags & (QUEUEFILE_EMPTY | QUEUEFILE_NOT_MAIL |
                                 QUEUEFILE_NO_BLANK_LINE)) != 0));
    check(!unusable || why != NULL);
    /* A header-only message counts as cut when the file was. */
    check(queuefile_is_unusable(flags, true, NULL) ==
          (unusable || (flags & QUEUEFILE_HEADER_TO_END) != 0));
    check((flags & QUEUEFILE_HEADER_TO_END) == 0 ||
          (flags & QUEUEFILE_NO_BLANK_LINE) == 0);
    check((size == 0) == ((flags & QUEUEFILE_EMPTY) != 0));
    if ((flags & QUEUEFILE_HAS_ENVELOPE) == 0) {
        check(env.n_rcpts == 0 && !env.has_return_path);
    }
    if (!unusable) {
        score(data, size, msg_off, &env);
    }
    return 0;
}
