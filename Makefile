# liveness - plain Makefile. Targets: all check demo bench loadtest fuzz coverage mutate install
# uninstall clean deps dist distcheck check-cmake abi-check abi-update.
# Variables: PREFIX LIBDIR INCLUDEDIR MANDIR BINDIR PKGCONFIGDIR CMAKEDIR DESTDIR,
# CPPFLAGS CFLAGS LDFLAGS (yours, kept apart from the build's own flags), TEST_CFLAGS
# (more flags for the test runner alone),
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
CMAKEDIR ?= $(LIBDIR)/cmake/liveness

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
ALL_CFLAGS = $(BASE_CFLAGS) $(SAN_FLAGS) $(CPPFLAGS) $(CFLAGS)
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
# More flags for the test runner alone (CI's gcc -O3 build uses it).
TEST_CFLAGS ?=
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
-include bench/loadtest.mk

# The shim and the programs the shim suite runs have flags of their own
# (tools/tools.mk); the user's preprocessor flags reach them too (for
# instance dpkg-buildflags' -D_FORTIFY_SOURCE=2 for the packaged shim).
SHIM_CFLAGS += $(CPPFLAGS)
TEST_PROG_CFLAGS += $(CPPFLAGS)

.PHONY: all check demo bench fuzz install uninstall clean deps lint-man docs-check \
	dist distcheck check-cmake install-cmake uninstall-cmake abi-check abi-update abi-lib
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
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $(TEST_CFLAGS) $(CHECK_CFLAGS) -I$(B)/tests -Itests -Iexamples -o $@ \
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

# The last row runs a static server under the command's run --bpf, where it is built.
demo: deps $(B)/examples/scenarios $(TOOLS_CMD) $(filter %/bpf-server,$(TOOLS_TEST_PROGS))
	$(Q)LIVENESS_BUILD=$(B) $(B)/examples/scenarios

install: all install-tools install-cmake
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

uninstall: uninstall-tools uninstall-cmake
	rm -f $(DESTDIR)$(LIBDIR)/libliveness.a $(DESTDIR)$(LIBDIR)/libliveness.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libliveness.so \
		$(DESTDIR)$(INCLUDEDIR)/liveness.h $(DESTDIR)$(PKGCONFIGDIR)/liveness.pc
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(filter %.3,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(filter %.7,$(MAN_PAGES))))

clean:
	rm -rf build build-san build-fuzz build-cov $(BUILD) $(if $(BUILD),$(BUILD)-cov)

# ---- CMake package files ----------------------------------------------------
# CMAKEDIR/livenessConfig.cmake and livenessConfigVersion.cmake, for
# find_package(liveness 1.0) and the imported targets liveness::liveness
# (the shared library) and liveness::liveness_static. Written at install
# time from cmake/*.cmake.in, like the .pc, since they record install paths.
# When LIBDIR, INCLUDEDIR and CMAKEDIR are all under PREFIX the files find
# the tree from their own place (relocatable: a DESTDIR tree, or a prefix
# moved elsewhere, works as is); otherwise they hold the absolute paths.
prefix_rel = $(patsubst $(PREFIX:%/=%)/%,%,$(filter $(PREFIX:%/=%)/%,$(1)))
CMAKE_RELOCATABLE = $(if $(and $(call prefix_rel,$(LIBDIR)),$(call prefix_rel,$(INCLUDEDIR)),$(call prefix_rel,$(CMAKEDIR))),TRUE,FALSE)
empty :=
space := $(empty) $(empty)
CMAKE_UP = $(subst $(space),/,$(patsubst %,..,$(subst /, ,$(call prefix_rel,$(CMAKEDIR)))))
# sizeof(void *) of the target, which livenessConfigVersion.cmake checks.
SIZEOF_VOID_P = $(shell echo __SIZEOF_POINTER__ | $(CC) $(CPPFLAGS) $(CFLAGS) -E -P - 2>/dev/null | tr -d ' ')
CMAKE_SED = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SOMAJOR@|$(SOMAJOR)|g' \
	-e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	-e 's|@CMAKEDIR@|$(CMAKEDIR)|g' -e 's|@RELOCATABLE@|$(CMAKE_RELOCATABLE)|g' \
	-e 's|@UP@|$(CMAKE_UP)|g' -e 's|@LIBDIR_REL@|$(call prefix_rel,$(LIBDIR))|g' \
	-e 's|@INCLUDEDIR_REL@|$(call prefix_rel,$(INCLUDEDIR))|g' -e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|g'

