# mk/lib.mk: the rules every library Makefile shares (see docs/build.md).
#
# A library Makefile sets, then includes this file:
#   NAME       short name: raft -> libraft.a, include/raft.h, raft.pc
#   LIB_DEPS   other project libraries it links, lowest first (e.g. "mvcc raft")
#   PKGS       pkg-config packages for its own code (e.g. "rocksdb")
#   EXTRA_LIBS libraries without a pkg-config file (e.g. -lmbedtls)
#   GEN_SRCS   other generated .c files (under $(OUT)/gen), with a rule of
#              its own; proto/*.proto need nothing: see "Protocol buffers"
#   TEST_PKGS / TEST_LIBS  extra for the test binaries only
# It gives: all (the archive), tests (test binaries tests/test_*.c), check
# (run them), fuzz-bins / fuzz (libFuzzer targets tests/fuzz_*.c, built with
# clang), bench (build and run tests/bench_*.c), install, uninstall, clean. Output goes to $(BUILD)/lib$(NAME)/; $(BUILD)
# is build/<variant> at the top, the variant named by SANITIZE.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
include $(TOP)/mk/flags.mk

# `make -C libX` with no goal builds the archive (the flags-stamp rule
# below would otherwise be the first target).
.DEFAULT_GOAL := all

LIBDIR_SRC := $(CURDIR)
OUT        := $(BUILD)/lib$(NAME)
ARCHIVE    := $(OUT)/lib$(NAME).a
VERSION    := $(shell cat $(LIBDIR_SRC)/VERSION)
UPNAME     := $(shell echo $(NAME) | tr a-z A-Z)

