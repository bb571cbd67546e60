/*
 * caps.h -- every hard limit in CGPCloudmark, with the reason for it.
 *
 * Each cap protects the mail path from a hostile or broken input: a value
 * from configuration may lower a cap but never raise it above the ceiling
 * named here.  Modules add their caps in their own section below; nothing
 * else in the tree hard-codes a limit.
 */
#ifndef CM_CAPS_H
#define CM_CAPS_H

/* ---- base ---------------------------------------------------------- */

/* CGP refuses response lines longer than 4096 bytes (Helpers.html). */
#define CAPS_ANSWER_MAX 4096u
/* Request lines from CGP are short; a longer one is garbage, not a path. */
#define CAPS_REQUEST_LINE_MAX 4096u
/* One log line, escaped, so a hostile sample cannot flood the CGP log. */
#define CAPS_LOG_LINE_MAX 512u
/* Bytes of untrusted input quoted in a log line. */
#define CAPS_LOG_SAMPLE_MAX 64u
/* Per-message arena: all parsed views of one message live here. */
#define CAPS_ARENA_MAX_BYTES (96u * 1024u * 1024u)

/* ---- messages ------------------------------------------------------ */

/* Default and ceiling of Max_Body_Length: bytes of a message file read. */
#define CAPS_BODY_DEFAULT_BYTES (2u * 1024u * 1024u)
#define CAPS_BODY_CEILING_BYTES (64u * 1024u * 1024u)
/* Envelope: lines before the blank line, and the bytes we keep of each. */
#define CAPS_ENVELOPE_LINES 4096u
#define CAPS_ADDR_MAX 320u
#define CAPS_ENVELOPE_RCPTS 64u

/* ---- threads ------------------------------------------------------- */

#define CAPS_THREADS_MAX 64u
/* Requests queued but not yet taken by a worker; CGP's ENQUEUER count is
 * far lower, so a bigger backlog means CGP is misbehaving. */
#define CAPS_JOBS_QUEUED_MAX 4096u

/* ---- config (cgpdict, config, whitelist, render) -------------------- */

/* CGPCloudmark.cfg and cartridge.cfg are a few KiB; a bigger file is not a
 * configuration and is refused before it is parsed. */
#define CAPS_CONFIG_FILE_MAX_BYTES (1024u * 1024u)
/* CGP dictionary syntax: nesting depth (the parser recurses, checked on
 * entry), total values, and one decoded string, so a hostile file cannot
 * exhaust the stack or memory. */
#define CAPS_CGPDICT_DEPTH_MAX 32u
#define CAPS_CGPDICT_NODES_MAX 16384u
#define CAPS_CGPDICT_STRING_MAX (64u * 1024u)
/* whitelist.cfg: file size, entries (matched one by one per message), and
 * the length of one value (a regex or address). */
#define CAPS_WHITELIST_FILE_MAX_BYTES (4u * 1024u * 1024u)
#define CAPS_WHITELIST_ENTRIES_MAX 4096u
#define CAPS_WHITELIST_VALUE_MAX 1024u
/* Request sequence numbers echoed in answers: CGP sends short digit
 * strings; anything longer or non-printable is refused by render. */
#define CAPS_RENDER_SEQ_MAX 64u

/* ---- msgsrc and RATE ----------------------------------------------- */

/* Directory levels RATE walks below an argument: deeper trees, or symlinks
 * that fold a tree onto itself, are skipped instead of exhausting fds. */
#define CAPS_MSGSRC_DEPTH_MAX 32u
/* Names kept from one directory (they are sorted, so all are held). */
#define CAPS_MSGSRC_DIR_ENTRIES (1u << 20)
/* Longest path built while walking. */
#define CAPS_MSGSRC_PATH_MAX 4096u
/* Bytes read of one file that starts like an mbox, so a huge or endless
 * file cannot take all memory; messages past it are not seen. */
#define CAPS_MSGSRC_MBOX_MAX_BYTES (512u * 1024u * 1024u)
/* An mbox separator line is short; a longer "From " line is body text. */
#define CAPS_MSGSRC_SEPARATOR_MAX 1024u
/* A header field name after a separator is looked for in this many bytes. */
#define CAPS_MSGSRC_FIELD_NAME_MAX 128u
/* RATE: results held for printing in input order, per worker thread. */
#define CAPS_RATE_WINDOW_PER_THREAD 64u
/* RATE: the progress bar is redrawn at most this often. */
#define CAPS_RATE_PROGRESS_INTERVAL_MS 100u

/* ---- helper/protocol ----------------------------------------------- */

/* A request's sequence token: CGP sends short decimal numbers; anything
 * longer is garbage and is not echoed back. */
#define CAPS_PROTOCOL_SEQ_MAX 32u
/* A decoded FILE path can never be longer than the request line. */
#define CAPS_PROTOCOL_PATH_MAX CAPS_REQUEST_LINE_MAX
/* Trailing keyword tokens after a bare FILE path that are ignored (e.g. a
 * future "HEADERS"), and the longest such keyword. */
#define CAPS_PROTOCOL_FILE_OPTS_MAX 4u
#define CAPS_PROTOCOL_FILE_OPT_LEN 16u
/* Bytes the reader takes from stdin per read(). */
#define CAPS_HELPER_READ_CHUNK 65536u
/* FILE jobs waiting for a worker; past it the reader waits (back-pressure
 * on CGP, whose ENQUEUER threads number far fewer). */
#define CAPS_HELPER_QUEUED_MAX 1024u

#endif