install-cmake:
	install -d $(DESTDIR)$(CMAKEDIR)
	$(CMAKE_SED) cmake/livenessConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/livenessConfig.cmake
	$(CMAKE_SED) cmake/livenessConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/livenessConfigVersion.cmake
	chmod 644 $(DESTDIR)$(CMAKEDIR)/livenessConfig.cmake $(DESTDIR)$(CMAKEDIR)/livenessConfigVersion.cmake

uninstall-cmake:
	rm -f $(DESTDIR)$(CMAKEDIR)/livenessConfig.cmake $(DESTDIR)$(CMAKEDIR)/livenessConfigVersion.cmake

# A CMake project (tests/cmake/) built and run against this build installed
# in a temporary DESTDIR and PREFIX (tests/cmake.sh).
check-cmake: all
	$(Q)LIVENESS_BUILD=$(B) sh tests/cmake.sh

# ---- Release tarball ----------------------------------------------------------
# make dist writes liveness-VERSION.tar.gz (VERSION from include/liveness.h)
# here: the files git tracks, as they are in the work tree (DIST_UNTRACKED=1
# adds files git neither tracks nor ignores, to try a release before a
# commit). Unless this directory is the top of a git checkout (an unpacked
# tarball is not, even inside another repository's work tree), it takes every
# file but build directories and tarballs, so a tarball can make itself
# again without git. Reproducible: sorted, owner 0, modes normalised, every
# mtime SOURCE_DATE_EPOCH or else the last commit's time, gzip -n.
# make distcheck unpacks it in a fresh directory and builds, checks, installs
# and uninstalls it there (tests/distcheck.sh; DISTCHECK_FLAGS go to its make).
DIST_NAME = liveness-$(VERSION)
DIST_TARBALL = $(DIST_NAME).tar.gz
DIST_EPOCH = $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null))
DIST_LIST = $(B)/dist/files

dist:
	$(call msg,DIST,$(DIST_TARBALL))
	@mkdir -p $(B)/dist $(dir $(DIST_TARBALL))
	$(Q)if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" ]; then \
		git ls-files $(if $(filter 1,$(DIST_UNTRACKED)),--cached --others --exclude-standard); \
	else \
		find . \( -path './build*' -o -path './.git' -o -path './$(DIST_NAME)' \) -prune \
			-o \( -type f -o -type l \) ! -name 'liveness-*.tar.gz' -print | sed 's|^\./||'; \
	fi | grep -v '^liveness[-_][^/]*\.tar\.gz$$' | LC_ALL=C sort -u | while IFS= read -r f; do \
		if [ -e "$$f" ] || [ -h "$$f" ]; then printf '%s\n' "$$f"; fi; \
	done > $(DIST_LIST).tmp
	@# A tracked file that is gone from the work tree is not shipped (above);
	@# an empty list means something is badly wrong.
	$(Q)test -s $(DIST_LIST).tmp || { echo "dist: no files to ship" >&2; exit 1; }
	$(Q)for f in Makefile include/liveness.h lib/liveness.map liveness.pc.in \
		cmake/livenessConfig.cmake.in cmake/livenessConfigVersion.cmake.in debian/rules \
		$(ABI_BASELINE); do \
		grep -qx "$$f" $(DIST_LIST).tmp || { echo "dist: $$f is not in the list (not in git yet? DIST_UNTRACKED=1)" >&2; exit 1; }; \
	done
	$(Q)mv $(DIST_LIST).tmp $(DIST_LIST)
	$(Q)LC_ALL=C tar --create --format=gnu --no-recursion --sort=name --owner=0 --group=0 \
		--numeric-owner --mode='u+rw,go-w,a+rX' $(if $(DIST_EPOCH),--mtime=@$(DIST_EPOCH)) \
		--transform 's|^|$(DIST_NAME)/|S' --files-from=$(DIST_LIST) \
		| gzip -n -9 > $(DIST_TARBALL).tmp
	$(Q)mv $(DIST_TARBALL).tmp $(DIST_TARBALL)
	@echo "dist: $(DIST_TARBALL) ($$(wc -l < $(DIST_LIST)) files)"

