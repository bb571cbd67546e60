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
/* Bytes of a queue file's envelope read besides Max_Body_Length, which
 * counts the message after the envelope: CAPS_ENVELOPE_LINES lines of 128
 * bytes (a CGP "R" line with a common address is under 100).  A longer
 * envelope takes the rest from the message's bytes. */
#define CAPS_ENVELOPE_MAX_BYTES (CAPS_ENVELOPE_LINES * 128u)
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
/* Product of a whitelist regex's repetition bounds ({n,m}): glibc expands
 * them when compiling, and nested bounds such as ((a{100}){100}){100}
 * take seconds and gigabytes at load. */
#define CAPS_WHITELIST_REGEX_REPEAT_MAX 10000u
/* Request sequence numbers echoed in answers: CGP sends short digit
 * strings; anything longer or non-printable is refused by render. */
#define CAPS_RENDER_SEQ_MAX 64u

/* ---- msgsrc and RATE ----------------------------------------------- */

/* Directories RATE has open at once, the argument's own included: a
 * deeper tree, or symlinks folding a tree onto itself, are skipped there
 * so the walk always ends and its stack stays fixed in size. */
#define CAPS_MSGSRC_DEPTH_MAX 32u
/* Names kept from one directory (they are sorted, so all are held):
 * the first in sorted order when there are more. */
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
/* Once the helper stops (QUIT, EOF, signal), how long a write to stdout
 * may make no progress before every later line is dropped: a CGP that no
 * longer reads would otherwise keep the helper from ever exiting. */
#define CAPS_HELPER_STALL_MS 3000u
/* Sequence numbers of undelivered answers named in the exit message. */
#define CAPS_HELPER_DROPPED_SEQS 8u

/* ---- MIME (formats: mime, charset, html, url) ---------------------- */

/* Multipart and message/rfc822 nesting: real mail stays under 10 levels;
 * the parser's explicit stack has this many frames, so entities deeper than
 * this are kept as opaque leaves (MIME_DEPTH_CAPPED). */
#define MIME_MAX_DEPTH 32u
/* Leaf parts listed per message; parsing stops at the next one
 * (MIME_PARTS_CAPPED), so 100,000 tiny parts cost one bounded pass. */
#define MIME_MAX_PARTS 512u
/* Top-level header fields kept (a spam run can add thousands). */
#define MIME_MAX_HEADERS 256u
/* Bytes kept of one unfolded header field: a 10 MB line is cut here and
 * the rest only scanned for its end, never copied. */
#define MIME_HEADER_MAX_BYTES 16384u
/* Bytes of all kept top-level header fields together. */
#define MIME_HEADERS_TOTAL_BYTES (256u * 1024u)
/* Bytes of one header field of a body part that we interpret
 * (Content-Type with long RFC 2231 names still fits). */
#define MIME_PART_HEADER_MAX_BYTES 8192u
/* RFC 2046 allows 70 boundary bytes; slack for broken generators.  A
 * longer boundary is compared by its first MIME_BOUNDARY_MAX bytes only,
 * so a hostile boundary cannot make each line comparison expensive. */
#define MIME_BOUNDARY_MAX 200u
/* Lower-case "type/subtype" kept; longer ones are cut. */
#define MIME_CTYPE_MAX 128u
/* Charset label kept; real labels are under 40 bytes. */
#define MIME_CHARSET_NAME_MAX 64u
/* Decoded filename bytes (RFC 2231 continuations included). */
#define MIME_FILENAME_MAX_BYTES 1024u
/* doc->text: the features read at most this much body text. */
#define MIME_TEXT_MAX_BYTES (512u * 1024u)
/* Decoded bytes kept per leaf part (MIME_PART_CAPPED past it). */
#define MIME_PART_MAX_BYTES (4u * 1024u * 1024u)
/* Attachments whose data is decoded; later ones are listed without data
 * (MIME_ATTS_CAPPED), bounding work on a message of many archives. */
#define MIME_MAX_ATTACHMENTS 64u
/* URLs listed per message (MIME_URLS_CAPPED past it). */
#define MIME_MAX_URLS 512u
/* Bytes kept of one URL and of the visible text of one <a>. */
#define MIME_URL_MAX_BYTES 2048u
#define MIME_ANCHOR_MAX_BYTES 256u
/* Bytes of a host name (RFC 1035 limit is 253 plus slack). */
#define URL_HOST_MAX_BYTES 255u
/* HTML elements tracked for closing hidden blocks; deeper nesting is
 * rendered but not tracked. */
