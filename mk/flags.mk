# mk/flags.mk: compiler flags and the build variant, shared by every Makefile.
# SANITIZE=address,undefined or SANITIZE=thread builds into its own tree
# (build/san-address-undefined, build/san-thread) so variants never mix.
# Safe to include more than once (a Makefile may need $(BUILD) early).
ifndef DSQL_FLAGS_MK
DSQL_FLAGS_MK := 1

TOP ?= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
SANITIZE ?=
comma := ,
# PROFILE=1 (off by default) keeps frame pointers in every function, so that
# `perf record -g` (frame-pointer unwinding) walks the daemons' own stacks;
# it builds into build/profile.
PROFILE ?=
VARIANT := $(if $(strip $(SANITIZE)),san-$(subst $(comma),-,$(SANITIZE)),$(if $(filter 1,$(PROFILE)),profile,default))
BUILD ?= $(TOP)/build/$(VARIANT)

CC ?= cc
ifeq ($(CC),cc)
CC := gcc
endif
WARN := -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Werror
OPT ?= -O2 -g
CFLAGS := -std=c11 $(OPT) $(WARN) -fno-strict-aliasing -pthread
CPPFLAGS := -D_GNU_SOURCE
LDFLAGS := -pthread
# Generated nanopb code is not ours to warn about, but its ABI flags matter:
# the Debian runtime is built with PB_ENABLE_MALLOC and without PB_FIELD_32BIT.
GEN_CFLAGS := -std=c11 $(OPT) -w -DPB_ENABLE_MALLOC
CPPFLAGS += -DPB_ENABLE_MALLOC

ifeq ($(VARIANT),profile)
PROFFLAGS := -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
CFLAGS += $(PROFFLAGS)
GEN_CFLAGS += $(PROFFLAGS)
endif

ifneq ($(strip $(SANITIZE)),)
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
ifneq ($(findstring undefined,$(SANITIZE)),)
SANFLAGS += -fno-sanitize-recover=all
endif
CFLAGS += $(SANFLAGS)
GEN_CFLAGS += $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
# jemalloc would fight the sanitizer's allocator: daemons use libc's here.
MALLOC_LIBS :=
else
MALLOC_LIBS := -ljemalloc
endif

# Quiet by default: one line per step. `make V=1` shows whole commands.
V ?= 0
ifeq ($(V),0)
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
else
Q :=
say =
endif
endif
