# clearnode — one non-recursive Makefile.
#
# Objects go to build/<variant>/ so flags never mix; protoc-c output goes to build/gen/.
# Sources are found by wildcard, so a new module file, unit test, fuzz target or benchmark
# is picked up without editing this file:
#   crypto/*.c            -> libcncrypto.a   (hashing, signatures, Merkle trees, key files)
#   proto/*.c + generated -> libcnproto.a    (wire format and bounded decoding)
#   contracts/vm/*.c      -> libcnvm.a       (contract verifier and interpreters)
#   contracts/asm/*.c     -> libcnasm.a      (assembler and disassembler)
#   node/<module>/*.c     -> libcnnode.a     (everything in node/ except node/cmd/)
#   node/cmd/<prog>/*.c, contracts/asm/cmd/*.c -> programs in build/<variant>/bin/
#   tests/unit/test_*.c   -> one cmocka binary each, run by `make test`
#   tests/integration/*.sh, run after the unit tests with the built programs on PATH
#   tests/fuzz/fuzz_*.c   -> one libFuzzer target each (`make fuzz`)
#   tests/bench/bench_*.c -> one benchmark each (`make bench`)
#
# Variables: VARIANT (release debug clang asan ubsan sanitize fuzz det-*), V=1 for verbose commands,
# FUZZ_SECONDS per fuzz target, SHARED (the directory holding vectors/).

VARIANT ?= release
SHARED ?= ../shared
FUZZ_SECONDS ?= 60
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

BUILD := build/$(VARIANT)
GEN := build/gen

# Every package the build, the tests, the fuzzers and the benchmarks need.
DEB_PKGS := gcc make pkg-config libsecp256k1-dev libsodium-dev liblmdb-dev lmdb-utils \
            libprotobuf-c-dev protobuf-c-compiler libcmocka-dev libevent-dev libjansson-dev \
            clang libclang-rt-14-dev lua5.4 curl cppcheck faketime iproute2 jq python3

PKG_LIBS := libsecp256k1 libsodium lmdb libprotobuf-c libevent libevent_pthreads jansson

# Variant flags. det-* variants exist only for `make determinism`.
OPT_release := -O2 -g
OPT_debug := -O0 -g3
OPT_asan := -O1 -g -fsanitize=address -fno-omit-frame-pointer
OPT_ubsan := -O1 -g -fsanitize=undefined -fno-sanitize-recover=all
OPT_sanitize := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT_clang := -O2 -g
OPT_fuzz := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
OPT_det-gcc-O0 := -O0
OPT_det-gcc-O2 := -O2
OPT_det-clang-O2 := -O2
OPT_det-clang-san := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all
CC_fuzz := clang
CC_clang := clang
CC_det-gcc-O0 := gcc
CC_det-gcc-O2 := gcc
CC_det-clang-O2 := clang
CC_det-clang-san := clang

ifneq ($(CC_$(VARIANT)),)
CC := $(CC_$(VARIANT))
endif
ifeq ($(origin OPT_$(VARIANT)),undefined)
$(error unknown VARIANT '$(VARIANT)': use release, debug, clang, asan, ubsan, sanitize or fuzz)
endif
OPT := $(OPT_$(VARIANT))
SAN := $(filter -fsanitize=%,$(OPT))

WARN := -Wall -Wextra -Werror -Wshadow -Wconversion -Wsign-conversion -Wmissing-prototypes \
        -Wstrict-prototypes -Wold-style-definition -Wpointer-arith -Wcast-qual -Wformat=2 \
        -Wundef -Wvla -Wimplicit-fallthrough -Wwrite-strings -Wmissing-declarations \
        -Wredundant-decls -Wnested-externs -Winit-self -Wswitch-enum

PKG_CFLAGS := $(shell pkg-config --cflags $(PKG_LIBS) 2>/dev/null)
PKG_LDLIBS := $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null)

CPPFLAGS := -I. -isystem $(GEN) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
BASE_CFLAGS := -std=c11 -pipe -fno-strict-aliasing $(OPT) -MMD -MP
CFLAGS := $(BASE_CFLAGS) $(WARN) $(PKG_CFLAGS)
# protoc-c output is not ours to fix: compile it with the default warnings only, and include
# it as a system header so its INIT macros do not trip -Wcast-qual in our code.
GEN_CFLAGS := $(BASE_CFLAGS) $(PKG_CFLAGS)
LDFLAGS := $(SAN)
LDLIBS := $(PKG_LDLIBS) -lm -lpthread

# ---- sources --------------------------------------------------------------------------------
PROTO_DEF := proto/clearnode.proto
PROTO_GEN_C := $(GEN)/proto/clearnode.pb-c.c
PROTO_GEN_H := $(GEN)/proto/clearnode.pb-c.h