#define HTML_STACK_MAX 256u
/* Entries of the list of active formatting elements and markers (WHATWG
 * 13.2.4.3) html.c keeps to reopen them after an implied close; the
 * spec bounds only identical entries (three), so hostile pages with many
 * distinct ones would otherwise cost unbounded work per text run. */
#define HTML_AFE_MAX 16u
/* iconv descriptors kept open during one mime_parse call. */
#define CHARSET_CACHE_SLOTS 4u
/* Distinct iconv charsets whose glibc module stays loaded for the life of
 * the process (charset.c "pins"); real mail uses a few dozen at most. */
#define CHARSET_PINS_MAX 64u

/* ---- engine (hashing, features, model, cartridge, engine) ------------ */

/* A cartridge file: the default is under 1 MB; anything far larger is not
 * one of ours and would pin memory on every worker's snapshot.  Equal to
 * the largest image an update may carry (CAPS_UPDFILE_PAYLOAD_MAX_BYTES),
 * so whatever cmtool trains, the network can deliver. */
#define CAPS_CARTRIDGE_MAX_BYTES (64u * 1024u * 1024u)
/* Sections in one cartridge: a handful are defined; more is garbage. */
#define CAPS_CARTRIDGE_SECTIONS_MAX 64u
/* META text (key=value lines) and its pairs: informational only. */
#define CAPS_CARTRIDGE_META_MAX_BYTES (64u * 1024u)
#define CAPS_CARTRIDGE_META_PAIRS_MAX 256u
/* Category table entries and their text. */
#define CAPS_CARTRIDGE_CATEGORIES_MAX 64u
#define CAPS_CARTRIDGE_CATEGORY_DESC_MAX 256u
/* Inflated MODEL payload: bounds the zlib output (a "zip bomb" would
 * otherwise decide how much the loader allocates).  Above the cartridge
 * cap on purpose: the payload is stored deflated, so its inflated size
 * is not bounded by the file's.  96 MiB is the densest model at
 * CAPS_MODEL_HASH_BITS_MAX: every one of 2^24 ids non-zero in both heads
 * at 3 bytes each (a 1-byte varint id delta, an int16 weight).  The 12
 * header bytes of each head put that extreme 24 bytes over, so
 * model_format refuses it (CM_ELIMIT) when training, never a loader;
 * trained models are far sparser (the default: 2^22 ids, a 444 KB
 * section). */
#define CAPS_MODEL_RAW_MAX_BYTES (96u * 1024u * 1024u)
/* Hash space of the model: 2^bits ids; dense int16 weights for both heads
 * take 2^bits * 4 bytes of RSS. */
#define CAPS_MODEL_HASH_BITS_MIN 10u
#define CAPS_MODEL_HASH_BITS_MAX 24u
/* Features kept per message: enough for a long newsletter; the rest of a
 * huge message adds nothing but time. */
#define CAPS_FEATURES_MAX 4096u
/* Body tokens looked at. */
#define CAPS_FEATURES_TOKENS_MAX 6000u
/* Body text bytes tokenised: a spam's message is up front. */
#define CAPS_FEATURES_TEXT_MAX_BYTES (256u * 1024u)
/* A token longer than this is not a word (base64, hashes, URLs). */
#define CAPS_FEATURES_TOKEN_MAX_BYTES 40u
/* URLs and header fields examined per message. */
#define CAPS_FEATURES_URLS_MAX 128u
#define CAPS_FEATURES_HEADERS_MAX 256u
/* Messages cmtool train reads, and the bytes read of each (as the helper's
 * default Max_Body_Length). */
#define CAPS_TRAIN_MESSAGES_MAX 2000000u
#define CAPS_TRAIN_FILE_MAX_BYTES (2u * 1024u * 1024u)
/* Campaign fingerprints (fingerprint, ziplist).  Entries one cartridge's
 * FINGERPRINTS section may hold: ~100 bytes each in memory on every
 * snapshot, so a broken or hostile section cannot pin much. */
#define CAPS_FINGERPRINT_ENTRIES_MAX 200000u
/* Body words min-hashed per message: a campaign's text is up front, and
 * the cap bounds the work on a huge text (k mixes per word). */
#define CAPS_FINGERPRINT_WORDS_MAX 4000u
/* Entries sharing one index key that a lookup verifies: boilerplate can
 * make many entries share a min-hash; the cap bounds one probe's work. */
