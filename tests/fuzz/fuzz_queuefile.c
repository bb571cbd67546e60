/*
 * fuzz_queuefile.c -- libFuzzer target for the queue file envelope
 * parser.  Checks that it stays inside the input, that every text field
 * is NUL-terminated within its array and free of control bytes, and that
 * the unusable verdict agrees with the flags.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queuefile.h"

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
    unusable = queuefile_is_unusable(flags, &why);
    check(unusable == ((flags & (QUEUEFILE_EMPTY | QUEUEFILE_NOT_MAIL |
                                 QUEUEFILE_NO_BLANK_LINE)) != 0));
    check(!unusable || why != NULL);
    check((size == 0) == ((flags & QUEUEFILE_EMPTY) != 0));
    if ((flags & QUEUEFILE_HAS_ENVELOPE) == 0) {
        check(env.n_rcpts == 0 && !env.has_return_path);
    }
    return 0;
}
