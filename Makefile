# CGPCloudmark -- one non-recursive Makefile (STYLE.md §2.12).
#
#   make            build CGPCloudmark and cmtool in $(BUILD)
#   make check      install dependencies, lint, run every test plain and
#                   again under ASan+UBSan in build-asan/ (with stack
#                   use after return detected, which GCC leaves off)
#   make demo       install dependencies, build, RATE over testdata/
#   make cartridge  retrain cartridge/default.cmc from ../shared/corpus
#   make fuzz       libFuzzer passes (FUZZ_SECONDS each, FUZZ_JOBS at a time)
#   make valgrind   integration tests with the programs under memcheck
#   make tsan       unit and integration tests under ThreadSanitizer
#   make lint       banned calls, stray printing, clang warnings, shellcheck
#   make install    CGPCloudmark/ under PREFIX (the CGP base directory) and
#                   the manual pages under MANDIR; DESTDIR stages
#   make uninstall  remove them (edited configuration files stay)
#   make deb        build a Debian package into $(BUILD)/deb/
#   make demo-network  a private update network on 127.0.0.1, end to end

BUILD ?= build
SAN ?= 0
CC ?= cc
PKGS := libcurl libcrypto zlib inih libidn2
CORPUS ?= ../shared/corpus
FUZZ_SECONDS ?= 30
FUZZ_JOBS ?= 2

include sources.mk

# -Wconversion catches a value narrowed or turned between integer and
# floating point without a cast (a size_t and a double argument swapped
# compile silently without it).  Sign conversions are left out: clang, which
# builds the fuzzers with these flags, finds hundreds of the harmless
# size_t <-> ptrdiff_t kind.
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wvla -Wconversion -Wno-sign-conversion
CPPFLAGS += -Iinclude -D_POSIX_C_SOURCE=200809L -MMD -MP
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 $(WARN) -pthread
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS += $(PKG_CFLAGS)
ifeq ($(SAN),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
# ThreadSanitizer (make tsan): the helper's workers, reader, updater and
# housekeeping threads, and cmtool train's workers, share state by design.
ifeq ($(TSAN),1)
CFLAGS += -O1 -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
endif
LDLIBS += $(PKG_LIBS) -pthread -lm

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/default_cartridge.o
LIB := $(BUILD)/libcm.a
BINS := $(BUILD)/CGPCloudmark $(BUILD)/cmtool

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/replay_%)

# The default cartridge is committed; the build embeds it.  Without it
# (a tree before the first `make cartridge`) an empty image is embedded and
# the check suite's cartridge test fails loudly.
DEFAULT_CARTRIDGE := $(wildcard cartridge/default.cmc)

.PHONY: all check test unit integration replay deps demo cartridge \
	bench bench-accuracy bench-crosssource fuzz valgrind tsan lint clean install uninstall deb \
	demo-network manlint print-libs

all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/default_cartridge.o: src/default_cartridge.S $(DEFAULT_CARTRIDGE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(DEFAULT_CARTRIDGE),-DCARTRIDGE_FILE='"$(DEFAULT_CARTRIDGE)"') \
		-c -o $@ src/default_cartridge.S

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/CGPCloudmark: $(BUILD)/obj/$(MAIN_CGPCLOUDMARK:.c=.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/cmtool: $(BUILD)/obj/$(MAIN_CMTOOL:.c=.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) \
		$(LDLIBS) -lcmocka

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		tests/fuzz/replay_main.c $(LIB) $(LDLIBS)

deps:
	@sh scripts/install-deps.sh

check: deps
	WARN="$(WARN)" LINT_CFLAGS="$(PKG_CFLAGS)" sh scripts/lint.sh
	$(MAKE) test BUILD=build
	sh tests/run-manlint.sh build
	ASAN_OPTIONS="detect_stack_use_after_return=1$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}" \
		$(MAKE) test BUILD=build-asan SAN=1

test: $(BINS) $(UNIT_BINS) $(REPLAY_BINS)
	sh tests/run-unit.sh $(BUILD)
	sh tests/fuzz/run-replay.sh $(BUILD)
	sh tests/integration/run.sh $(BUILD)

demo: deps
	$(MAKE) all
	$(BUILD)/CGPCloudmark RATE testdata/messages

cartridge: $(BUILD)/cmtool
	sh scripts/make-cartridge.sh $(BUILD) $(CORPUS)

bench: all
	sh bench/run.sh $(BUILD) $(CORPUS)

bench-accuracy: all
	sh bench/accuracy.sh $(BUILD) $(CORPUS)

bench-crosssource: all
	sh bench/crosssource.sh $(BUILD) corpus-data

fuzz: deps
	sh tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_JOBS)

# The libraries a program linked against libcm.a needs, for the scripts
# that link one themselves (the fuzzers, bench's helper).
print-libs:
	@echo $(PKG_LIBS) -pthread -lm

valgrind: deps $(BINS)
	sh tests/valgrind/run.sh $(BUILD)

# Unit and integration tests under ThreadSanitizer in build-tsan/; a data
# race aborts the racing process (exit 66), which fails its test.  About
# nine minutes on two cores: not part of make check.
tsan: deps
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
	    $(MAKE) test BUILD=build-tsan TSAN=1

lint:
	WARN="$(WARN)" LINT_CFLAGS="$(PKG_CFLAGS)" sh scripts/lint.sh

clean:
	rm -rf build build-asan build-fuzz build-tsan

# ---- administrator targets ---------------------------------------------
# PREFIX is the CommuniGate Pro base directory: CGP starts helpers there.
PREFIX ?= /var/CommuniGate
MANDIR ?= /usr/local/share/man
DESTDIR ?=

install: $(BINS)
	BUILD=$(BUILD) PREFIX=$(PREFIX) MANDIR=$(MANDIR) DESTDIR=$(DESTDIR) \
		sh scripts/install.sh install

uninstall:
	BUILD=$(BUILD) PREFIX=$(PREFIX) MANDIR=$(MANDIR) DESTDIR=$(DESTDIR) \
		sh scripts/install.sh uninstall

manlint: $(BINS)
	sh tests/run-manlint.sh $(BUILD)

deb:
	@sh scripts/install-deps.sh deb
	sh scripts/make-deb.sh $(BUILD)/deb

demo-network: $(BINS)
	sh scripts/demo-network.sh $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