#define CAPS_FINGERPRINT_RUN_MAX 256u
/* Attachments and URLs digested per message (SHA-256 of each). */
#define CAPS_FINGERPRINT_DIGESTS_MAX 64u
/* Body fingerprints cmtool train writes, biggest campaigns first. */
#define CAPS_TRAIN_FINGERPRINTS_MAX 20000u
/* Attachment digests cmtool train writes. */
#define CAPS_TRAIN_DIGESTS_MAX 20000u
/* Body fingerprints of single reported messages (cmtool feedback) and URL
 * digests cmtool train writes, beside the campaign ones. */
#define CAPS_TRAIN_REPORTED_MAX 20000u
#define CAPS_TRAIN_URLS_MAX 20000u
/* Reputation entries (reputation, replist, trainrep).  Entries one
 * REPUTATION section may hold: ~16 bytes plus the key in memory on every
 * snapshot; a million covers the large public domain blocklists. */
#define CAPS_REPUTATION_ENTRIES_MAX 1000000u
/* Received headers read for the peer IP when the envelope has none:
 * past a few relays the rest is the sender's to forge. */
#define CAPS_REPUTATION_RECEIVED_MAX 16u
/* Suffixes of a host looked up, from its end (a.b.c.example: 4
 * lookups); more labels on the left are not looked at. */
#define CAPS_REPUTATION_LABELS_MAX 12u
/* Administrator list files: bytes of one file and of one line. */
#define CAPS_REPUTATION_LIST_MAX_BYTES (64u * 1024u * 1024u)
#define CAPS_REPUTATION_LINE_MAX 1024u
/* Entries cmtool train derives from the training data. */
#define CAPS_TRAIN_REPUTATION_MAX 20000u
/* Heuristic rules (rules, lookalike).  Rule entries a RULES section may
 * list (this build knows a handful; newer ones are skipped), protected
 * domains it may carry (one look-alike check compares a host with those
 * of about its length), and distinct URL hosts one message's look-alike
 * check examines: every host the parse kept, so harmless links in front
 * cannot push a lure's out of reach (a few microseconds a host, met only
 * by mail that links hundreds of sites). */
#define CAPS_RULES_MAX 256u
#define CAPS_RULES_PROTECTED_MAX 8192u
#define CAPS_RULES_HOSTS_MAX MIME_MAX_URLS
/* Body text searched for login words next to a foreign form (a lure's
 * request is up front). */
#define CAPS_RULES_LOGIN_TEXT_BYTES (64u * 1024u)
/* Authentication-Results and Received-SPF headers the auth-failed rule
 * reads (each receiving hop adds one; the recent ones are on top). */
#define CAPS_RULES_AUTH_HEADERS_MAX 16u
/* The longest mailbox address the recipient-named and reply-to rules
 * look for in another header (RFC 5321 4.5.3.1.3: a path is at most 256
 * bytes with its angle brackets).  The search is bytes of the header
 * times bytes of the address: a made-up 8 KB address cost a quarter of a
 * second a message. */
#define CAPS_RULES_ADDRESS_MAX 254u
/* Zip members listed per archive (central directory and local headers
 * together): as many as a classic end record can count, so harmless
 * members in front cannot push an executable past the listing (1,024
 * could); the work is one pass over bytes the body cap already bounds,
 * each member at least 46 of them, and a zip of 100,000 empty members
 * stops here. */
#define CAPS_ZIPLIST_MEMBERS_MAX 65535u
/* Member names rarlist lists from one RAR archive (as many as ziplist's
 * cap; each member takes at least a dozen header bytes, so the body cap bounds
 * the work anyway), and how far into an attachment it looks for the
 * signature (WinRAR's self-extractor stubs are a few hundred KiB). */
#define CAPS_RARLIST_MEMBERS_MAX 65535u
#define CAPS_RARLIST_SIGNATURE_SEARCH_BYTES (1024u * 1024u)
/* Bytes searched backwards for the end-of-central-directory record: the
 * record (22) plus the longest comment a zip can carry (65535). */
#define CAPS_ZIPLIST_EOCD_SEARCH_BYTES (22u + 65535u)
/* Member names listed per tar archive: as ziplist's cap (each member
 * takes a 512-byte header, so the body cap bounds the work anyway). */
#define CAPS_TARLIST_MEMBERS_MAX 65535u
/* Member names listed per cabinet: all cFiles (16 bits) can count;
 * each CFFILE takes at least 17 bytes. */
#define CAPS_CABLIST_MEMBERS_MAX 65535u
/* Bytes of a 7z's encoded-header descriptor searched for the AES coder:
 * 7-Zip writes a few dozen. */
