# The top-level Makefile: `make run` and `make test` are the two commands a
# user needs (README.md). Each library also builds alone: `make -C libraft`.
TOP := $(CURDIR)
include mk/flags.mk

# Lowest layer first (../shared/DESIGN.md, "Layers").
LIBS := libraft librpc libmvcc libregion libpd libsql

.PHONY: all deps build libs daemons run test check fuzz bench clean install \
        format bench-sqld bench-kvd bench-joins $(addprefix bench-,$(LIBS:lib%=%))

all: build

deps:
	@scripts/deps.sh

libs: deps
	@for l in $(LIBS); do $(MAKE) --no-print-directory -C $$l all tests || exit 1; done

daemons: libs
	@$(MAKE) --no-print-directory -C daemons all tests

build: daemons
	@$(MAKE) --no-print-directory -C tests all
ifeq ($(strip $(SANITIZE)),)
	@for l in $(LIBS) daemons; do $(MAKE) --no-print-directory -C $$l fuzz-bins || exit 1; done
endif

# Unit suites, then short fuzz runs, then integration suites against real
# daemons; the last line is the summed "N passed, N failed".
test: build
	@SANITIZE=$(SANITIZE) BUILD_DIR=$(BUILD) TEST_LOGDIR=$(BUILD)/test-logs FUZZ_RUNS=$${FUZZ_RUNS:-100000} tests/run-suites.sh \
	    $$(find $(BUILD)/lib* $(BUILD)/daemons -path '*/tests/*' -name 'test_*' \
	           -type f -executable 2>/dev/null | sort) \
	    $$(find $(BUILD)/lib* $(BUILD)/daemons -path '*/fuzz/*' -name 'fuzz_*' -type f -executable \
	           2>/dev/null | sort) \
	    $$(find $(BUILD)/tests -maxdepth 1 -name 'test_*' -type f -executable \
	           2>/dev/null | sort) \
	    $$(ls tests/integration/test_*.py tests/integration/test_*.sh 2>/dev/null)

check: test

# Long fuzz runs (FUZZ_RUNS executions per target, a million by default).
fuzz: deps
	@for l in $(LIBS) daemons; do $(MAKE) --no-print-directory -C $$l fuzz || exit 1; done

bench: deps
	@for l in $(LIBS); do $(MAKE) --no-print-directory -C $$l bench || exit 1; done
	@scripts/bench-kvd.sh $(BUILD)
	@scripts/bench-sqld.sh $(BUILD)
	@scripts/bench-joins.sh $(BUILD)
# sysbench against sqld and against a MariaDB it starts, side by side.
bench-sqld: build
	@scripts/bench-sqld.sh $(BUILD)
# Durable replicated puts and gets: 3 kvd against a 3-member etcd, and gets
# against RocksDB itself (daemons/kvbench).
bench-kvd: build
	@scripts/bench-kvd.sh $(BUILD)
# TPC-H-shaped join queries on sqld and on a MariaDB it starts, per query.
bench-joins: build
	@scripts/bench-joins.sh $(BUILD)
$(addprefix bench-,$(LIBS:lib%=%)): bench-%: deps
	@$(MAKE) --no-print-directory -C lib$* bench

run: build
	@scripts/run-playground.sh $(BUILD)

# test_chaos.sh at length: kill -9 rounds for CHAOS_SECONDS (600), then a
# rolling restart of every daemon under load; test_sql_partition.sh's
# rounds for PART_SECONDS (300); then test_rolling_sysbench.sh with
# ROLLING_ROUNDS (3) rounds over 4 tables of 10000 rows.
chaos: build
	@rc=0; CHAOS_SECONDS=$${CHAOS_SECONDS:-600} CHAOS_ROLLING=1 BUILD_DIR=$(BUILD) tests/integration/test_chaos.sh || rc=1; \
	PART_SECONDS=$${PART_SECONDS:-300} BUILD_DIR=$(BUILD) tests/integration/test_sql_partition.sh || rc=1; \
	ROLLING_ROUNDS=$${ROLLING_ROUNDS:-3} ROLLING_TABLES=4 ROLLING_ROWS=10000 BUILD_DIR=$(BUILD) tests/integration/test_rolling_sysbench.sh || rc=1; \
	exit $$rc

install: build
	@for l in $(LIBS) daemons; do $(MAKE) --no-print-directory -C $$l install || exit 1; done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
