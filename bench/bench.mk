# Benchmark and fuzzers; included by the Makefile before its own rules.
# libuv and libevent are dependencies of the benchmark only, never of the
# library. `make bench` runs 10k, 100k and 1M connections (BENCH_10M=1 adds
# 10M) and writes, in $(B)/bench/, its text report (bench.txt), the
# ns/packet figures (bench.dat) and, if gnuplot is installed (Debian:
# gnuplot-nox), their plot (bench.svg, bench/bench.gp); `make fuzz` runs
# every tests/fuzz_*.c for FUZZ_SECONDS each.

# Keep the Makefile's default goal: the rules below must not become it.
bench_default_goal := $(.DEFAULT_GOAL)

BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(B)/bench/%)
BENCH_LIBS = $(shell pkg-config --cflags --libs libuv libevent)

$(B)/bench/%: bench/%.c $(STATIC)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC) $(BENCH_LIBS) $(LDFLAGS)

# The report is printed as it comes and kept (tee); the loop's status goes
# through a file, since sh has no pipefail. The plot is drawn only after a
# complete run; without gnuplot it is skipped, with a line that says so (the
# benchmark itself needs no gnuplot). bench/shim.c measures the shim, named
# here: tools/tools.mk, which defines $(TOOLS_SHIM), is included after this
# file, too late for a prerequisite.
BENCH_OUT := $(B)/bench
bench: $(BENCH_BINS) $(B)/libliveness-preload.so
	$(Q)rm -f $(BENCH_OUT)/bench.txt $(BENCH_OUT)/bench.dat $(BENCH_OUT)/bench.svg \
		$(BENCH_OUT)/bench.status
	$(Q){ for b in $(BENCH_BINS); do \
		LIVENESS_BUILD=$(B) BENCH_DATA=$(BENCH_OUT)/bench.dat $$b || exit 1; \
	done; echo 0 >$(BENCH_OUT)/bench.status; } | tee $(BENCH_OUT)/bench.txt
	$(Q)test -f $(BENCH_OUT)/bench.status || { echo "bench: a benchmark failed (above)" >&2; exit 1; }
	$(Q)rm -f $(BENCH_OUT)/bench.status
	$(Q)echo "bench: report in $(BENCH_OUT)/bench.txt, figures in $(BENCH_OUT)/bench.dat"
	$(Q)if command -v gnuplot >/dev/null 2>&1; then \
		gnuplot -e "data='$(BENCH_OUT)/bench.dat'; out='$(BENCH_OUT)/bench.svg'" \
			bench/bench.gp && echo "bench: plot in $(BENCH_OUT)/bench.svg"; \
	else \
		echo "bench: plot skipped: gnuplot is not installed (Debian: apt-get install gnuplot-nox)"; \
	fi

# libFuzzer with ASan and UBSan, in its own build directory; a crash or a
# violated invariant (__builtin_trap) fails the target. Inputs that once
# failed are kept in tests/fuzz-corpus/NAME and replayed first.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
# BUILD=DIR fuzzes in DIR/fuzz, so that builds side by side do not share one directory.
FUZZ_B := $(if $(BUILD),$(BUILD)/fuzz,build-fuzz)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/%.c=$(FUZZ_B)/%)
FUZZ_CFLAGS := $(BASE_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -DLIVENESS_BUILDING

$(FUZZ_B)/%: tests/%.c $(LIB_SRCS) include/liveness.h $(wildcard lib/*.h)
	$(call msg,FUZZCC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRCS)

fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do \
		mkdir -p $(FUZZ_B)/corpus-$$(basename $$f); \
		echo "  FUZZ    $$f ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
			$(FUZZ_B)/corpus-$$(basename $$f) \
			$$(ls -d tests/fuzz-corpus/$$(basename $$f) 2>/dev/null) \
			> $(FUZZ_B)/$$(basename $$f).log 2>&1 \
			|| { tail -40 $(FUZZ_B)/$$(basename $$f).log; exit 1; }; \
		grep -E '^(Done|stat::number_of_executed_units)' $(FUZZ_B)/$$(basename $$f).log; \
	done

.PHONY: bench fuzz
.DEFAULT_GOAL := $(bench_default_goal)