#define CAPS_SEVENZIP_DESCRIPTOR_BYTES 1024u
/* Bytes inflated from one compressed archive inside an attachment (a
 * deflated zip in a zip, a .tar.gz): names a malware mailer needs are in
 * the first few KiB of a tar or a dropper zip, and the inner archives
 * mailed with them are small; 4 MiB of output costs ~10 ms.  Past it
 * the rest stays unread (a ratio bomb stops here) -- see rules_archive.c
 * for what a capped listing means. */
#define CAPS_ARCINFLATE_MAX_BYTES (4u * 1024u * 1024u)
/* Archives inside one attachment opened to read their names, and the
 * bytes inflated for all of them: a zip of a thousand deflated inner
 * zips costs at most this many zlib streams and bytes of output. */
#define CAPS_ARCHIVE_INNER_MAX 16u
#define CAPS_ARCHIVE_INFLATE_TOTAL_BYTES (16u * 1024u * 1024u)

/* ---- site layer (sitelayer, learn) ---------------------------------- */

/* Open-vocabulary feature ids the site layer holds: a message adds a few
 * hundred, so this is thousands of reports; 8 bytes each on disk. */
#define CAPS_SITELAYER_FEATURES_MAX (1u << 18)

/* ---- updates (updkeys, updfile, delta, updater, publish) ----------- */

/* A key file holds a few short lines; anything bigger is not a key file. */
#define CAPS_UPDKEYS_FILE_MAX_BYTES (16u * 1024u)
/* Keys in one key file: the current one plus the old ones kept while a
 * rotation is rolled out. */
#define CAPS_UPDKEYS_RING_MAX 16u
/* Largest cartridge image an update may produce (inflated full payload,
 * delta target): the helper must stay far below its RSS budget while the
 * old and the new cartridge are both in memory during a swap. */
#define CAPS_UPDFILE_PAYLOAD_MAX_BYTES CAPS_CARTRIDGE_MAX_BYTES
/* Largest .cmu file accepted or downloaded: zlib never grows a payload by
 * more than a few bytes per 16 KiB, so this bounds an honest file. */
#define CAPS_UPDFILE_MAX_BYTES (CAPS_UPDFILE_PAYLOAD_MAX_BYTES + 1048576u)
/* A signed manifest: a few hundred bytes per file listed. */
#define CAPS_UPDFILE_MANIFEST_MAX_BYTES (64u * 1024u)
/* Files one manifest may list (one full snapshot plus deltas). */
#define CAPS_UPDFILE_MANIFEST_FILES_MAX 64u
/* An update file name: it becomes a URL path and a local file name. */
#define CAPS_UPDFILE_NAME_MAX 64u
/* One manifest line. */
#define CAPS_UPDFILE_LINE_MAX 512u
/* Blocks of the base image indexed by delta_make (publisher side): past
 * this, blocks are sampled so the index stays near 64 MiB. */
#define CAPS_DELTA_INDEX_BLOCKS (1u << 22)
/* Cartridge versions kept in the micro-update cache directory. */
#define CAPS_UPDATER_CACHE_KEEP 3u
/* Cached files that failed to load, remembered so the updater thread does
 * not read and validate them (up to a cartridge's size) every cycle; more
 * than this many at once are re-read in turn. */
#define CAPS_UPDATER_CACHE_BAD_MAX 8u
/* Directory entries looked at when scanning the cache at start-up. */
#define CAPS_UPDATER_CACHE_SCAN_MAX 4096u
/* ETag / Last-Modified values kept for conditional GET; a longer value is
 * dropped (the next GET is unconditional) instead of echoed. */
#define CAPS_UPDATER_HEADER_VALUE_MAX 256u
/* A server's Retry-After is honoured up to this; a bigger value must not
 * silence updates for days. */
#define CAPS_UPDATER_RETRY_AFTER_MAX_S (6u * 3600u)
/* Exponential back-off after failures: first delay and ceiling. */
#define CAPS_UPDATER_BACKOFF_MIN_S 30u
#define CAPS_UPDATER_BACKOFF_MAX_S 3600u
/* Ceiling of `micro-update timeout` and `micro-update interval`. */
#define CAPS_UPDATER_TIMEOUT_MAX_S 3600u
#define CAPS_UPDATER_INTERVAL_MAX_S (7u * 24u * 3600u)
/* Statistics: one POST per interval, a small form body. */
#define CAPS_UPDATER_STATS_INTERVAL_S 3600u
#define CAPS_UPDATER_STATS_BODY_MAX_BYTES 8192u
/* Answers to a statistics POST are read and thrown away up to this. */
#define CAPS_UPDATER_STATS_REPLY_MAX_BYTES 4096u
/* cmtool publish: deltas made from at most this many earlier versions. */
#define CAPS_PUBLISH_KEEP_MAX 16u

