# tools/tools.mk - the liveness command and the LD_PRELOAD shim, included by
# the Makefile, whose variables it uses. It defines:
#   TOOLS_ALL        what `all` builds: $(B)/liveness, $(B)/libliveness-preload.so
#   install-tools    bin/liveness, LIBDIR/libliveness-preload.so, man1/liveness.1
#   uninstall-tools  removes exactly those
#   check-tools      lints man/liveness.1 alone (the Makefile's lint-man, which
#                    `make check` runs, lints it too, with every other page)
#   TOOLS_TEST_PROGS the programs the shim suite runs under the shim
# and makes the test runner build the tools and those programs first (the
# cli and shim suites run them), and rebuild when the tools' parsers, which
# check_duration.c and check_settings.c test, change.

TOOLS_CMD := $(B)/liveness
TOOLS_SHIM := $(B)/libliveness-preload.so
TOOLS_ALL := $(TOOLS_CMD) $(TOOLS_SHIM)
TOOLS_HDRS := $(wildcard tools/*.h)
TOOLS_PARSERS := tools/duration.c tools/settings.c
TOOLS_CMD_SRCS := tools/liveness.c tools/cmd_plan.c tools/cmd_doctor.c tools/cmd_run.c tools/cmd_audit.c tools/reach.c tools/json.c tools/exports.c \
	$(TOOLS_PARSERS)

.PHONY: tools install-tools uninstall-tools check-tools

tools: $(TOOLS_ALL)

# Where `liveness run` finds the installed shim. Rewritten only when LIBDIR
# changes, so the command is rebuilt for `make install PREFIX=...` and not
# otherwise.
$(B)/tools/paths.h: FORCE-tools-paths
	@mkdir -p $(@D)
	@printf '#define LVT_LIBDIR "%s"\n' '$(LIBDIR)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
.PHONY: FORCE-tools-paths
FORCE-tools-paths:

$(TOOLS_CMD): $(TOOLS_CMD_SRCS) $(TOOLS_HDRS) $(B)/tools/paths.h $(STATIC)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itools -I$(B)/tools -o $@ $(TOOLS_CMD_SRCS) $(STATIC) $(LDFLAGS)

# The shim is loaded into programs nobody built with a sanitizer, and libasan
# must come first in a program's link order, so it is never sanitized, even
# with SANITIZE=1. The library's sources are compiled again for it, without
# LIVENESS_BUILDING: with -fvisibility=hidden nothing of theirs is exported,
# and the version script exports only the five wrappers. preload.c reads
# lib/internal.h for the library's own setter.
SHIM_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden
SHIM_OBJS := $(patsubst %.c,$(B)/tools/shim/%.o,$(TOOLS_PARSERS) tools/preload.c)
# An archive, so the link takes only the library objects the shim calls.
SHIM_LIB := $(B)/tools/shim/libliveness-shim.a

$(B)/tools/shim/%.o: %.c include/liveness.h $(wildcard lib/*.h) $(TOOLS_HDRS)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(SHIM_CFLAGS) -Itools -Ilib -c -o $@ $<

$(SHIM_LIB): $(LIB_SRCS:%.c=$(B)/tools/shim/%.o)
	$(Q)rm -f $@ && ar rcs $@ $^

$(TOOLS_SHIM): $(SHIM_OBJS) $(SHIM_LIB) tools/preload.map
	$(call msg,LD,$@)
	$(Q)$(CC) $(SHIM_CFLAGS) -shared -Wl,--version-script=tools/preload.map \
		-Wl,--no-undefined -o $@ $(SHIM_OBJS) $(SHIM_LIB) -ldl $(LDFLAGS)

# Programs the shim suite runs under the shim. Like the shim they are never
# sanitized (libasan must come first in a program's link order, and the shim
# is preloaded before it), so they use the shim's flags and its unsanitized
# copy of the library.
#   shim-storm: threads that make sockets at once, in a library constructor
#     (libshim-storm.so, which runs before the preloaded shim's constructor)
#     and in main()
#   shim-setter: a program that applies its own plan with liveness_tcp_set()
TOOLS_TEST_PROGS := $(B)/tests/shim-storm $(B)/tests/libshim-storm.so $(B)/tests/shim-setter
TEST_PROG_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) -pthread

$(B)/tests/libshim-storm.so: tests/shim_storm.c tests/shim_storm.h
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(TEST_PROG_CFLAGS) -fPIC -shared -o $@ $< $(LDFLAGS)

# -rpath $ORIGIN: the program finds the library next to it, from any directory.
$(B)/tests/shim-storm: tests/shim_storm_main.c tests/shim_storm.h $(B)/tests/libshim-storm.so
	$(call msg,CC,$@)
	$(Q)$(CC) $(TEST_PROG_CFLAGS) -Itests -o $@ $< -L$(B)/tests -lshim-storm \
		-Wl,--no-as-needed,-rpath,'$$ORIGIN' $(LDFLAGS)

$(B)/tests/shim-setter: tests/shim_setter.c $(SHIM_LIB)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(TEST_PROG_CFLAGS) -o $@ $< $(SHIM_LIB) $(LDFLAGS)

# The cli and shim suites run the built tools (so the runner is built after
# them), with tests/child.c; check_duration.c and check_settings.c test the
# parsers, which are linked into the runner. The recipe reads TEST_SUPPORT
# when it runs, so appending here is enough (filter-out: no duplicates if
# the Makefile lists them itself one day).
TOOLS_TEST_SUPPORT := tests/child.c $(TOOLS_PARSERS)
TEST_SUPPORT += $(filter-out $(TEST_SUPPORT),$(TOOLS_TEST_SUPPORT))
$(TEST_BIN): $(TOOLS_TEST_SUPPORT) tests/child.h $(TOOLS_HDRS) | $(TOOLS_ALL) $(TOOLS_TEST_PROGS)

install-tools: $(TOOLS_ALL)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(TOOLS_CMD) $(DESTDIR)$(BINDIR)/liveness
	install -m 755 $(TOOLS_SHIM) $(DESTDIR)$(LIBDIR)/libliveness-preload.so
	install -m 644 man/liveness.1 $(DESTDIR)$(MANDIR)/man1/liveness.1

uninstall-tools:
	rm -f $(DESTDIR)$(BINDIR)/liveness $(DESTDIR)$(LIBDIR)/libliveness-preload.so \
		$(DESTDIR)$(MANDIR)/man1/liveness.1

check-tools:
	$(call msg,LINT,man/liveness.1)
	$(Q)mandoc -Tlint -W warning man/liveness.1
