/*
 * test_queuefile.c -- CGP queue file envelopes (include/queuefile.h).
 *
 * Every input is copied into a heap block of exactly its length, so ASan
 * catches any read past len (there is never a NUL after the data).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "queuefile.h"

struct parsed {
    struct envelope env;
    size_t msg_off;
    unsigned flags;
};

static void
parse_bytes(const void *p, size_t len, struct parsed *out)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);

    assert_non_null(copy);
    if (len > 0) {
        memcpy(copy, p, len);
    }
    queuefile_parse(copy, len, &out->env, &out->msg_off, &out->flags);
    free(copy);
}

static void
parse_text(const char *s, struct parsed *out)
{
    parse_bytes(s, strlen(s), out);
}

static const char full_lf[] =
    "P I 17-09-2001 09:52:33 0000 ____ ____ <ann@example.org>\n"
    "O T\n"
    "S <user1@example.org> SMTP [192.0.2.7]\n"
    "A mx.example.org\n"
    "R W 17-09-2001 09:52:33 0000 ____ _FY_ <bob@example.net>\n"
    "R W 17-09-2001 09:52:33 0000 ____ _FY_ <carol@example.net>\n"
    "\n"
    "From: Ann <ann@example.org>\n"
    "Subject: hello\n"
    "\n"
    "body\n";

static void
test_queuefile_envelope_lf(void **state)
{
    struct parsed r;
    const char *msg = strstr(full_lf, "From: Ann");

    (void)state;
    parse_text(full_lf, &r);
    assert_int_equal(r.flags, QUEUEFILE_HAS_ENVELOPE);
    assert_int_equal(r.msg_off, (size_t)(msg - full_lf));
    assert_true(r.env.has_return_path);
    assert_string_equal(r.env.return_path, "ann@example.org");
    assert_int_equal(r.env.n_rcpts, 2);
    assert_string_equal(r.env.rcpts[0], "bob@example.net");
    assert_string_equal(r.env.rcpts[1], "carol@example.net");
    assert_string_equal(r.env.source, "SMTP");
    assert_true(r.env.is_authenticated);
    assert_string_equal(r.env.auth_user, "user1@example.org");
    assert_true(r.env.has_peer_ip);
    assert_string_equal(r.env.peer_ip, "192.0.2.7");
    assert_false(queuefile_is_unusable(r.flags, false, NULL));
}

static void
test_queuefile_envelope_crlf(void **state)
{
    static const char text[] =
        "P I 01-01-2024 00:00:00 0000 ____ ____ <>\r\n"
        "S SMTP [2001:db8::25]\r\n"
        "R W 01-01-2024 00:00:00 0000 ____ _FY_ <bob@example.net>\r\n"
        "\r\n"
        "Subject: x\r\n"
        "\r\n"
        "b\r\n";
    struct parsed r;

    (void)state;
    parse_text(text, &r);
    assert_int_equal(r.flags, QUEUEFILE_HAS_ENVELOPE);
    assert_int_equal(r.msg_off, (size_t)(strstr(text, "Subject") - text));
    /* "<>" is a bounce: a return path that is empty. */
    assert_true(r.env.has_return_path);
    assert_string_equal(r.env.return_path, "");
    assert_int_equal(r.env.n_rcpts, 1);
    assert_string_equal(r.env.rcpts[0], "bob@example.net");
    assert_string_equal(r.env.source, "SMTP");
    assert_false(r.env.is_authenticated);
    assert_true(r.env.has_peer_ip);
    assert_string_equal(r.env.peer_ip, "2001:db8::25");
}

