# tools/tools.mk - the liveness command and the LD_PRELOAD shim, included by
# the Makefile, whose variables it uses. It defines:
#   TOOLS_ALL        what `all` builds: $(B)/liveness, $(B)/libliveness-preload.so
#   install-tools    bin/liveness, LIBDIR/libliveness-preload.so, man1/liveness.1
#   uninstall-tools  removes exactly those
#   check-tools      lints man/liveness.1 alone (the Makefile's lint-man, which
#                    `make check` runs, lints it too, with every other page)
#   TOOLS_TEST_PROGS the programs the shim and bpf suites run
#   TOOLS_BPF        1 when the command has the BPF part (liveness run --bpf)
# and makes the test runner build the tools and those programs first (the
# cli and shim suites run them), and rebuild when the tools' parsers, which
# check_duration.c and check_settings.c test, change.

TOOLS_CMD := $(B)/liveness
TOOLS_SHIM := $(B)/libliveness-preload.so
TOOLS_ALL := $(TOOLS_CMD) $(TOOLS_SHIM)
TOOLS_HDRS := $(wildcard tools/*.h)
TOOLS_PARSERS := tools/duration.c tools/settings.c
TOOLS_CMD_SRCS := tools/liveness.c tools/cmd_plan.c tools/cmd_doctor.c tools/cmd_run.c tools/cmd_audit.c tools/cmd_attach.c tools/cgroup.c tools/reach.c tools/json.c tools/exports.c \
	$(TOOLS_PARSERS)

# The BPF part of the command (liveness run --bpf) is built when clang,
# bpftool and libbpf are present, the compiler links against libbpf (not
# so with musl-gcc or gcc -m32) and this machine's kernel has BTF, from
# which vmlinux.h is generated; BPF=0 leaves it out, BPF=1 insists on it.
# Only the command links libbpf: the library and the shim stay libc-only.
BPF_CLANG ?= clang
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),$(wildcard /usr/sbin/bpftool))
BTF_VMLINUX ?= /sys/kernel/btf/vmlinux
ifeq ($(BPF),0)
TOOLS_BPF :=
else
TOOLS_BPF := $(shell command -v $(BPF_CLANG) >/dev/null 2>&1 && [ -n "$(BPFTOOL)" ] && \
	[ -r $(BTF_VMLINUX) ] && pkg-config --exists libbpf 2>/dev/null && \
	t=$$(mktemp) && printf '\043include <bpf/libbpf.h>\nint main(void) { return !libbpf_major_version(); }\n' | \
	$(CC) $(CFLAGS) $$(pkg-config --cflags libbpf) -x c - -o $$t $$(pkg-config --libs libbpf) \
	>/dev/null 2>&1; r=$$?; rm -f $$t; [ $$r = 0 ] && echo 1)
ifeq ($(BPF):$(TOOLS_BPF),1:)
$(error BPF=1, but clang, bpftool, libbpf (pkg-config libbpf) or $(BTF_VMLINUX) is missing, or $(CC) cannot link libbpf)
endif
endif

ifeq ($(TOOLS_BPF),1)
BPF_DIR := $(B)/tools/bpf
TOOLS_CMD_SRCS += tools/bpf_run.c
TOOLS_BPF_CFLAGS := -DLIVENESS_HAVE_BPF -I$(BPF_DIR) -Itools/bpf $(shell pkg-config --cflags libbpf)
TOOLS_BPF_LIBS := $(shell pkg-config --libs libbpf)
TOOLS_BPF_DEPS := $(BPF_DIR)/liveness.skel.h tools/bpf/liveness_bpf.h
# The runner knows which tests apply (check_cli's doctor test, check_bpf).
CHECK_CFLAGS += -DLIVENESS_HAVE_BPF

# The kernel's types, from the BTF of the kernel the build runs on.
$(BPF_DIR)/vmlinux.h:
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $(BTF_VMLINUX) format c > $@.tmp && mv $@.tmp $@

# -g: the map definitions are described in BTF, which libbpf needs.
$(BPF_DIR)/liveness.bpf.o: tools/bpf/liveness.bpf.c tools/bpf/liveness_bpf.h $(BPF_DIR)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(BPF_CLANG) -target bpf -g -O2 -Wall -Wextra -Werror -I$(BPF_DIR) -Itools/bpf \
		-c -o $@ $<

# The skeleton embeds the object, so the command carries its own program.
$(BPF_DIR)/liveness.skel.h: $(BPF_DIR)/liveness.bpf.o
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name liveness_bpf > $@.tmp && mv $@.tmp $@
else
TOOLS_BPF_CFLAGS :=
TOOLS_BPF_LIBS :=
TOOLS_BPF_DEPS :=
endif

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

$(TOOLS_CMD): $(TOOLS_CMD_SRCS) $(TOOLS_HDRS) $(B)/tools/paths.h $(STATIC) $(TOOLS_BPF_DEPS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itools -I$(B)/tools $(TOOLS_BPF_CFLAGS) -o $@ $(TOOLS_CMD_SRCS) \
		$(STATIC) $(TOOLS_BPF_LIBS) $(LDFLAGS)

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
#   bpf-server, bpf-client: statically linked (no shim could reach them),
#     setting no socket option of their own, run by the bpf suite under
#     liveness run --bpf and liveness attach
#   go-server: a Go server (CGO_ENABLED=0: static, and keepalive 15 s set by
#     Go's runtime), built where Debian's golang-go is installed
TOOLS_TEST_PROGS := $(B)/tests/shim-storm $(B)/tests/libshim-storm.so $(B)/tests/shim-setter
TEST_PROG_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) -pthread
ifeq ($(TOOLS_BPF),1)
TOOLS_TEST_PROGS += $(B)/tests/bpf-server $(B)/tests/bpf-client

$(B)/tests/bpf-%: tests/bpf_%.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) -static -o $@ $< $(LDFLAGS)

GO ?= $(shell command -v go 2>/dev/null)
ifneq ($(GO),)
TOOLS_TEST_PROGS += $(B)/tests/go-server
CHECK_CFLAGS += -DLIVENESS_HAVE_GO
# Its own cache in the build directory: HOME may be unwritable (package builds).
$(B)/tests/go-server: tests/go_server.go
	$(call msg,GO,$@)
	@mkdir -p $(@D)
	$(Q)CGO_ENABLED=0 GOCACHE=$(abspath $(B))/go-cache GO111MODULE=off $(GO) build -o $@ $<
endif
endif

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
