# vagent — top-level Makefile.
#
#   make                 build ./vagent
#   make check           build and run the unit tests (warnings are errors)
#   make bench           run the benchmarks (figures, not pass/fail)
#   make deps            install the Debian packages the project needs
#   make demo            the README's main job on the embedded default
#
# Knobs: V=1 (echo commands), SANITIZE=address,undefined (sanitizer build,
# in its own build directory), DEVELOPER=1 (extra strict warnings),
# WERROR=0 (let warnings through outside the test build), O=-O0 (opt level).

PKGS     := sndfile opus opusfile ogg speexdsp libcjson pocketsphinx sphinxbase libcurl portaudio-2.0
# flite1-dev ships no pkg-config file: its voices and language libraries.
FLITE_LIBS := -lflite_cmu_us_slt -lflite_cmu_us_rms -lflite_cmu_us_awb \
              -lflite_cmu_us_kal16 -lflite_usenglish -lflite_cmulex -lflite
TEST_PKGS := check

CC       ?= cc
O        ?= -O2
WERROR   ?= 1
PKG_CONFIG ?= pkg-config

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wvla -Wformat=2 -Wno-format-nonliteral
ifeq ($(DEVELOPER),1)
WARNINGS += -Wcast-qual -Wundef -Wnull-dereference -Wmissing-declarations \
            -Wdouble-promotion -Wwrite-strings -Wold-style-definition
endif
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

comma := ,

# Each flavour of build lives in its own directory so that switching
# SANITIZE or DEVELOPER never mixes objects built with different flags.
ifneq ($(SANITIZE),)
BUILD    := build/san-$(subst $(comma),-,$(SANITIZE))
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
O        := -O1
else
BUILD    := build/default
endif

# Fail early, with the fix, when a library is missing (not with a cryptic
# "sndfile.h: No such file" halfway through the build).
ifeq ($(filter deps clean distclean,$(MAKECMDGOALS)),)
ifneq ($(shell $(PKG_CONFIG) --exists $(PKGS) $(TEST_PKGS) 2>/dev/null && echo ok),ok)
$(error missing build dependencies ($(PKGS) $(TEST_PKGS) via pkg-config); run 'sh scripts/deps' as root)
endif
ifeq ($(wildcard /usr/include/flite/flite.h),)
$(error missing flite (flite1-dev); run 'sh scripts/deps' as root)
endif
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

VERSION  := $(shell cat VERSION)
PS_VERSION := $(shell $(PKG_CONFIG) --modversion pocketsphinx 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE $(O) -g \
             $(WARNINGS) $(SANFLAGS) -Ilib -DVAGENT_VERSION='"$(VERSION)"' \
             -DVAGENT_POCKETSPHINX_VERSION='"$(PS_VERSION)"' \
             $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)
LIBS     := $(PKG_LIBS) $(FLITE_LIBS) -lm -lpthread

ifeq ($(V),1)
Q :=
quiet = @:
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q := @
quiet = @:
else
Q := @
quiet = @printf '  %-7s %s\n'
endif