static void
test_queuefile_source_forms(void **state)
{
    struct parsed r;

    (void)state;
    parse_text("S SMTP [IPv6:2001:db8::1]\n\nA: b\n\n", &r);
    assert_true(r.env.has_peer_ip);
    assert_string_equal(r.env.peer_ip, "2001:db8::1");
    assert_string_equal(r.env.source, "SMTP");

    parse_text("S HTTPU [10.1.11.6]\n\nA: b\n\n", &r);
    assert_string_equal(r.env.source, "HTTPU");
    assert_string_equal(r.env.peer_ip, "10.1.11.6");

    /* Not an address: no peer IP, the rest still parsed. */
    parse_text("S SMTP [999.1.1.1]\n\nA: b\n\n", &r);
    assert_false(r.env.has_peer_ip);
    assert_string_equal(r.env.source, "SMTP");
    parse_text("S SMTP [1.2.3.4%eth0]\n\nA: b\n\n", &r);
    assert_false(r.env.has_peer_ip);
    parse_text("S SMTP [1.2.3.4\n\nA: b\n\n", &r);
    assert_false(r.env.has_peer_ip);

    /* No bracket at all, and the first S line wins. */
    parse_text("S PIPE\nS SMTP [192.0.2.1]\n\nA: b\n\n", &r);
    assert_string_equal(r.env.source, "PIPE");
    assert_false(r.env.has_peer_ip);

    /* Only the first S line counts, even when it held nothing usable
     * (fuzzer find: a later line used to clear the auth user). */
    parse_text("S <u@example.org> S\x01\n"
               "S <bad\x01user> SMTP [192.0.2.1]\n\nA: b\n\n", &r);
    assert_true(r.env.is_authenticated);
    assert_string_equal(r.env.auth_user, "u@example.org");
    assert_string_equal(r.env.source, "");
    assert_false(r.env.has_peer_ip);
    assert_true(r.flags & QUEUEFILE_ENVELOPE_CAPPED);

    /* Empty auth user is not an authentication. */
    parse_text("S <> SMTP [192.0.2.1]\n\nA: b\n\n", &r);
    assert_false(r.env.is_authenticated);
    assert_string_equal(r.env.source, "SMTP");
    assert_string_equal(r.env.peer_ip, "192.0.2.1");

    /* A source too long for its field is dropped and flagged. */
    parse_text("S ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH [192.0.2.1]\n\nA: b\n\n",
               &r);
    assert_string_equal(r.env.source, "");
    assert_true(r.flags & QUEUEFILE_ENVELOPE_CAPPED);
    assert_true(r.env.has_peer_ip);
}

static void
test_queuefile_other_lines(void **state)
{
    struct parsed r;

    (void)state;
    /* O alone, unknown letters, a P without <...>. */
    parse_text("O\nX whatever\nZ\nP no address here\n\nA: b\n\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_HAS_ENVELOPE);
    assert_false(r.env.has_return_path);
    assert_int_equal(r.env.n_rcpts, 0);
    /* Address between the last '<' and the '>' after it. */
    parse_text("P x <a@b> <c@d>\nR <e> y <f@g>\n\nA: b\n\n", &r);
    assert_string_equal(r.env.return_path, "c@d");
    assert_string_equal(r.env.rcpts[0], "f@g");
    /* A quoted local part may hold '<' and '>' (RFC 5321 qtext): MAIL
     * FROM:<"x<ceo@partner.example>"@evil.example> is evil.example's,
     * not "ceo@partner.example" -- which a mail-from whitelist entry or
     * the sender-domain reputation would have taken it for. */
    parse_text("P I 17-09-2001 09:52:33 0000 ____ ____ "
               "<\"x<ceo@partner.example>\"@evil.example>\n"
               "R W 17-09-2001 09:52:33 0000 ____ _FY_ "
               "<\"a\\\"<b@c>\"@d.example>\n\nA: b\n\n", &r);
    assert_true(r.env.has_return_path);
    assert_string_equal(r.env.return_path,
                        "\"x<ceo@partner.example>\"@evil.example");
    assert_int_equal(r.env.n_rcpts, 1);
    assert_string_equal(r.env.rcpts[0], "\"a\\\"<b@c>\"@d.example");
    /* A last group whose quote never closes is no address. */
    parse_text("P <a@b> <\"c>\n\nA: b\n\n", &r);
    assert_false(r.env.has_return_path);
    /* A control byte in an address drops it. */
    parse_text("R <a\x01" "b>\n\nA: b\n\n", &r);
    assert_int_equal(r.env.n_rcpts, 0);
    assert_true(r.flags & QUEUEFILE_ENVELOPE_CAPPED);
}

static void
test_queuefile_plain_message(void **state)
{
    struct parsed r;

    (void)state;
    parse_text("Received: from x\n\tby y\nSubject: s\n\nbody\n", &r);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.msg_off, 0);
    assert_int_equal(r.env.n_rcpts, 0);
    assert_false(r.env.has_return_path);
    assert_false(queuefile_is_unusable(r.flags, false, NULL));
    /* A header line whose name is one capital letter. */
    parse_text("X: y\n\n", &r);
    assert_int_equal(r.flags, 0);
    /* Headers only, ending with the empty line. */
    parse_text("Subject: s\r\n\r\n", &r);
    assert_int_equal(r.flags, 0);
}

