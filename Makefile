# Atmosphere: one non-recursive GNU Makefile.
#   make            build everything into $(BUILD) (default: build/)
#   make check      build and run the whole suite (unit, loopback, interop, NAT lab)
#   make asan       the same suite under ASan + UBSan, in build-asan/
#   make bench      build and run the benchmarks in bench/
#   make install    PREFIX=/usr/local DESTDIR=
# BUILD=dir keeps separate trees apart (parallel work, sanitizer builds).

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
BUILD	?= build
SAN	?= 0

PKGS		:= msgpack libbsd-overlay libsodium openssl inih jansson libqrencode libsystemd
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS))
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS)) -lev -lwslay -lm
CHECK_CFLAGS	:= $(shell pkg-config --cflags check)
CHECK_LIBS	:= $(shell pkg-config --libs check)

CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -I. $(PKG_CFLAGS)
DEPFLAGS = -MMD -MP
LDLIBS	+= $(PKG_LIBS) -pthread
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS	+= $(SANFLAGS)
LDFLAGS	+= $(SANFLAGS)
endif

# --- sources, explicit per program ------------------------------------------

COMMON_SRCS := \
	common/log.c \
	common/config.c \
	common/paths.c \
	common/daemon.c \
	common/netaddr.c \
	common/relay_client.c

PROTO_SRCS := \
	proto/methods.c \
	proto/packet.c \
	proto/token.c \
	proto/relaymsg.c

STUND_SRCS_LATER := \
	stund/stund.c \
	stund/stund_config.c \
	stund/control.c \
	stund/probe.c \
	stund/resolve.c \
	stund/discover.c \
	stund/natbehav.c \
	stund/natbehav_classify.c \
	stund/server.c

# stund files the unit tests link (no IPC, no main)
STUND_LOGIC_SRCS :=

# relayd/control.c joins once common/ipc.c and common/mpack.c are linked
RELAYD_SRCS := \
	relayd/relayd.c \
	relayd/relayd_config.c \
	relayd/server.c \
	relayd/http.c \
	relayd/ws.c \
	relayd/session.c \
	relayd/iplimit.c \
	relayd/tls.c \
	relayd/metrics.c

PUNCHD_SRCS :=

MESHCTL_SRCS_LATER := \
	meshctl/meshctl.c \
	meshctl/util.c \
	meshctl/cmd_status.c \
	meshctl/cmd_network.c

UNIT_SRCS := tests/unit/runner.c $(wildcard tests/unit/check_*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
BENCH_SRCS := $(wildcard bench/*.c)

# --- derived -----------------------------------------------------------------

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBATMO	:= $(BUILD)/libatmo.a
# a program is built once its source list is filled in
PROGS	:= $(foreach p,stund relayd punchd meshctl,\
	$(if $(strip $($(shell echo $(p) | tr a-z A-Z)_SRCS)),$(BUILD)/bin/$(p)))
UNIT	:= $(BUILD)/tests/unit_tests
TOOLS	:= $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRCS))
BENCHES	:= $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

ALL_SRCS := $(COMMON_SRCS) $(PROTO_SRCS) $(STUND_SRCS) $(RELAYD_SRCS) \
	$(PUNCHD_SRCS) $(MESHCTL_SRCS) $(UNIT_SRCS) $(TOOL_SRCS) $(BENCH_SRCS)

.PHONY: all check unit asan bench install clean
all: $(PROGS) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(call obj,$(UNIT_SRCS)): CFLAGS += $(CHECK_CFLAGS)

$(LIBATMO): $(call obj,$(COMMON_SRCS) $(PROTO_SRCS))
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/stund: $(call obj,$(STUND_SRCS)) $(LIBATMO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/relayd: $(call obj,$(RELAYD_SRCS)) $(LIBATMO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/punchd: $(call obj,$(PUNCHD_SRCS)) $(LIBATMO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/meshctl: $(call obj,$(MESHCTL_SRCS)) $(LIBATMO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests link the daemons' logic files directly (no main()).
UNIT_LINK := $(call obj,$(STUND_LOGIC_SRCS)) \
	$(filter-out $(call obj,relayd/relayd.c punchd/punchd.c),\
	$(call obj,$(RELAYD_SRCS) $(PUNCHD_SRCS)))

$(UNIT): $(call obj,$(UNIT_SRCS)) $(UNIT_LINK) $(LIBATMO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBATMO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBATMO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(UNIT)
	$(UNIT)

check: all $(UNIT)
	BUILD=$(BUILD) sh tests/run.sh

asan:
	$(MAKE) BUILD=build-asan SAN=1 CFLAGS="-O1 -g" check

bench: all $(BENCHES)
	BUILD=$(BUILD) sh bench/run.sh

install: $(PROGS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	for p in stund relayd punchd; do \
		[ -x $(BUILD)/bin/$$p ] && install -m 0755 $(BUILD)/bin/$$p $(DESTDIR)$(SBINDIR)/$$p; \
	done; true
	install -m 0755 $(BUILD)/bin/meshctl $(DESTDIR)$(BINDIR)/meshctl

clean:
	rm -rf build build-asan $(filter-out build build-asan,$(BUILD))

-include $(patsubst %.c,$(BUILD)/obj/%.d,$(ALL_SRCS))
