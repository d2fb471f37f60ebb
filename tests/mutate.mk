# tests/mutate.mk - `make mutate`, included by the Makefile: mutation testing
# of the library by tests/mutate.py, which mutates one line of one file at a
# time and runs the fast suites against each mutant.
#
#   make mutate                            every mutant of MUTATE_FILES
#   make mutate MUTATE_SAMPLE=100          a random sample (the seed is printed)
#   make mutate MUTATE_SAMPLE=100 MUTATE_SEED=42
#   make mutate MUTATE_FILES=lib/plan.c MUTATE_JOBS=2
#   make mutate MUTATE_SANITIZER=address   AddressSanitizer, not LeakSanitizer:
#                                          kills memory-only mutants, several times slower
#
# The tool copies the tree to a scratch directory and builds there: a run
# never touches this tree's sources, and an interrupted one leaves no mutant
# behind. The survivors, each with its diff, go to MUTATE_REPORT. A full run
# fails when a file kills under 90 % of its mutants that are not listed in
# tests/mutants-equivalent.txt; a sample fails on any survivor not listed.
#
# The rules below build, in a scratch tree, the fast runner the tool links
# each mutant into, and print the commands it uses for each mutant.

MUTATE_FILES ?= lib/hb.c lib/group.c lib/plan.c lib/diagnose.c
MUTATE_JOBS ?= 2
MUTATE_SAMPLE ?=
MUTATE_SEED ?=
MUTATE_SANITIZER ?= leak
MUTATE_REPORT ?= $(B)/mutate-report.txt
# The suites that need no root, no network namespace and no other program.
MUTATE_SUITES := time tcp diagnose hb group oom
MUTATE_DIR := $(B)/mutate
MUTATE_TEST_SRCS := $(filter $(MUTATE_SUITES:%=tests/check_%.c),$(TEST_SRCS))
MUTATE_OBJS := $(patsubst %.c,$(MUTATE_DIR)/%.o,$(MUTATE_TEST_SRCS) tests/run.c tests/util.c \
	tests/wrap.c examples/netns.c)

.PHONY: mutate mutate-runner mutate-commands

mutate:
	$(Q)python3 tests/mutate.py --jobs $(MUTATE_JOBS) --report $(MUTATE_REPORT) \
		--sanitizer $(MUTATE_SANITIZER) \
		$(if $(MUTATE_SAMPLE),--sample $(MUTATE_SAMPLE)) $(if $(MUTATE_SEED),--seed $(MUTATE_SEED)) \
		$(MUTATE_FILES)

$(MUTATE_DIR)/suites.h: $(MUTATE_TEST_SRCS) Makefile tests/mutate.mk
	@mkdir -p $(@D)
	$(Q)for f in $(MUTATE_TEST_SRCS); do n=$$(basename $$f .c); echo "SUITE($${n#check_})"; \
		done > $@

$(MUTATE_DIR)/%.o: %.c $(MUTATE_DIR)/suites.h tests/util.h tests/wrap.h examples/netns.h \
		include/liveness.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $(CHECK_CFLAGS) -I$(MUTATE_DIR) -Itests \
		-Iexamples -c -o $@ $<

# The library's objects are linked as they are: the tool replaces one of them.
$(MUTATE_DIR)/check_fast: $(MUTATE_OBJS) $(LIB_OBJS)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(MUTATE_OBJS) $(LIB_OBJS) $(CHECK_LIBS) $(TEST_WRAP) $(LDFLAGS)

mutate-runner: $(MUTATE_DIR)/check_fast

# For the tool: @SRC@, @OBJ@, @OUT@ and @LIB@ (the library's objects) are its to fill in.
MUTATE_LINK = $(CC) $(ALL_CFLAGS) -o @OUT@ $(MUTATE_OBJS) @LIB@ $(CHECK_LIBS) $(TEST_WRAP) \
	$(LDFLAGS)
mutate-commands:
	@echo 'compile $(CC) $(LIB_CFLAGS) -c -o @OBJ@ @SRC@'
	@echo 'link $(MUTATE_LINK)'
	@echo 'objects $(LIB_OBJS)'
	@echo 'suites $(patsubst tests/check_%.c,%,$(MUTATE_TEST_SRCS))'
	@echo 'runner $(MUTATE_DIR)/check_fast'