CRYPTO_SRCS := $(wildcard crypto/*.c)
PROTO_SRCS := $(wildcard proto/*.c)
VM_SRCS := $(wildcard contracts/vm/*.c)
ASM_SRCS := $(wildcard contracts/asm/*.c)
NODE_SRCS := $(filter-out node/cmd/%,$(wildcard node/*/*.c))

objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_CRYPTO := $(BUILD)/lib/libcncrypto.a
LIB_PROTO := $(BUILD)/lib/libcnproto.a
LIB_VM := $(BUILD)/lib/libcnvm.a
LIB_ASM := $(BUILD)/lib/libcnasm.a
LIB_NODE := $(BUILD)/lib/libcnnode.a
# Link order: users before what they use.
ALL_LIBS := $(LIB_NODE) $(LIB_ASM) $(LIB_VM) $(LIB_PROTO) $(LIB_CRYPTO)
# clearaudit links only crypto/ and proto/, so an auditor can read everything it runs.
AUDIT_LIBS := $(LIB_PROTO) $(LIB_CRYPTO)

# A program directory counts once it holds a source file.
PROGRAM_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard node/cmd/*/*.c contracts/asm/cmd/*.c \
                                                   testnet/*/*.c))))
prog_name = $(if $(filter contracts/asm/cmd,$(1)),clearasm,$(notdir $(1)))
PROGRAMS := $(foreach d,$(PROGRAM_DIRS),$(BUILD)/bin/$(call prog_name,$(d)))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_HELPER_SRCS := $(filter-out tests/unit/test_%,$(wildcard tests/unit/*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
INTEGRATION := $(sort $(wildcard tests/integration/*.sh))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_HELPER_SRCS := $(filter-out tests/bench/bench_%,$(wildcard tests/bench/*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all test asan ubsan sanitize fuzz fuzz-build bench determinism lint clean deps check-deps \
        programs unit-tests run-tests demo
.DEFAULT_GOAL := all
# Keep objects that pattern rules build on the way to a binary.
.SECONDARY:

all: check-deps
	$(Q)$(MAKE) --no-print-directory programs

programs: $(PROGRAMS)

# ---- generated wire format ------------------------------------------------------------------
$(PROTO_GEN_C) $(PROTO_GEN_H) &: $(PROTO_DEF)
	@mkdir -p $(GEN)
	@echo "  PROTOC  $<"
	$(Q)protoc-c --c_out=$(GEN) $<

$(BUILD)/obj/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(GEN_CFLAGS) -c $< -o $@

# Every object may include the generated header, so generate it first.
$(BUILD)/obj/%.o: %.c | $(PROTO_GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# ---- libraries ------------------------------------------------------------------------------
define archive
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
endef

$(LIB_CRYPTO): $(call objs,$(CRYPTO_SRCS)) ; $(archive)
$(LIB_PROTO): $(call objs,$(PROTO_SRCS)) $(BUILD)/obj/gen/proto/clearnode.pb-c.o ; $(archive)
$(LIB_VM): $(call objs,$(VM_SRCS)) ; $(archive)
$(LIB_ASM): $(call objs,$(ASM_SRCS)) ; $(archive)
$(LIB_NODE): $(call objs,$(NODE_SRCS)) ; $(archive)

# ---- programs -------------------------------------------------------------------------------
define program_rule
$(BUILD)/bin/$(call prog_name,$(1)): $(call objs,$(wildcard $(1)/*.c)) \
		$(if $(filter node/cmd/clearaudit,$(1)),$(AUDIT_LIBS),$(ALL_LIBS))
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(PROGRAM_DIRS),$(eval $(call program_rule,$(d))))

# ---- unit tests -----------------------------------------------------------------------------
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call objs,$(UNIT_HELPER_SRCS)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# The VM vectors need only the contract libraries, so `make determinism` compiles just those
# under each compiler.
$(BUILD)/tests/test_vm_vectors: $(BUILD)/obj/tests/unit/test_vm_vectors.o $(LIB_ASM) $(LIB_VM) \
		$(LIB_PROTO) $(LIB_CRYPTO)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit-tests: $(UNIT_BINS)

# Runs every unit test binary, then every integration script, and prints one summary line.
run-tests: $(UNIT_BINS) $(PROGRAMS)
	@pass=0; fail=0; failed=""; \
	for t in $(UNIT_BINS); do \
	  echo "== $$t"; \
	  if CLEARNODE_SHARED=$(SHARED) $$t; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); failed="$$failed $$t"; fi; \
	done; \
	for t in $(INTEGRATION); do \
	  echo "== $$t"; \
	  if CLEARNODE_BIN=$(CURDIR)/$(BUILD)/bin CLEARNODE_SHARED=$(SHARED) \
	     CLEARNODE_VARIANT=$(VARIANT) bash $$t; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); failed="$$failed $$t"; fi; \
	done; \
	echo; [ -z "$$failed" ] || echo "failed:$$failed"; \
	echo "$(VARIANT): $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

test: check-deps
	$(Q)$(MAKE) --no-print-directory VARIANT=release run-tests
asan: check-deps
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(MAKE) --no-print-directory VARIANT=asan run-tests
ubsan: check-deps
	$(Q)UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(MAKE) --no-print-directory VARIANT=ubsan run-tests
# Both sanitizers in one build (they combine; CI runs this: the same checks in half the time).
sanitize: check-deps
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(MAKE) --no-print-directory VARIANT=sanitize run-tests

# ---- fuzzing --------------------------------------------------------------------------------
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# Builds every target with clang's libFuzzer and runs each for FUZZ_SECONDS on its seed corpus.
fuzz: check-deps
	$(Q)$(MAKE) --no-print-directory VARIANT=fuzz fuzz-build
	$(Q)for t in $(patsubst tests/fuzz/%.c,build/fuzz/fuzz/%,$(FUZZ_SRCS)); do \
	  n=$$(basename $$t); corpus=build/fuzz/corpus/$$n; mkdir -p $$corpus; \
	  seeds=tests/fuzz/corpus/$$n; [ -d $$seeds ] || seeds=; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$corpus $$seeds \
	    > build/fuzz/$$n.log 2>&1 || { tail -40 build/fuzz/$$n.log; exit 1; }; \
	  grep -E '^stat::number_of_executed_units' build/fuzz/$$n.log; \
	done

# ---- benchmarks -----------------------------------------------------------------------------
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(call objs,$(BENCH_HELPER_SRCS)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench: check-deps
	$(Q)$(MAKE) --no-print-directory VARIANT=release $(BENCH_BINS) programs
	$(Q)for b in $(BENCH_BINS); do echo "== $$b"; \
	  CLEARNODE_BIN=$(CURDIR)/build/release/bin $$b || exit 1; done

# ---- determinism: the VM vectors must give identical digests under every build ------------
DET_VARIANTS := det-gcc-O0 det-gcc-O2 det-clang-O2 det-clang-san
determinism: check-deps
	$(Q)for v in $(DET_VARIANTS); do \
	  $(MAKE) --no-print-directory VARIANT=$$v build/$$v/tests/test_vm_vectors || exit 1; \
	  build/$$v/tests/test_vm_vectors --digest > build/$$v/vm-digest.txt || exit 1; \
	  echo "$$v: $$(tail -1 build/$$v/vm-digest.txt)"; \
	done; \
	n=$$(for v in $(DET_VARIANTS); do cat build/$$v/vm-digest.txt; done | sort -u | wc -l); \
	if [ $$n -ne $$(wc -l < build/det-gcc-O0/vm-digest.txt) ]; then \
	  echo "determinism: digests differ between builds"; exit 1; fi; \
	echo "determinism: identical digests under $(DET_VARIANTS)"

# ---- lint -----------------------------------------------------------------------------------
# Consensus code must not use floating point (DESIGN.md §5).
lint: check-deps $(PROTO_GEN_H)
	$(Q)if grep -rnwE 'float|double' --include='*.c' --include='*.h' node crypto contracts/vm; then \
	  echo "lint: floating point in consensus code"; exit 1; fi
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	  --std=c11 --inline-suppr -I. -I$(GEN) --suppress=missingIncludeSystem \
	  crypto proto node contracts
	@echo "lint: clean"

# ---- the main job: a chain and the clearing flow, narrated --------------------------------
demo: check-deps
	$(Q)$(MAKE) --no-print-directory VARIANT=release programs
	$(Q)CLEARNODE_BIN=$(CURDIR)/build/release/bin bash testnet/demo.sh

# ---- setup ----------------------------------------------------------------------------------
# Installs missing Debian packages when run as root; otherwise prints the one line to run.
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done | tr '\n' ' '); \
	if [ -z "$$missing" ]; then echo "deps: all packages present"; exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then \
	  echo "deps: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $$missing >/dev/null || exit 1; \
	else \
	  echo "deps: missing packages; run as root:"; \
	  echo "  apt-get install -y $$missing"; exit 1; \
	fi

# Cheap check run before building: calls `deps` only when something is missing.
check-deps:
	@pkg-config --exists $(PKG_LIBS) cmocka && command -v protoc-c >/dev/null \
	  || $(MAKE) --no-print-directory deps

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