distcheck: dist
	$(Q)MAKE="$(MAKE)" sh tests/distcheck.sh $(DIST_TARBALL) $(DISTCHECK_FLAGS)


# ---- ABI baseline (abigail-tools) -----------------------------------------------
# abi/libliveness.so.SOMAJOR.abi is the ABI of the released library: abidw's
# record of its exported functions and of the types the public header
# declares (--headers-dir include: the library's private types do not count),
# from a -g -Og build of its own in $(B)/abi/ (SANITIZE, CPPFLAGS, CFLAGS and
# LDFLAGS of this make do not reach it). make abi-check records the library as
# it is now the same way and compares the two with abidiff. It fails when an
# exported function is gone (abidiff's status bit 8, incompatible) and also
# when one that stays changed, in its parameters, its return or a public
# struct it reaches (bit 4 with added functions left out: abidiff leaves
# those changes to a person, and a changed parameter type is one of them);
# if such a change is in fact compatible, make abi-update accepts it. Added
# functions alone are printed and pass; make abi-update, run when the release
# that has them is made, records them. abidiff's own harmless-change filter
# (a new enumerator, for instance) applies.
ABI_BASELINE := abi/libliveness.so.$(SOMAJOR).abi
ABI_B = $(B)/abi
ABI_LIB = $(ABI_B)/libliveness.so.$(VERSION)
ABI_NOW = $(ABI_B)/libliveness.so.$(SOMAJOR).abi
# No paths, line numbers nor build-dependent ids in the record.
ABIDW_FLAGS := --headers-dir include --drop-private-types --drop-undefined-syms --no-corpus-path \
	--no-comp-dir-path --no-show-locs --type-id-style hash
ABIDW ?= abidw
ABIDIFF ?= abidiff

abi-lib:
	$(Q)command -v $(ABIDW) >/dev/null && command -v $(ABIDIFF) >/dev/null || \
		{ echo "abi: no $(ABIDW) or $(ABIDIFF) (apt-get install abigail-tools)" >&2; exit 1; }
	$(Q)$(MAKE) $(if $(Q),-s) --no-print-directory BUILD=$(ABI_B) SANITIZE= CPPFLAGS= CFLAGS='-g -Og' \
		LDFLAGS= $(ABI_LIB)
	$(call msg,ABIDW,$(ABI_NOW))
	$(Q)$(ABIDW) $(ABIDW_FLAGS) --out-file $(ABI_NOW) $(ABI_LIB)

abi-check: abi-lib
	$(call msg,ABIDIFF,$(ABI_NOW))
	$(Q)test -f $(ABI_BASELINE) || { echo "abi-check: no $(ABI_BASELINE) (make abi-update)" >&2; exit 1; }
	$(Q)rc=0; $(ABIDIFF) --no-show-locs $(ABI_BASELINE) $(ABI_NOW) || rc=$$?; \
	kept=0; $(ABIDIFF) --no-show-locs --no-added-syms $(ABI_BASELINE) $(ABI_NOW) >/dev/null || kept=$$?; \
	if [ $$(( (rc | kept) & 3 )) -ne 0 ]; then \
		echo "abi-check: FAIL: abidiff could not compare (status $$rc)" >&2; exit 1; \
	elif [ $$((kept & 8)) -ne 0 ]; then \
		echo "abi-check: FAIL: incompatible change against $(ABI_BASELINE) (abidiff status $$rc)" >&2; exit 1; \
	elif [ $$kept -ne 0 ]; then \
		echo "abi-check: FAIL: an existing interface changed (abidiff status $$rc); if it is compatible, make abi-update" >&2; \
		exit 1; \
	elif [ $$rc -ne 0 ]; then \
		echo "abi-check: ok, functions added (abidiff status $$rc); make abi-update records them"; \
	else \
		echo "abi-check: ok, the ABI is $(ABI_BASELINE)'s"; \
	fi

abi-update: abi-lib
	@mkdir -p $(dir $(ABI_BASELINE))
	$(Q)cp $(ABI_NOW) $(ABI_BASELINE)
	@echo "abi-update: $(ABI_BASELINE) rewritten from $(ABI_LIB)"
