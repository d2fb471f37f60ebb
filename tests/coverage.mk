# tests/coverage.mk - `make coverage`, included by the Makefile.
#
# Builds everything with gcov instrumentation in a directory of its own
# (build-cov/, or BUILD-cov/ with BUILD=DIR), runs the whole test runner,
# and prints line and branch coverage of lib/ and tools/ per file with gcovr.
# The command and the shim are instrumented too: the runner starts them as
# child processes, and each writes its counts when it exits, so what the cli
# and shim suites exercise is counted. Fails below COVERAGE_LINES percent of
# lines or COVERAGE_BRANCHES percent of branches in lib/ as a whole.
#
# Run it as root with LIVENESS_REQUIRE_NETNS=1, as CI does: without a
# private network namespace the fault tests skip and their paths go uncounted.

COVERAGE_B := $(if $(BUILD),$(BUILD)-cov,build-cov)
COVERAGE_LINES ?= 95
COVERAGE_BRANCHES ?= 85
# -O0 so that lines and branches are the source's, not the optimizer's;
# atomic counters because the shim runs inside threaded programs (redis-server),
# whose racing increments would otherwise leave counts gcov cannot read.
COVERAGE_CFLAGS := -O0 -g --coverage -fprofile-update=atomic
# gcc counts a branch on lines where it generated code the source does not
# show; gcovr leaves those out. Each report reads the counts gathered once.
GCOVR_ONCE = gcovr -r . -j 2 --exclude-unreachable-branches --filter lib/ --filter tools/
GCOVR = gcovr -r . -a $(COVERAGE_B)/coverage.json

.PHONY: coverage

coverage:
	$(Q)LIVENESS_DEPS_EXTRA="$(LIVENESS_DEPS_EXTRA) gcovr" sh tools/deps.sh
	@# Objects do not depend on flags: a change of COVERAGE_CFLAGS starts afresh.
	$(Q)if [ "$$(cat $(COVERAGE_B)/cflags 2>/dev/null)" != '$(COVERAGE_CFLAGS)' ]; then \
		rm -rf $(COVERAGE_B) && mkdir -p $(COVERAGE_B) && \
		echo '$(COVERAGE_CFLAGS)' > $(COVERAGE_B)/cflags; fi
	$(Q)$(MAKE) --no-print-directory BUILD=$(COVERAGE_B) SANITIZE= WERROR=$(WERROR) \
		CFLAGS="$(COVERAGE_CFLAGS)" LDFLAGS="$(LDFLAGS) --coverage" \
		all $(COVERAGE_B)/tests/check_liveness
	@# Counts add up across runs: start from none. Some tests run the command
	@# as nobody, which could neither create nor update root's count files
	@# (and would say so on its stderr, which those tests read): every count
	@# file is made empty and writable by all first, and what gcov still has
	@# to say goes to a file of its own.
	$(Q)find $(COVERAGE_B) -name '*.gcda' -delete
	$(Q)find $(COVERAGE_B) -name '*.gcno' -exec sh -c \
		'for f; do g=$${f%.gcno}.gcda; : > "$$g" && chmod 666 "$$g"; done' sh {} +
	$(Q): > $(COVERAGE_B)/gcov-errors.log && chmod 666 $(COVERAGE_B)/gcov-errors.log
	$(Q)GCOV_ERROR_FILE=$(abspath $(COVERAGE_B))/gcov-errors.log LIVENESS_BUILD=$(COVERAGE_B) \
		$(COVERAGE_B)/tests/check_liveness
	$(Q)if [ -s $(COVERAGE_B)/gcov-errors.log ]; then \
		echo "coverage: some processes could not save their counts:"; \
		sort -u $(COVERAGE_B)/gcov-errors.log; fi
	@# A count file still empty belongs to a program no test ran (the benchmarks).
	$(Q)find $(COVERAGE_B) -name '*.gcda' -empty -delete
	$(Q)$(GCOVR_ONCE) --json $(COVERAGE_B)/coverage.json $(COVERAGE_B)
	@echo "coverage: lines"
	$(Q)$(GCOVR) --txt
	@echo "coverage: branches"
	$(Q)$(GCOVR) --txt --branches
	@echo "coverage: lib/ (floors: $(COVERAGE_LINES)% of lines, $(COVERAGE_BRANCHES)% of branches)"
	@# The table goes to a file of our own: gcovr writes its output by renaming a
	@# temporary file over it, which would replace /dev/null with a regular file.
	$(Q)$(GCOVR) --filter lib/ --print-summary --txt $(COVERAGE_B)/lib-summary.txt \
		--fail-under-line $(COVERAGE_LINES) --fail-under-branch $(COVERAGE_BRANCHES) || \
		{ echo "coverage: lib/ is below its floor" >&2; exit 1; }