/* ---- feedback (attmsg, cmtool feedback) ---------------------------- */

/* Attached messages taken from one feedback mail: a report carries one or
 * a few; a mail with hundreds is a mail bomb, not feedback. */
#define CAPS_ATTMSG_MAX 32u
/* MIME entities examined in one feedback mail (the work queue's size). */
#define CAPS_ATTMSG_PARTS_MAX 512u
/* Multipart nesting followed: clients nest two or three deep; each level
 * rescans its bytes once, so the cap bounds the work to depth x size. */
#define CAPS_ATTMSG_DEPTH_MAX 8u
/* Bytes of one part's header block looked at, and of one field kept
 * (unfolded) for its parameters; a boundary longer than RFC 2046's 70
 * bytes (with room for sloppy clients) is not followed. */
#define CAPS_ATTMSG_HEADER_MAX_BYTES (64u * 1024u)
#define CAPS_ATTMSG_FIELD_MAX_BYTES 2048u
#define CAPS_ATTMSG_BOUNDARY_MAX 200u
/* Bytes read of one feedback mail: it holds the reported message, maybe
 * base64-encoded (4/3 larger) beside the reporter's text. */
#define CAPS_FEEDBACK_MAIL_MAX_BYTES (32u * 1024u * 1024u)
/* Decoded size of one extracted message: cmtool train reads only
 * CAPS_TRAIN_FILE_MAX_BYTES of it, the rest is kept so the file is the
 * reported message, but nothing bigger than this is written. */
#define CAPS_FEEDBACK_MESSAGE_MAX_BYTES (16u * 1024u * 1024u)

/* ---- report (counters, report, housekeep, REPORT) ------------------ */

/* State file: a few KiB (a day is ~100 lines); anything bigger is not ours
 * and is refused before parsing. */
#define CAPS_COUNTERS_STATE_MAX_BYTES (256u * 1024u)
/* One state-file line ("latency_us.10000000=...") is short; a longer one
 * is refused without being looked at. */
#define CAPS_COUNTERS_LINE_MAX 128u
/* One stored count: 10^15 events a day is far beyond any server, and the
 * cap keeps every sum the report makes far from overflowing. */
#define CAPS_COUNTERS_VALUE_MAX 1000000000000000ull
/* Ended days kept in the state file: a reported day stays for a week
 * (`REPORT --date`); a day whose report could not be written yet
 * (Submitted/ full or unwritable) stays for up to a month, so a holiday
 * does not lose its reports.  Past that the oldest is dropped (logged). */
#define CAPS_COUNTERS_HISTORY_DAYS 31u
#define CAPS_COUNTERS_REPORTED_DAYS 7u
/* Longest the counters go unsaved: a crash loses at most this (SPEC §7). */
#define CAPS_HOUSEKEEP_SAVE_INTERVAL_S 60u
/* State-file problems logged at start; the rest are only counted. */
#define CAPS_HOUSEKEEP_PROBLEMS_LOGGED 8u
/* A report mail is a few KiB; the buffer that builds it stops here. */
#define CAPS_REPORT_MAX_BYTES (256u * 1024u)
/* Unique report names tried before giving up (each one exists already). */
#define CAPS_REPORT_NAME_TRIES 16u
/* Directory entries of Submitted/ looked at when recovering unfinished
 * reports at start, so a huge backlog cannot stall start-up. */
#define CAPS_REPORT_RECOVER_ENTRIES 100000u
/* Age from which a temporary file of ours ("<file>.tmp.<pid>.<n>", a
 * manual report's .tmp) counts as left by a crash and is removed: far
 * longer than any write takes, so a file another process is still
 * writing is never touched. */
#define CAPS_STALE_TEMP_S 3600u
/* Directory entries looked at when looking for such files. */
#define CAPS_STALE_TEMP_SCAN_MAX 100000u
/* Temporary names fsutil_write_temp tries when the one it picked is
 * taken (a crashed run's leftover under the same pid). */
#define CAPS_TEMP_NAME_TRIES 64u
/* Bytes read of a leftover report to check that it is complete. */
#define CAPS_REPORT_RECOVER_MAX_BYTES CAPS_REPORT_MAX_BYTES

#endif
