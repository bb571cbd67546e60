# Source lists, one file per line, by layer (STYLE.md §2.1).  The rules that
# build them are in the Makefile.  Programs' main files are listed apart
# because they are not part of libcm.a.

BASE_SRCS = \
	src/err.c \
	src/log.c \
	src/buf.c \
	src/cursor.c \
	src/arena.c \
	src/fsutil.c \
	src/clock.c \
	src/numfmt.c \
	src/cmdtab.c \
	src/ipnet.c

FORMAT_SRCS = \
	src/cgpstr.c \
	src/protocol.c \
	src/cgpdict.c \
	src/config.c \
	src/queuefile.c \
	src/msgsrc.c \
	src/attmsg.c \
	src/mime.c \
	src/mime_b64.c \
	src/mime_qp.c \
	src/mime_uu.c \
	src/mime_rfc2047.c \
	src/charset.c \
	src/html.c \
	src/url.c \
	src/ziplist.c \
	src/rarlist.c \
	src/tarlist.c \
	src/cablist.c \
	src/sevenzip.c \
	src/arcinflate.c

ENGINE_SRCS = \
	src/hashing.c \
	src/hdrname.c \
	src/features.c \
	src/model.c \
	src/sitelayer.c \
	src/minhash.c \
	src/fingerprint.c \
	src/reputation.c \
	src/lookalike.c \
	src/rules.c \
	src/rules_phish.c \
	src/rules_archive.c \
	src/whitelist.c \
	src/cartridge.c \
	src/engine.c \
	src/render.c

SERVICE_SRCS = \
	src/pool.c \
	src/updkeys.c \
	src/delta.c \
	src/updfile.c \
	src/updater.c \
	src/counters.c \
	src/report.c \
	src/housekeep.c

PROGRAM_SRCS = \
	src/helper.c \
	src/rate.c \
	src/checkconfig.c \
	src/train.c \
	src/trainfp.c \
	src/feedback.c \
	src/replist.c \
	src/trainrep.c \
	src/repcmd.c \
	src/trainrules.c \
	src/inspect.c \
	src/reportcmd.c \
	src/keygen.c \
	src/publish.c \
	src/update.c \
	src/learn.c

MAIN_CGPCLOUDMARK = src/main.c
MAIN_CMTOOL = src/cmtool.c

LIB_SRCS = $(BASE_SRCS) $(FORMAT_SRCS) $(ENGINE_SRCS) $(SERVICE_SRCS) \
	$(PROGRAM_SRCS)
