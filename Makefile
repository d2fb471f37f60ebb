# liveness - plain Makefile. Targets: all check demo bench fuzz coverage mutate install
# uninstall clean deps.
# Variables: PREFIX LIBDIR INCLUDEDIR MANDIR BINDIR PKGCONFIGDIR DESTDIR, CFLAGS (yours),
# V=1 (show commands), WERROR=1 (-Werror), SANITIZE=1 (ASan+UBSan, separate build dir),
# BUILD=DIR (build there instead of build/ or build-san/). `make coverage` builds in
# build-cov/ (BUILD-cov/) and has floors COVERAGE_LINES and COVERAGE_BRANCHES
# (tests/coverage.mk); `make mutate` takes MUTATE_FILES, MUTATE_SAMPLE, MUTATE_SEED,
# MUTATE_JOBS and MUTATE_REPORT (tests/mutate.mk). The runner writes TAP to the file
# named by CK_TAP_LOG_FILE_NAME when that is set (tests/run.c).

.DEFAULT_GOAL := all

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

# The version is written once, in include/liveness.h.
version_part = $(shell sed -n 's/^\#define LIVENESS_VERSION_$(1) \([0-9][0-9]*\)$$/\1/p' include/liveness.h)
SOMAJOR := $(call version_part,MAJOR)
VERSION := $(SOMAJOR).$(call version_part,MINOR).$(call version_part,PATCH)

CC ?= cc
CFLAGS ?= -O2 -g
# Flags the build needs, kept apart from the user's CFLAGS.
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Iinclude
ifeq ($(WERROR),1)
BASE_CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
B := $(if $(BUILD),$(BUILD),build-san)
else
SAN_FLAGS :=
B := $(if $(BUILD),$(BUILD),build)
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
LIB_CFLAGS = $(ALL_CFLAGS) -fPIC -fvisibility=hidden -DLIVENESS_BUILDING

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

