/*
 * fuzz_protocol.c -- libFuzzer target for the request line reader: the
 * input is a stream of stdin bytes, split by protocol_linebuf in uneven
 * chunks, each line parsed and its INTF/FILE arguments decoded, and the
 * answers formatted.  Checks the invariants the helper relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

static void
handle_line(const struct protocol_linebuf *lb, struct buf *path)
{
    struct protocol_request r;
    char out[CAPS_PROTOCOL_SEQ_MAX + 64];
    size_t n = 0;
    unsigned v;

    check(lb->len <= CAPS_REQUEST_LINE_MAX);
    check(protocol_loggable_len(lb->line, lb->len) <= lb->len);
    if (protocol_parse(lb->line, lb->len, &r, NULL) != CM_OK) {
        return;
    }
    /* A parsed KEY is logged only up to its command word. */
    check(r.cmd != PROTOCOL_CMD_KEY ||
          protocol_loggable_len(lb->line, lb->len) ==
              (size_t)(r.word + r.word_len - lb->line));
    check(r.seq_len >= 1 && r.seq_len <= CAPS_PROTOCOL_SEQ_MAX);
    check(strlen(r.seq) == r.seq_len);
    check(protocol_seq_is_valid(r.seq, r.seq_len));
    check(r.word >= lb->line && r.word + r.word_len <= lb->line + lb->len);
    check(r.args >= lb->line && r.args + r.args_len <= lb->line + lb->len);
    check(protocol_format_answer(out, sizeof(out), r.seq,
                                 PROTOCOL_ANSWER_FAILURE, &n) == CM_OK);
    check(n == strlen(out) && out[n - 1] == '\n');
    check(memchr(out, '\n', n - 1) == NULL);
    switch (r.cmd) {
    case PROTOCOL_CMD_INTF:
        if (protocol_intf_version(&r, &v, NULL) == CM_OK) {
            check(protocol_format_intf(out, sizeof(out), r.seq, v, &n) ==
                  CM_OK);
        }
        break;
    case PROTOCOL_CMD_FILE:
        buf_reset(path);
        if (protocol_file_path(&r, path, NULL) == CM_OK) {
            check(path->len > 0 && path->len <= CAPS_PROTOCOL_PATH_MAX);
            check(strlen((const char *)path->data) == path->len);
            for (size_t i = 0; i < path->len; i++) {
                check(path->data[i] >= 0x20 && path->data[i] != 0x7f);
            }
        }
        break;
    case PROTOCOL_CMD_KEY:
    case PROTOCOL_CMD_QUIT:
    case PROTOCOL_CMD_UNKNOWN:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct protocol_linebuf lb;
    struct buf path;
    size_t off = 0;
    size_t chunk = 1;
    char info[64];

    buf_init(&path, CAPS_PROTOCOL_PATH_MAX);
    protocol_linebuf_init(&lb);
    while (off < size) {
        size_t want = size - off < chunk ? size - off : chunk;
        off += protocol_linebuf_feed(&lb, data + off, want);
        if (lb.is_complete) {
            handle_line(&lb, &path);
            protocol_linebuf_next(&lb);
        }
        /* Uneven read sizes, as from a pipe. */
        chunk = chunk * 7 % 4099 + 1;
    }
    if (protocol_linebuf_finish(&lb)) {
        handle_line(&lb, &path);
    }
    {
        size_t n = protocol_format_info(info, sizeof(info), (const char *)data,
                                        size);
        check(n < sizeof(info) && info[n - 1] == '\n');
        check(memchr(info, '\n', n - 1) == NULL);
        check(memchr(info, '\r', n) == NULL);
    }
    buf_clear(&path);
    return 0;
}