LIB_SRC  := $(sort $(wildcard lib/*.c lib/*/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
TEST_SRC := $(sort $(wildcard tests/check_*.c))
TEST_AUX := $(sort $(wildcard tests/support/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(TEST_AUX:%.c=$(BUILD)/%.o) $(BUILD)/tests/runner.o
LIB_A    := $(BUILD)/libvagent.a
BIN      := $(BUILD)/vagent
RUNNER   := $(BUILD)/tests/runner
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

.PHONY: all check bench deps demo clean distclean FORCE
all: vagent

# ./vagent is a copy of the default build's binary; sanitizer builds stay
# in their build directory and are run from there.
vagent: $(BIN)
ifeq ($(SANITIZE),)
	$(Q)cp $< $@
endif

$(BIN): $(CMD_OBJ) $(LIB_A)
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(LIB_A) $(LIBS)

$(LIB_A): $(LIB_OBJ)
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(quiet) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(if $(filter tests/%,$<),$(TEST_CFLAGS) -Itests -I$(BUILD)/tests -Wno-missing-prototypes -Wno-missing-declarations) -c -o $@ $<

# Rebuild everything when the compiler flags change (git's GIT-CFLAGS trick).
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@

# The runner's suite list is generated from the `Suite *suite_NAME(void)`
# definitions in tests/check_*.c, so adding a suite is adding a file.
$(BUILD)/tests/suites.h: $(TEST_SRC) Makefile
	@mkdir -p $(dir $@)
	$(quiet) GEN $@
	$(Q)sed -n 's/^Suite \*\(suite_[a-z0-9_]*\)(void)$$/X(\1)/p' $(TEST_SRC) > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/runner.o: $(BUILD)/tests/suites.h

$(RUNNER): $(TEST_OBJ) $(LIB_A)
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJ) $(LIB_A) $(TEST_LIBS) $(LIBS)

# Tests find the CLI binary and fixtures through the environment, so the
# sanitizer runner exercises the sanitizer binary.
check: $(RUNNER) vagent
	$(Q)VAGENT_BIN=$(abspath $(BIN)) VAGENT_TOP=$(CURDIR) $(RUNNER) $(SUITES)

$(BUILD)/bench/%: tests/bench/%.c $(LIB_A) $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(LIB_A) $(LIBS)

bench: $(BIN) $(BENCH_BIN)
	@mkdir -p $(BUILD)/bench
	$(Q)VAGENT_BIN=$(abspath $(BIN)) VAGENT_TOP=$(CURDIR) BENCH_DIR=$(abspath $(BUILD)/bench) BENCH=$(BENCH) sh tests/bench/run.sh

deps:
	$(Q)sh scripts/deps

demo: vagent
	$(Q)sh scripts/demo

clean:
	$(quiet) CLEAN build
	$(Q)rm -rf build vagent

distclean: clean

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BENCH_BIN:=.d)

# ---- Fuzzing: a developer step, not part of `make check` (docs/fuzzing.md).
# Needs clang with libFuzzer (Debian: clang and libclang-rt-14-dev).
#   make fuzz                      build and run every harness FUZZ_SECONDS each
#   make fuzz FUZZ=normalize       one harness (tests/fuzz/fuzz_NAME.c)
#   make fuzz-build                only build them into build/fuzz/
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_DIR     := build/fuzz
FUZZ_ALL     := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ         ?= $(FUZZ_ALL)
FUZZ_CFLAGS   = -std=c11 -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE -O1 -g \
                $(filter-out -Werror,$(WARNINGS)) -Ilib -DVAGENT_VERSION='"$(VERSION)"' \
                -DVAGENT_POCKETSPHINX_VERSION='"$(PS_VERSION)"' \
                -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer $(PKG_CFLAGS) $(CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
# Seed corpora besides tests/fuzz/seeds/NAME (read only; new inputs go to
# build/fuzz/corpus/NAME).
FUZZ_SEEDS_transcript := $(FUZZ_DIR)/seeds/transcript fixtures/wer
FUZZ_SEEDS_normalize  := fixtures/wer
FUZZ_SEEDS_audio_load := fixtures/audio/bad
FUZZ_SEEDS_trace      := fixtures/traces
# Per-harness options: libsndfile's MPEG decoder talks on stderr (sanitizer
# reports still get through); alignment is quadratic, keep inputs modest.
FUZZ_OPTS_audio_load  := -close_fd_mask=2 -dict=tests/fuzz/audio_load.dict
FUZZ_OPTS_transcript  := -max_len=4096
FUZZ_OPTS_trace       := -dict=tests/fuzz/trace.dict

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_ALL:%=$(FUZZ_DIR)/fuzz_%) $(FUZZ_DIR)/seeds/transcript

$(FUZZ_DIR)/obj/%.o: %.c $(FUZZ_DIR)/.flags
	@mkdir -p $(dir $@)
	$(quiet) CC $<
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ) $(FUZZ_DIR)/.flags
	$(quiet) LINK $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LIBS)

$(FUZZ_DIR)/.flags: FORCE
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs $(FUZZ_CC) with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
	@mkdir -p $(FUZZ_DIR)
	@echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' | cmp -s - $@ || echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' > $@

# Reference/hypothesis pairs from fixtures/wer, "REF\n--\nHYP" as
# fuzz_transcript splits them.
$(FUZZ_DIR)/seeds/transcript: $(wildcard fixtures/wer/*.trn)
	@rm -rf $@ && mkdir -p $@
	$(Q)for r in fixtures/wer/*.ref.trn; do b=$${r%.ref.trn}; \
	  for h in $$b.hyp*.trn; do \
	    { cat $$r; printf '\n--\n'; cat $$h; } > $@/$$(basename $$h .trn).pair; \
	  done; done

# One harness run; stops `make fuzz` at the first finding (the input is in
# build/fuzz/crashes/).
define fuzz_run
	@mkdir -p $(FUZZ_DIR)/corpus/$(1) $(FUZZ_DIR)/crashes
	@echo '  FUZZ    $(1) ($(FUZZ_SECONDS) s)'
	$(Q)LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp:print_suppressions=0 \
	  $(FUZZ_DIR)/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crashes/$(1)- \
	  $(FUZZ_OPTS_$(1)) $(FUZZ_FLAGS) \
	  $(FUZZ_DIR)/corpus/$(1) tests/fuzz/seeds/$(1) $(FUZZ_SEEDS_$(1))

endef

fuzz: fuzz-build
	$(foreach n,$(FUZZ),$(call fuzz_run,$(n)))

.SECONDARY: $(FUZZ_LIB_OBJ)
-include $(FUZZ_LIB_OBJ:.o=.d)
