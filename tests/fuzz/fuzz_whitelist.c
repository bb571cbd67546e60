/*
 * fuzz_whitelist.c -- libFuzzer target for whitelist_parse and the
 * matchers: any whitelist.cfg text loads (bad entries skipped) and can be
 * matched against a fixed envelope and message without crashing.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mime.h"
#include "queuefile.h"
#include "whitelist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
count_problem(void *ctx, const struct config_problem *p)
{
    size_t *n = ctx;

    if (p->file == NULL || p->key == NULL || p->problem == NULL) {
        __builtin_trap();
    }
    (*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct whitelist *wl = NULL;
    size_t n_problems = 0;
    size_t n_errors = 0;
    struct envelope env;
    struct mime_header headers[] = {
        {"Received", 8,
         "from mx.example.com (relay.example.net [192.0.2.1]) by us", 0,
         NULL, 0},
        {"From", 4, "Someone <someone@example.com>", 0, NULL, 0},
    };
    struct mime_doc doc;
    const char *what = NULL;

    if (whitelist_parse("fuzz.cfg", data, size, &wl, count_problem,
                        &n_problems, &n_errors) != CM_OK) {
        return 0;
    }
    if (n_errors > n_problems) {
        __builtin_trap();
    }
    memset(&env, 0, sizeof(env));
    snprintf(env.peer_ip, sizeof(env.peer_ip), "192.0.2.77");
    env.has_peer_ip = true;
    snprintf(env.return_path, sizeof(env.return_path), "a@example.com");
    env.has_return_path = true;
    snprintf(env.rcpts[0], sizeof(env.rcpts[0]), "b@example.org");
    env.n_rcpts = 1;
    (void)whitelist_match_envelope(wl, &env, &what);
    snprintf(env.peer_ip, sizeof(env.peer_ip), "2001:db8::7");
    (void)whitelist_match_envelope(wl, &env, &what);
    memset(&doc, 0, sizeof(doc));
    headers[0].value_len = strlen(headers[0].value);
    headers[0].raw_value = headers[0].value;
    headers[0].raw_value_len = headers[0].value_len;
    doc.headers = headers;
    doc.n_headers = 2;
    doc.text = "Hello world, the body text.";
    doc.text_len = strlen(doc.text);
    (void)whitelist_match_message(wl, &doc, &what);
    whitelist_free(wl);
    return 0;
}
