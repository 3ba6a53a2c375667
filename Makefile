# SPDX-License-Identifier: GPL-2.0
#
# tapsec top-level Makefile.
#
#   make            build tapsec.ko for every test kernel, the daemon,
#                   tapsecctl and the selftests (all under build/)
#   make check      install what is missing, build, run every test (host
#                   checks and selftests in VMs on each kernel); ends with
#                   a time report and "N passed, N failed, N skipped"
#   make check FAST=1  one kernel (6.12), the tests the change touched
#   make demo       install what is missing, build, show tapsec in a VM
#   make deps       install build and test dependencies (Debian)
#   make bench      throughput of tapsec beside kTLS and TCP (stream), and
#                   beside OpenSSL DTLS and UDP (datagrams), in one VM
#   make clean      remove build/
#
# Subsets: make check KERNELS="6.12" TESTS="sock_test" (see
# Documentation/testing.rst).

B := build
PKG_NL = $(shell pkg-config --cflags --libs libnl-genl-3.0)
KSRC = $(shell tools/ksrc-extract)

USER_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	-Iuapi -Itools/lib
# The kselftest harness needs GNU C (statement expressions, typeof), and its
# macros define functions with parameters a test may not use and compare
# expected and seen values of mixed signedness.
TEST_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-sign-compare -Iuapi -Itools/lib -Iselftests/lib

NL_LIB_SRC := tools/lib/tapsec_nl.c tools/lib/tapsec_nl.h
IDS_SRC := tools/lib/tapsec_ids.c tools/lib/tapsec_ids.h
UAPI := uapi/linux/tapsec.h

SELFTEST_SRCS := $(wildcard selftests/tapsec/*_test.c)
SELFTEST_BINS := $(patsubst %.c,$(B)/%,$(SELFTEST_SRCS))

.PHONY: all kmod user selftests deps check demo bench clean

all: kmod user selftests

kmod:
	tools/build-kmod

user: $(B)/bin/tapsecctl $(B)/bin/tapsec-handshaked

$(B)/bin/tapsecctl: tools/tapsecctl/tapsecctl.c $(NL_LIB_SRC) $(IDS_SRC) $(UAPI)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< tools/lib/tapsec_nl.c tools/lib/tapsec_ids.c \
		$(PKG_NL)

$(B)/bin/tapsec-handshaked: $(wildcard userspace-handshaked/*.[ch]) \
		$(NL_LIB_SRC) $(IDS_SRC) $(UAPI)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_NL) \
		$(shell pkg-config --cflags --libs gnutls) -lpthread

selftests: $(SELFTEST_BINS) $(B)/selftests/tapsec/hs_peer \
	$(B)/selftests/tapsec/hs_late_ready.so $(B)/pycache/stamp

# esp_xfrm_test.sh runs esp_peer.py a few times a case, with python -S -m
# and PYTHONPYCACHEPREFIX=$(B)/pycache: compiled here, not on each start
# (a second and a half on the debug kernel, whose 9p root is read-only).
$(B)/pycache/stamp: selftests/tapsec/esp_peer.py
	PYTHONPYCACHEPREFIX=$(abspath $(B))/pycache /usr/bin/python3 -m py_compile $^
	@touch $@

$(B)/selftests/%_test: selftests/%_test.c $(NL_LIB_SRC) $(UAPI) \
		$(wildcard selftests/lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -I$(KSRC)/tools/testing/selftests -o $@ $< \
		tools/lib/tapsec_nl.c $(PKG_NL) -lpthread

# The peer that handshake_test.sh drives (not a kselftest-harness test).
$(B)/selftests/tapsec/hs_peer: selftests/tapsec/hs_peer.c $(UAPI)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $<

# Preloaded into tapsec-handshaked by handshake_test.sh (a timing race).
$(B)/selftests/tapsec/hs_late_ready.so: selftests/tapsec/hs_late_ready.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -shared -fPIC -o $@ $< -ldl

deps:
	scripts/install-deps

# tools/check --build installs, builds (the debug kernel beside the first
# tests) and runs; FAST=1: one kernel, the tests the change touched.
check:
	tools/check --build $(if $(FAST),--fast) \
		$(if $(KERNELS),--kernels "$(KERNELS)") \
		$(if $(TESTS),--tests "$(TESTS)") $(if $(JOBS),--jobs $(JOBS))

demo: deps
	$(MAKE) all
	tools/demo

bench: deps
	$(MAKE) all
	tools/bench/run

clean:
	rm -rf $(B)