static void
test_queuefile_mbox_from(void **state)
{
    static const char text[] =
        "From <>(flags) Mon Jan  1 00:00:00 2024\nSubject: s\n\nbody\n";
    struct parsed r;

    (void)state;
    parse_text(text, &r);
    assert_int_equal(r.flags, QUEUEFILE_MBOX_FROM);
    assert_int_equal(r.msg_off, (size_t)(strstr(text, "Subject") - text));
    assert_false(queuefile_is_unusable(r.flags, false, NULL));
}

/* A .eml saved by a Windows editor starts with a UTF-8 byte order mark;
 * the message is the header after it, not a file that is not mail.  Only
 * before a header line: a BOM before anything else is still not mail. */
static void
test_queuefile_utf8_bom(void **state)
{
    static const char text[] = "\xEF\xBB\xBF" "From: a@example.org\r\n"
                               "Subject: s\r\n\r\nbody\r\n";
    struct parsed r;

    (void)state;
    parse_text(text, &r);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.msg_off, 3);
    assert_false(queuefile_is_unusable(r.flags, false, NULL));
    parse_text("\xEF\xBB\xBF" "hello world\n\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NOT_MAIL);
    parse_text("\xEF\xBB\xBF", &r);
    assert_int_equal(r.flags, QUEUEFILE_NOT_MAIL);
    /* A queue file's envelope never follows one. */
    parse_text("\xEF\xBB\xBF" "P <a@example.org>\n\nFrom: a\n\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NOT_MAIL);
}

static void
test_queuefile_empty(void **state)
{
    struct parsed r;
    const char *why = NULL;

    (void)state;
    parse_bytes("", 0, &r);
    assert_int_equal(r.flags, QUEUEFILE_EMPTY);
    assert_int_equal(r.msg_off, 0);
    assert_true(queuefile_is_unusable(r.flags, false, &why));
    assert_non_null(why);
    queuefile_parse(NULL, 10, &r.env, &r.msg_off, &r.flags);
    assert_int_equal(r.flags, QUEUEFILE_EMPTY);
}

static void
test_queuefile_not_mail(void **state)
{
    static const uint8_t junk[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, '\n'};
    struct parsed r;
    const char *why = NULL;

    (void)state;
    parse_bytes(junk, sizeof(junk), &r);
    assert_int_equal(r.flags, QUEUEFILE_NOT_MAIL);
    assert_true(queuefile_is_unusable(r.flags, false, &why));
    assert_non_null(why);
    parse_text(" folded: start\n\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NOT_MAIL);
    parse_text("\nbody only\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NOT_MAIL);
    parse_text("hello world\n\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NOT_MAIL);
    parse_text(": no name\n\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NOT_MAIL);
    parse_text("Pfoo\n\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NOT_MAIL);
}

static void
test_queuefile_no_blank_line(void **state)
{
    struct parsed r;
    const char *why = NULL;

    (void)state;
    /* Envelope running to the end. */
    parse_text("P <a@b>\nR <c@d>\n", &r);
    assert_true(r.flags & QUEUEFILE_NO_BLANK_LINE);
    assert_true(queuefile_is_unusable(r.flags, false, &why));
    assert_non_null(why);
    parse_text("P <a@b>\nR <c@d>", &r);
    assert_true(r.flags & QUEUEFILE_NO_BLANK_LINE);
    /* Envelope straight into the header. */
    parse_text("P <a@b>\nSubject: x\n\nbody\n", &r);
    assert_true(r.flags & QUEUEFILE_NO_BLANK_LINE);
    /* Envelope, blank line, then nothing. */
    parse_text("P <a@b>\n\n", &r);
    assert_true(r.flags & QUEUEFILE_NO_BLANK_LINE);
    /* Envelope fine, then a message that is all header (RFC 5322 allows
     * a message with no body): usable unless the file was cut. */
    parse_text("P <a@b>\n\nSubject: x\nFrom: y\n", &r);
    assert_int_equal(r.flags,
                     QUEUEFILE_HAS_ENVELOPE | QUEUEFILE_HEADER_TO_END);
    assert_int_equal(r.msg_off, 9);
    assert_false(queuefile_is_unusable(r.flags, false, NULL));
    assert_true(queuefile_is_unusable(r.flags, true, NULL));
    /* Plain and mbox messages of header lines only, folded lines too. */
    parse_text("Subject: x\nFrom: y", &r);
    assert_int_equal(r.flags, QUEUEFILE_HEADER_TO_END);
    parse_text("Subject: x\r\n  y\r\nFROM: z\r\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_HEADER_TO_END);
    parse_text("From x\nSubject: x\nfrom: y\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_MBOX_FROM | QUEUEFILE_HEADER_TO_END);
    /* Without a From field, "key: value" lines are not a message. */
    parse_text("Subject: x\nTo: y\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NO_BLANK_LINE);
    parse_text("bad.cfg:3: value out of range\nFromage: z\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NO_BLANK_LINE);
    /* A line that is neither a header nor a continuation, before any
     * blank line: a corrupt file, as before. */
    parse_text("From: y\nnot a header\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NO_BLANK_LINE);
    parse_text("P <a@b>\n\nFrom: y\n\x01\x02\n", &r);
    assert_true(r.flags & QUEUEFILE_NO_BLANK_LINE);
    /* A message with no header at all is fine. */
    parse_text("P <a@b>\n\n\nbody\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_HAS_ENVELOPE);
    /* The header's end: an empty line with CRLF or LF, or a lone CR as
     * the last line; a CR with more on its line, or a blank line, is no
     * end. */
    parse_text("Subject: x\r\nFrom: y\r\n\r\nbody\r\n", &r);
    assert_int_equal(r.flags, 0);
    parse_text("Subject: x\r\nFrom: y\n\nbody", &r);
    assert_int_equal(r.flags, 0);
    parse_text("Subject: x\nFrom: y\n\r", &r);
    assert_int_equal(r.flags, 0);
    parse_text("Subject: x\nFrom: y\n\rbody\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NO_BLANK_LINE);
    parse_text("Subject: x\nFrom: y\n \nbody\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NO_BLANK_LINE);
    parse_text("Subject: x\nFrom: y\n\r\r\nbody\n", &r);
    assert_int_equal(r.flags, QUEUEFILE_NO_BLANK_LINE);
}

static void
test_queuefile_rcpt_cap(void **state)
{
    struct buf b;
    struct parsed r;

    (void)state;
    buf_init(&b, 1u << 20);
    for (unsigned i = 0; i < CAPS_ENVELOPE_RCPTS; i++) {
        buf_printf(&b, "R W x <u%u@example.net>\n", i);
    }
    buf_puts(&b, "\nSubject: s\n\n");
    parse_bytes(b.data, b.len, &r);
    assert_int_equal(r.flags, QUEUEFILE_HAS_ENVELOPE);
    assert_int_equal(r.env.n_rcpts, CAPS_ENVELOPE_RCPTS);

    buf_reset(&b);
    for (unsigned i = 0; i < CAPS_ENVELOPE_RCPTS + 1; i++) {
        buf_printf(&b, "R W x <u%u@example.net>\n", i);
    }
    buf_puts(&b, "\nSubject: s\n\n");
    parse_bytes(b.data, b.len, &r);
    assert_int_equal(r.flags,
                     QUEUEFILE_HAS_ENVELOPE | QUEUEFILE_ENVELOPE_CAPPED);
    assert_int_equal(r.env.n_rcpts, CAPS_ENVELOPE_RCPTS);
    assert_string_equal(r.env.rcpts[CAPS_ENVELOPE_RCPTS - 1],
                        "u63@example.net");
    assert_false(queuefile_is_unusable(r.flags, false, NULL));
    buf_clear(&b);
}

static void
test_queuefile_line_cap(void **state)
{
    struct buf b;
    struct parsed r;

    (void)state;
    buf_init(&b, 1u << 20);
    for (unsigned i = 0; i < CAPS_ENVELOPE_LINES; i++) {
        buf_puts(&b, "O T\n");
    }
    buf_puts(&b, "\nSubject: s\n\n");
    parse_bytes(b.data, b.len, &r);
    assert_int_equal(r.flags, QUEUEFILE_HAS_ENVELOPE);
    assert_int_equal(r.msg_off, CAPS_ENVELOPE_LINES * 4u + 1u);

    /* More envelope lines than the cap (a message to 5000 recipients):
     * the lines past it are skipped, the message is still found and
     * scored; only the envelope is flagged capped. */
    buf_reset(&b);
    buf_puts(&b, "P I x <ann@example.org>\n");
    for (unsigned i = 0; i < CAPS_ENVELOPE_LINES + 904; i++) {
        buf_printf(&b, "R W x <u%u@example.net>\n", i);
    }
    buf_puts(&b, "S SMTP [192.0.2.7]\n");
    buf_puts(&b, "\nSubject: s\n\n");
    parse_bytes(b.data, b.len, &r);
    assert_int_equal(r.flags,
                     QUEUEFILE_HAS_ENVELOPE | QUEUEFILE_ENVELOPE_CAPPED);
    assert_false(queuefile_is_unusable(r.flags, false, NULL));
    assert_int_equal(r.msg_off, b.len - strlen("Subject: s\n\n"));
    assert_string_equal(r.env.return_path, "ann@example.org");
    assert_int_equal(r.env.n_rcpts, CAPS_ENVELOPE_RCPTS);
    assert_false(r.env.has_peer_ip); /* past the cap: not parsed */

    /* Envelope lines up to the end of what was read: still no end. */
    buf_reset(&b);
    for (unsigned i = 0; i < CAPS_ENVELOPE_LINES + 1; i++) {
        buf_puts(&b, "O T\n");
    }
    parse_bytes(b.data, b.len, &r);
    assert_true(r.flags & QUEUEFILE_ENVELOPE_CAPPED);
    assert_true(r.flags & QUEUEFILE_NO_BLANK_LINE);
    assert_true(queuefile_is_unusable(r.flags, false, NULL));
    buf_clear(&b);
}

static void
test_queuefile_addr_cap(void **state)
{
    char addr[CAPS_ADDR_MAX + 1];
    char line[2 * CAPS_ADDR_MAX + 64];
    struct parsed r;

    (void)state;
    memset(addr, 'a', sizeof(addr));
    addr[CAPS_ADDR_MAX - 1] = '\0'; /* the longest that fits */
    snprintf(line, sizeof(line), "P <%s>\nR <%s>\n\nA: b\n\n", addr, addr);
    parse_text(line, &r);
    assert_int_equal(r.flags, QUEUEFILE_HAS_ENVELOPE);
    assert_int_equal(strlen(r.env.return_path), CAPS_ADDR_MAX - 1);
    assert_int_equal(r.env.n_rcpts, 1);

    addr[CAPS_ADDR_MAX - 1] = 'a';
    addr[CAPS_ADDR_MAX] = '\0'; /* one byte too long: dropped, not cut */
    snprintf(line, sizeof(line), "P <%s>\nR <%s>\n\nA: b\n\n", addr, addr);
    parse_text(line, &r);
    assert_int_equal(r.flags,
                     QUEUEFILE_HAS_ENVELOPE | QUEUEFILE_ENVELOPE_CAPPED);
    assert_false(r.env.has_return_path);
    assert_string_equal(r.env.return_path, "");
    assert_int_equal(r.env.n_rcpts, 0);
}

static void
test_queuefile_unusable_reasons(void **state)
{
    const char *why = "untouched";

    (void)state;
    assert_false(queuefile_is_unusable(0, false, &why));
    assert_string_equal(why, "untouched");
    assert_false(queuefile_is_unusable(QUEUEFILE_HAS_ENVELOPE |
                                           QUEUEFILE_MBOX_FROM |
                                           QUEUEFILE_ENVELOPE_CAPPED,
                                       false, &why));
    assert_string_equal(why, "untouched");
    /* A message of header lines only: scored when whole, not when cut. */
    assert_false(queuefile_is_unusable(QUEUEFILE_HEADER_TO_END, false, &why));
    assert_string_equal(why, "untouched");
    assert_true(queuefile_is_unusable(QUEUEFILE_HEADER_TO_END, true, &why));
    assert_string_not_equal(why, "untouched");
    assert_true(queuefile_is_unusable(QUEUEFILE_EMPTY, false, &why));
    assert_string_not_equal(why, "untouched");
    why = NULL;
    assert_true(queuefile_is_unusable(QUEUEFILE_NOT_MAIL, false, &why));
    assert_non_null(why);
    why = NULL;
    assert_true(queuefile_is_unusable(QUEUEFILE_NO_BLANK_LINE, false, &why));
    assert_non_null(why);
    assert_true(queuefile_is_unusable(QUEUEFILE_NO_BLANK_LINE, false, NULL));
}

/* A header longer than the bytes read (Max_Body_Length) is cut before
 * its blank line, mostly inside a Received line and before the From
 * field: the reason names the limit, not a missing blank line that the
 * file does have ("no blank line after the envelope or header" sent
 * administrators looking at intact queue files). */
static void
test_queuefile_cut_header_reason(void **state)
{
    static const char cut[] =
        "P I 01-01-2024 00:00:00 0000 ____ ____ <a@example.org>\n"
        "R W 01-01-2024 00:00:00 0000 ____ _FY_ <b@example.com>\n"
        "\n"
        "Received: from relay1.example.net by mx.example.org\n"
        "Received: from relay2.exa";
    struct parsed r;
    const char *why = NULL;

    (void)state;
    parse_text(cut, &r);
    assert_true(r.flags & QUEUEFILE_NO_BLANK_LINE);
    assert_true(queuefile_is_unusable(r.flags, true, &why));
    assert_non_null(why);
    assert_non_null(strstr(why, "Max_Body_Length"));
    /* The same bytes as a whole file: no blank line, as before. */
    why = NULL;
    assert_true(queuefile_is_unusable(r.flags, false, &why));
    assert_string_equal(why, "no blank line after the envelope or header");
}

static void
test_queuefile_every_prefix(void **state)
{
    size_t len = strlen(full_lf);
    struct parsed r;

    (void)state;
    /* Every cut of a valid file parses within bounds (ASan checks). */
    for (size_t n = 0; n <= len; n++) {
        parse_bytes(full_lf, n, &r);
        assert_true(r.msg_off <= n);
        assert_true(r.env.n_rcpts <= CAPS_ENVELOPE_RCPTS);
    }
}

/* One envelope reused across files (as the helper's worker does): a file
 * without an envelope after a full one reads as empty, although only the
 * counts, flags and first string bytes are cleared. */
static void
test_queuefile_reused_envelope_is_empty(void **state)
{
    static const char plain[] = "Subject: x\n\nbody\n";
    struct parsed r;

    (void)state;
    memset(&r, 0xa5, sizeof(r));
    parse_text(full_lf, &r);
    assert_int_equal(r.env.n_rcpts, 2);
    parse_text(plain, &r);
    assert_int_equal(r.flags, 0);
    assert_string_equal(r.env.return_path, "");
    assert_false(r.env.has_return_path);
    assert_int_equal(r.env.n_rcpts, 0);
    assert_string_equal(r.env.source, "");
    assert_string_equal(r.env.auth_user, "");
    assert_false(r.env.is_authenticated);
    assert_string_equal(r.env.peer_ip, "");
    assert_false(r.env.has_peer_ip);
    /* Never-used garbage also reads as empty. */
    memset(&r, 0xa5, sizeof(r));
    parse_bytes("", 0, &r);
    assert_int_equal(r.env.n_rcpts, 0);
    assert_string_equal(r.env.return_path, "");
    assert_false(r.env.has_peer_ip);
}

/* queuefile_envelope_len agrees with queuefile_parse's message offset on
 * every cut of a file with an envelope (and is the whole cut while the
 * envelope has not ended); it is 0 for the other forms. */
static void
test_queuefile_envelope_len(void **state)
{
    static const char crlf[] = "P I x <a@example.org>\r\nR W x <b@x.org>"
                               "\r\n\r\nSubject: x\r\n\r\nbody\r\n";
    static const char noblank[] = "P I x <a@example.org>\nSubject: x\n\n";
    size_t len = strlen(full_lf);
    const uint8_t *p = (const uint8_t *)full_lf;
    size_t env_end = strstr(full_lf, "\n\nFrom:") + 2 - full_lf;
    struct parsed r;

    (void)state;
    for (size_t n = 0; n <= len; n++) {
        size_t got = queuefile_envelope_len(p, n);

        if (n >= env_end) {
            parse_bytes(full_lf, n, &r);
            assert_int_equal(got, env_end);
            assert_int_equal(got, r.msg_off);
        } else {
            assert_int_equal(got, n);
        }
    }
    assert_int_equal(queuefile_envelope_len((const uint8_t *)crlf,
                                            strlen(crlf)),
                     strstr(crlf, "Subject") - crlf);
    /* a header where the empty line should be: the envelope ends there */
    assert_int_equal(queuefile_envelope_len((const uint8_t *)noblank,
                                            strlen(noblank)),
                     strstr(noblank, "Subject") - noblank);
    assert_int_equal(queuefile_envelope_len((const uint8_t *)"Subject: x\n"
                                            "\nbody\n", 17),
                     0);
    assert_int_equal(queuefile_envelope_len(
                         (const uint8_t *)"From a@b Mon Jun  1 10:00:00 "
                                          "2026\nSubject: x\n\n", 45),
                     0);
    assert_int_equal(queuefile_envelope_len(NULL, 0), 0);
    assert_int_equal(queuefile_read_max(1024),
                     1024 + CAPS_ENVELOPE_MAX_BYTES);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queuefile_envelope_lf),
        cmocka_unit_test(test_queuefile_envelope_crlf),
        cmocka_unit_test(test_queuefile_source_forms),
        cmocka_unit_test(test_queuefile_other_lines),
        cmocka_unit_test(test_queuefile_plain_message),
        cmocka_unit_test(test_queuefile_mbox_from),
        cmocka_unit_test(test_queuefile_empty),
        cmocka_unit_test(test_queuefile_not_mail),
        cmocka_unit_test(test_queuefile_no_blank_line),
        cmocka_unit_test(test_queuefile_rcpt_cap),
        cmocka_unit_test(test_queuefile_line_cap),
        cmocka_unit_test(test_queuefile_addr_cap),
        cmocka_unit_test(test_queuefile_unusable_reasons),
        cmocka_unit_test(test_queuefile_cut_header_reason),
        cmocka_unit_test(test_queuefile_every_prefix),
        cmocka_unit_test(test_queuefile_reused_envelope_is_empty),
        cmocka_unit_test(test_queuefile_envelope_len),
        cmocka_unit_test(test_queuefile_utf8_bom),
    };

    return cmocka_run_group_tests_name("queuefile", tests, NULL, NULL);
}
