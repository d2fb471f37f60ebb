# examples/examples.mk - the example programs (issue #4), included by the Makefile.
# Each is one .c file plus the headers beside it, linked against the static library.
# The libuv and libevent examples are built only where pkg-config finds them.

EXAMPLES_HDRS := examples/args.h examples/client.h examples/proto.h examples/proto_client.h \
	examples/verdict.h include/liveness.h
EXAMPLES_PLAIN := epoll load redis select poll
EXAMPLES_ALL := $(EXAMPLES_PLAIN:%=$(B)/examples/%)

UV_FLAGS := $(shell pkg-config --cflags --libs libuv 2>/dev/null)
EVENT_FLAGS := $(shell pkg-config --cflags --libs libevent 2>/dev/null)
ifneq ($(UV_FLAGS),)
EXAMPLES_ALL += $(B)/examples/uv
endif
ifneq ($(EVENT_FLAGS),)
EXAMPLES_ALL += $(B)/examples/event
endif

$(EXAMPLES_PLAIN:%=$(B)/examples/%): $(B)/examples/%: examples/%.c $(EXAMPLES_HDRS) $(STATIC)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iexamples -o $@ $< $(STATIC) $(LDFLAGS)

$(B)/examples/uv: examples/uv.c $(EXAMPLES_HDRS) $(STATIC)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iexamples -o $@ $< $(STATIC) $(UV_FLAGS) $(LDFLAGS)

$(B)/examples/event: examples/event.c $(EXAMPLES_HDRS) $(STATIC)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iexamples -o $@ $< $(STATIC) $(EVENT_FLAGS) $(LDFLAGS)
