# respq build. Targets: all (default), check (unit tests), test (every suite),
# compat (the redis-compat client programs alone), run, bench, install, clean.
# `make SANITIZE=1 ...` builds with ASan + UBSan; `V=1` shows full commands.
# Objects are rebuilt when the flags change (the settings stamp), so switching
# between SANITIZE builds never mixes objects.

PREFIX ?= /usr/local
PYTHON ?= /usr/bin/python3
PORT ?= 6390

PKGS := jemalloc liblz4 hiredis nettle
OPT ?= -O2
WARN := -Wall -Wextra -Werror
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -MMD -MP -Isrc
ifeq ($(SANITIZE),1)
  # ASan brings its own allocator, so jemalloc is left out of this build.
  SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  PKG_LIBS = $(shell pkg-config --libs liblz4 hiredis nettle 2>/dev/null)
else
  SAN :=
  PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(CFLAGS_BASE) $(SAN) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm

ifeq ($(V),1)
  Q :=
  say = @true
else
  Q := @
  say = @printf '  %-6s %s\n' $(1) $(2)
endif

SERVER := src/respq-server
AOF_TOOL := src/respq-aof
BENCH_TOOL := src/respq-benchmark
BENCH_OBJS := src/tools/respq-benchmark.o src/tools/benchproto.o src/tools/benchhist.o
LIB_SRCS := src/mem.c src/resp.c src/ev.c src/log.c src/net.c src/server.c \
            src/aof.c src/aofframe.c src/aofmanifest.c src/aofrec.c src/cmd_replay.c \
            src/commands.c src/cmd_server.c src/cmd_queue.c src/config.c \
            $(wildcard src/engine/*.c)
LIB_OBJS := $(LIB_SRCS:.c=.o)
LIB := src/librespq.a
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:.c=)
SETTINGS := src/.make-settings

.PHONY: all check test unit integration compat compat-build run bench install clean deps deps-bench FORCE

all: $(SERVER) $(AOF_TOOL) $(BENCH_TOOL)

# The stamp changes only when the flags do, and everything depends on it.
$(SETTINGS): FORCE
	@echo '$(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)' | cmp -s - $@ || \
	  echo '$(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)' > $@

%.o: %.c $(SETTINGS)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SERVER): src/main.o $(LIB)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ src/main.o $(LIB) $(LIBS)

# respq-aof takes from the archive only the objects it uses (frames, records, the
# engine it applies them to, the RESP parser); hiredis (replay) and lz4 come
# with LIBS.
$(AOF_TOOL): src/tools/respq-aof.o $(LIB)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ src/tools/respq-aof.o $(LIB) $(LIBS)

# respq-benchmark: its protocols and histogram, plus the RESP writer from the
# archive; hiredis reads the RESP replies.
$(BENCH_TOOL): $(BENCH_OBJS) $(LIB)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(BENCH_OBJS) $(LIB) $(LIBS)

tests/unit/test_benchhist: tests/unit/test_benchhist.o src/tools/benchhist.o
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

tests/unit/test_%: tests/unit/test_%.o $(LIB)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS) -lcmocka

deps:
	@sh deps/install.sh

deps-bench:
	@sh deps/install.sh bench

# Unit tests: every cmocka binary; a failing one fails the target after all ran.
check: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; ./$$t || fail=1; done; \
	  exit $$fail

integration: $(SERVER) $(AOF_TOOL)
	$(PYTHON) -m pytest tests/integration

# redis-compat/: the C client programs (hiredis; libev has no pkg-config file on
# Debian; without -Isrc, whose ev.h would hide libev's), the Node packages from
# the committed lock file, then every program against a server of its own.
COMPAT_C := redis-compat/c/hiredis_sync redis-compat/c/hiredis_async
NODE_DIR := redis-compat/node

redis-compat/c/%: redis-compat/c/%.c $(SETTINGS)
	$(call say,CC,$@)
	$(Q)$(CC) $(filter-out -Isrc,$(CFLAGS_BASE)) $(SAN) $(shell pkg-config --cflags hiredis) $(CFLAGS) \
	  -o $@ $< $(ALL_LDFLAGS) $(shell pkg-config --libs hiredis) -lev

$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json
	$(call say,NPM,$(NODE_DIR))
	$(Q)cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error

compat-build: $(SERVER) $(COMPAT_C) $(NODE_DIR)/node_modules/.package-lock.json

compat: deps
	@$(MAKE) --no-print-directory compat-build
	sh redis-compat/run.sh

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory compat-build
	sh redis-compat/run.sh

# The data (the append-only file) goes to ./data, kept out of git.
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p data
	./$(SERVER) respq.conf --port $(PORT) --dir data

# The side-by-side comparison (about 8 minutes on 2 cores); tests/bench/run.sh
# runs the narrower benchmark scripts (PING, queue ops, durability) as well.
bench: deps-bench all
	sh tests/bench/compare.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(SERVER) $(AOF_TOOL) $(BENCH_TOOL) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -f src/*.o src/*.d src/engine/*.o src/engine/*.d src/tools/*.o src/tools/*.d \
	  tests/unit/*.o tests/unit/*.d $(UNIT_BINS) $(SERVER) $(AOF_TOOL) $(BENCH_TOOL) $(LIB) \
	  $(SETTINGS) $(COMPAT_C)

-include $(wildcard src/*.d src/engine/*.d src/tools/*.d tests/unit/*.d)