LIB_SRCS := $(sort $(wildcard lib/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
STATIC := $(B)/libliveness.a
SHARED := $(B)/libliveness.so.$(VERSION)
SONAME := libliveness.so.$(SOMAJOR)

TEST_SRCS := $(sort $(wildcard tests/check_*.c))
TEST_SUPPORT := tests/run.c tests/util.c tests/wrap.c examples/netns.c
TEST_BIN := $(B)/tests/check_liveness
# The runner's calls to these, and the static library's, go through
# tests/wrap.c, which passes them on unless a test arms a failure: failure
# paths are reached from the tests, with no hook in the library.
TEST_WRAPPED := socket setsockopt getsockopt fcntl calloc aligned_alloc fopen
TEST_WRAP := $(TEST_WRAPPED:%=-Wl,--wrap=%)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

EXAMPLE_SRCS := examples/scenarios.c
EXAMPLE_BINS := $(EXAMPLE_SRCS:%.c=$(B)/%)

MAN_PAGES := $(sort $(wildcard man/*.1 man/*.3 man/*.7))
# Pages without the one-line ".so man3/X.3" stubs, which mandoc -Tlint
# cannot resolve from the source tree (tests/docs.sh checks the stubs).
MAN_SOURCES = $(shell grep -L '^\.so ' $(MAN_PAGES))
MAN_STUBS = $(filter-out $(MAN_SOURCES),$(MAN_PAGES))

# Fragments for the benchmark and fuzzers, the command and shim, the
# examples, coverage and mutation testing; included before the rules so
# their variables are set in time.
-include bench/bench.mk
-include tools/tools.mk
-include examples/examples.mk
-include tests/coverage.mk
-include tests/mutate.mk

.PHONY: all check demo bench fuzz install uninstall clean deps lint-man docs-check
.SUFFIXES:

all: $(STATIC) $(B)/libliveness.so $(EXAMPLE_BINS) $(B)/liveness.pc $(EXAMPLES_ALL) $(TOOLS_ALL)

$(B)/lib/%.o: lib/%.c include/liveness.h $(wildcard lib/*.h)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(STATIC): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJS) lib/liveness.map
	$(call msg,LD,$@)
	$(Q)$(CC) $(LIB_CFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=lib/liveness.map -Wl,--no-undefined -o $@ $(LIB_OBJS) $(LDFLAGS)

$(B)/libliveness.so: $(SHARED)
	$(Q)ln -sf libliveness.so.$(VERSION) $(B)/$(SONAME) && ln -sf $(SONAME) $@

# The .pc file records install paths, so install writes it afresh: a
# $(B)/liveness.pc generated earlier may hold another PREFIX or LIBDIR.
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g'

$(B)/liveness.pc: liveness.pc.in Makefile
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)$(PC_SED) $< > $@

$(B)/examples/scenarios: examples/scenarios.c examples/netns.c examples/netns.h $(STATIC)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iexamples -o $@ examples/scenarios.c examples/netns.c $(STATIC) $(LDFLAGS)

# The test runner: one Check suite per tests/check_*.c, found by file name.
$(B)/tests/suites.h: $(TEST_SRCS) Makefile
	@mkdir -p $(@D)
	$(Q)for f in $(TEST_SRCS); do n=$$(basename $$f .c); n=$${n#check_}; \
		echo "SUITE($$n)"; done > $@

$(TEST_BIN): $(TEST_SRCS) $(TEST_SUPPORT) tests/util.h tests/wrap.h examples/netns.h \
		$(B)/tests/suites.h $(STATIC)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $(CHECK_CFLAGS) -I$(B)/tests -Itests -Iexamples -o $@ \
		$(TEST_SRCS) $(TEST_SUPPORT) $(STATIC) $(CHECK_LIBS) $(TEST_WRAP) $(LDFLAGS)

deps:
	@sh tools/deps.sh

# The README's test command. Tests that need root and a network namespace
# fail instead of skipping when LIVENESS_REQUIRE_NETNS=1 (CI sets it). Every
# step is pointed at this build's directory, so a sanitized run tests only
# sanitized programs (the shim excepted: see tools/tools.mk), and a run in
# BUILD=DIR needs no other build.
check: deps all $(TEST_BIN) lint-man
	$(Q)LIVENESS_BUILD=$(B) sh tests/docs.sh
	$(Q)LIVENESS_BUILD=$(B) SANITIZE=$(SANITIZE) sh tests/install.sh
	$(Q)LIVENESS_BUILD=$(B) $(TEST_BIN)

lint-man:
	$(call msg,LINT,man)
	$(Q)$(if $(MAN_PAGES),mandoc -Tlint -W warning $(MAN_SOURCES),echo "no man pages" >&2; exit 1)

demo: deps $(B)/examples/scenarios
	$(Q)$(B)/examples/scenarios

install: all install-tools
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libliveness.a
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/libliveness.so.$(VERSION)
	ln -sf libliveness.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libliveness.so
	install -m 644 include/liveness.h $(DESTDIR)$(INCLUDEDIR)/liveness.h
	$(PC_SED) liveness.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/liveness.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/liveness.pc
	install -m 644 $(filter-out $(MAN_STUBS),$(filter %.3,$(MAN_PAGES))) $(DESTDIR)$(MANDIR)/man3/
	@# An alias page is a symbolic link to the page it names, not a ".so" stub:
	@# man -l on a stub looks for its target relative to the current directory.
	$(Q)for p in $(MAN_STUBS); do \
		ln -sf "$$(sed -n 's|^\.so  *man3/||p' $$p)" $(DESTDIR)$(MANDIR)/man3/$$(basename $$p); \
	done
	install -m 644 $(filter %.7,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man7/

uninstall: uninstall-tools
	rm -f $(DESTDIR)$(LIBDIR)/libliveness.a $(DESTDIR)$(LIBDIR)/libliveness.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libliveness.so \
		$(DESTDIR)$(INCLUDEDIR)/liveness.h $(DESTDIR)$(PKGCONFIGDIR)/liveness.pc
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(filter %.3,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(filter %.7,$(MAN_PAGES))))

clean:
	rm -rf build build-san build-fuzz build-cov $(BUILD) $(if $(BUILD),$(BUILD)-cov)