# Protocol buffers: each proto/X.proto (options in proto/X.options) is
# generated with nanopb into $(OUT)/gen/X.pb.{c,h}, compiled into the
# archive, and its header installed beside the library's.
PROTOS     := $(wildcard proto/*.proto)
GEN_DIR    := $(OUT)/gen
GEN_SRCS   += $(PROTOS:proto/%.proto=$(GEN_DIR)/%.pb.c)
GEN_HDRS   := $(GEN_SRCS:.c=.h)

SRCS       := $(wildcard src/*.c)
OBJS       := $(SRCS:src/%.c=$(OUT)/obj/%.o) $(GEN_SRCS:$(OUT)/gen/%.c=$(OUT)/obj/gen_%.o)
TEST_SRCS  := $(wildcard tests/test_*.c)
TEST_HELP  := $(filter-out tests/test_%.c tests/fuzz_%.c tests/bench_%.c,$(wildcard tests/*.c))
TEST_BINS  := $(TEST_SRCS:tests/%.c=$(OUT)/tests/%)
TEST_HOBJS := $(TEST_HELP:tests/%.c=$(OUT)/tests/obj/%.o)

DEP_ARCHIVES := $(foreach d,$(LIB_DEPS),$(BUILD)/lib$(d)/lib$(d).a)
DEP_INCLUDES := $(foreach d,$(LIB_DEPS),-I$(TOP)/lib$(d)/include -I$(BUILD)/lib$(d)/gen)

PKG_CFLAGS := $(if $(strip $(PKGS)),$(shell pkg-config --cflags $(PKGS)))
PKG_LIBS   := $(if $(strip $(PKGS)),$(shell pkg-config --libs $(PKGS)))
TPKG_CFLAGS := $(shell pkg-config --cflags cmocka $(TEST_PKGS))
TPKG_LIBS   := $(shell pkg-config --libs cmocka $(TEST_PKGS))

LIB_CPPFLAGS := -Iinclude -Isrc -I$(OUT)/gen $(DEP_INCLUDES) $(PKG_CFLAGS)

.PHONY: all tests check install uninstall clean version-check dep-libs \
        fuzz-bins fuzz bench FORCE
# Objects are rebuilt, not reused, when the flags change: they depend on a
# stamp whose content is the flags, rewritten only when that differs.
# Helper and fuzz objects are kept between builds (not intermediate).
.SECONDARY:
FLAGS_STAMP := $(OUT)/.flags
FLAGS_NOW   := $(CC) $(CPPFLAGS) $(CFLAGS) $(GEN_CFLAGS) $(LIB_CPPFLAGS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = '$(FLAGS_NOW)' ] || echo '$(FLAGS_NOW)' > $@
all: version-check $(ARCHIVE)

# The header's version macros must say what VERSION says.
version-check:
	@$(TOP)/mk/check-version.sh include/$(NAME).h $(UPNAME) $(VERSION)

$(ARCHIVE): $(OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(call say,AR,$(notdir $@))$(AR) rcs $@ $^

$(OUT)/obj/%.o: src/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$(notdir $@))$(CC) $(CPPFLAGS) $(LIB_CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/obj/gen_%.o: $(OUT)/gen/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$(notdir $@))$(CC) $(CPPFLAGS) $(LIB_CPPFLAGS) $(GEN_CFLAGS) -MMD -MP -c $< -o $@

# Project libraries this one links are built by their own Makefiles.
dep-libs:
	@for d in $(LIB_DEPS); do $(MAKE) --no-print-directory -C $(TOP)/lib$$d all || exit 1; done

$(DEP_ARCHIVES): dep-libs ;

tests: all dep-libs $(TEST_BINS)

$(OUT)/tests/obj/%.o: tests/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$(notdir $@))$(CC) $(CPPFLAGS) $(LIB_CPPFLAGS) $(TPKG_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/tests/%: tests/%.c $(TEST_HOBJS) $(ARCHIVE) $(DEP_ARCHIVES) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call say,CC,$(notdir $@))$(CC) $(CPPFLAGS) $(LIB_CPPFLAGS) $(TPKG_CFLAGS) $(CFLAGS) -MMD -MP $< $(TEST_HOBJS) \
	    $(ARCHIVE) $(DEP_ARCHIVES) $(TEST_LIBS) $(TPKG_LIBS) $(PKG_LIBS) $(EXTRA_LIBS) \
	    $(LDFLAGS) -lpthread -lm -o $@

check: tests
	@TEST_LOGDIR=$(BUILD)/test-logs $(TOP)/tests/run-suites.sh $(TEST_BINS)

# libFuzzer targets: the library's sources again, compiled by clang with
# coverage and ASan/UBSan; project libraries it depends on link as built.
FUZZ_SRCS  := $(wildcard tests/fuzz_*.c)
FUZZ_BINS  := $(FUZZ_SRCS:tests/%.c=$(OUT)/fuzz/%)
FUZZ_OBJS  := $(SRCS:src/%.c=$(OUT)/fuzzobj/%.o) $(GEN_SRCS:$(OUT)/gen/%.c=$(OUT)/fuzzobj/gen_%.o)
FUZZ_CC    := clang
FUZZ_FLAGS := -std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=all $(CPPFLAGS)
FUZZ_RUNS  ?= 1000000

$(OUT)/fuzzobj/%.o: src/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call say,CLANG,$(notdir $@))$(FUZZ_CC) $(LIB_CPPFLAGS) $(FUZZ_FLAGS) $(WARN) -MMD -MP -c $< -o $@
$(OUT)/fuzzobj/gen_%.o: $(OUT)/gen/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call say,CLANG,$(notdir $@))$(FUZZ_CC) $(LIB_CPPFLAGS) $(FUZZ_FLAGS) -w -MMD -MP -c $< -o $@
$(OUT)/fuzz/%: tests/%.c $(FUZZ_OBJS) $(DEP_ARCHIVES) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call say,CLANG,$(notdir $@))$(FUZZ_CC) $(LIB_CPPFLAGS) $(FUZZ_FLAGS) $(WARN) -MMD -MP -fsanitize=fuzzer $< $(FUZZ_OBJS) \
	    $(DEP_ARCHIVES) $(PKG_LIBS) $(EXTRA_LIBS) -lpthread -lm -o $@

fuzz-bins: dep-libs $(FUZZ_BINS)
# Long runs keep their corpus in the build tree, so each run goes on from
# the last; make test's short runs start from the seeds alone.
fuzz: fuzz-bins
	@FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_CORPUS_DIR=$(BUILD)/fuzz-corpus \
	    TEST_LOGDIR=$(BUILD)/test-logs $(TOP)/tests/run-suites.sh $(FUZZ_BINS)

# Benchmarks print "BENCH <name> <value> <unit>" lines; never part of check.
# They allocate as the daemons do (jemalloc, except under a sanitizer).
BENCH_SRCS := $(wildcard tests/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:tests/%.c=$(OUT)/bench/%)
$(OUT)/bench/%: tests/%.c $(TEST_HOBJS) $(ARCHIVE) $(DEP_ARCHIVES)
	@mkdir -p $(@D)
	$(call say,CC,$(notdir $@))$(CC) $(CPPFLAGS) $(LIB_CPPFLAGS) $(TPKG_CFLAGS) $(CFLAGS) $< $(TEST_HOBJS) \
	    $(ARCHIVE) $(DEP_ARCHIVES) $(TEST_LIBS) $(TPKG_LIBS) $(PKG_LIBS) $(EXTRA_LIBS) \
	    $(MALLOC_LIBS) $(LDFLAGS) -lpthread -lm -o $@
bench: all dep-libs $(BENCH_BINS)
	@for b in $(BENCH_BINS); do $$b || exit 1; done

ifneq ($(PROTOS),)
# One generator run writes both files; the .h depends on the .c.
$(GEN_DIR)/%.pb.c: proto/%.proto $(wildcard proto/*.options)
	@mkdir -p $(@D)
	$(call say,GEN,$(notdir $@))nanopb_generator.py -q -I proto -D $(GEN_DIR) $<
$(GEN_DIR)/%.pb.h: $(GEN_DIR)/%.pb.c ;
# Everything that may include a generated header waits for the generator
# (and for the libraries it links, whose generated headers it may include).
$(SRCS:src/%.c=$(OUT)/obj/%.o) $(TEST_BINS) $(TEST_HOBJS) $(FUZZ_OBJS) \
    $(FUZZ_BINS) $(BENCH_BINS): | $(GEN_HDRS) dep-libs
INSTALL_EXTRA   = install -m 644 $(GEN_HDRS) $(DESTDIR)$(PREFIX)/include/
UNINSTALL_EXTRA = $(GEN_HDRS:$(GEN_DIR)/%=$(DESTDIR)$(PREFIX)/include/%)
endif

# Install the archive, the one public header and a pkg-config file.
PREFIX ?= /usr/local
DESTDIR ?=
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(ARCHIVE) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/$(NAME).h $(DESTDIR)$(PREFIX)/include/
	$(INSTALL_EXTRA)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $(NAME).pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$(NAME).pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/lib$(NAME).a $(DESTDIR)$(PREFIX)/include/$(NAME).h \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/$(NAME).pc $(UNINSTALL_EXTRA)

clean:
	rm -rf $(OUT)

-include $(OBJS:.o=.d) $(TEST_HOBJS:.o=.d) $(TEST_BINS:=.d) $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
