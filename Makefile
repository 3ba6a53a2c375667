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
# Installing on one's own machine (Documentation/install.rst):
#
#   make user                       the daemon and tapsecctl
#   make modules [KDIR=...]         tapsec.ko for the running kernel (or KDIR)
#   make install [PREFIX=/usr/local] [DESTDIR=...]
#                                   daemon, tapsecctl, the uapi header,
#                                   tapsec.pc, the systemd unit, the man
#                                   pages, bash completion, a configuration
#   make modules_install [KDIR=...] [DESTDIR=...]
#   make dkms_install [DESTDIR=...]  the module's sources and dkms.conf in
#                                   /usr/src/tapsec-VERSION, for
#                                   `dkms install tapsec/VERSION`
#
# CFLAGS, CPPFLAGS and LDFLAGS are the user's; WERROR=1 (what make check
# and the project's own builds use) makes warnings errors.
#
# Subsets: make check KERNELS="6.12" TESTS="sock_test" (see
# Documentation/testing.rst).

B := build
PKG_NL = $(shell pkg-config --cflags --libs libnl-genl-3.0)
KSRC = $(shell tools/ksrc-extract)
# One version for the module, the daemon and tapsecctl.
VERSION := $(shell cat VERSION)

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra $(if $(WERROR),-Werror)
USER_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Iuapi -Itools/lib \
	-DTAPSEC_VERSION='"$(VERSION)"' $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)
# The kselftest harness needs GNU C (statement expressions, typeof), and its
# macros define functions with parameters a test may not use and compare
# expected and seen values of mixed signedness.
TEST_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) -Wno-unused-parameter \
	-Wno-sign-compare -Iuapi -Itools/lib -Iselftests/lib \
	-DTAPSEC_VERSION='"$(VERSION)"' $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR ?= $(PREFIX)/lib
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(LIBDIR)/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/tapsec
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
KDIR ?= /lib/modules/$(shell uname -r)/build

NL_LIB_SRC := tools/lib/tapsec_nl.c tools/lib/tapsec_nl.h
IDS_SRC := tools/lib/tapsec_ids.c tools/lib/tapsec_ids.h
UAPI := uapi/linux/tapsec.h

SELFTEST_SRCS := $(wildcard selftests/tapsec/*_test.c)
SELFTEST_BINS := $(patsubst %.c,$(B)/%,$(SELFTEST_SRCS))

.PHONY: all kmod user man selftests deps check demo bench clean install \
	modules modules_install dkms_install

all: kmod user man selftests

kmod:
	tools/build-kmod

user: $(B)/bin/tapsecctl $(B)/bin/tapsec-handshaked

$(B)/bin/tapsecctl: $(wildcard tools/tapsecctl/*.[ch]) $(NL_LIB_SRC) $(IDS_SRC) \
		$(UAPI) VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -Itools/tapsecctl -o $@ \
		$(filter %.c,$^) $(PKG_NL)

$(B)/bin/tapsec-handshaked: $(wildcard userspace-handshaked/*.[ch]) \
		$(NL_LIB_SRC) $(IDS_SRC) $(UAPI) VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_NL) \
		$(shell pkg-config --cflags --libs gnutls hogweed nettle) -lpthread

# Man pages from Documentation/man/NAME.SECTION.rst (python3-docutils); a
# docutils warning fails the build.
MAN_SRCS := $(wildcard Documentation/man/*.rst)
MAN_PAGES := $(patsubst Documentation/man/%.rst,$(B)/man/%,$(MAN_SRCS))

man: $(MAN_PAGES)

$(B)/man/%: Documentation/man/%.rst
	@mkdir -p $(@D)
	rst2man --halt=warning --exit-status=warning $< $@

# The developer guide's examples (Documentation/guide.rst), which
# handshake_test.sh runs against each other.
EXAMPLE_SRCS := $(wildcard Documentation/examples/*.c)
EXAMPLES := $(patsubst Documentation/examples/%.c,$(B)/examples/%,$(EXAMPLE_SRCS))

$(B)/examples/%: Documentation/examples/%.c \
		Documentation/examples/tapsec_example.h $(UAPI)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -Iuapi $(CPPFLAGS) $(CFLAGS) \
		$(LDFLAGS) -o $@ $<

selftests: $(EXAMPLES) $(SELFTEST_BINS) $(B)/selftests/tapsec/hs_peer \
	$(B)/selftests/tapsec/hs_late_ready.so $(B)/pycache/stamp \
	$(B)/selftests/lib/pyzygote-run $(B)/selftests/lib/nsrun

# esp_xfrm_test.sh and wg_interop_test.sh import esp_peer.py and wg_peer.py
# in their Python zygote (python -S, PYTHONPYCACHEPREFIX=$(B)/pycache):
# compiled here, not on each start (a second and a half on the debug
# kernel, whose 9p root is read-only).
$(B)/pycache/stamp: selftests/tapsec/esp_peer.py selftests/tapsec/wg_peer.py
	PYTHONPYCACHEPREFIX=$(abspath $(B))/pycache /usr/bin/python3 -m py_compile $^
	@touch $@

$(B)/selftests/%_test: selftests/%_test.c $(NL_LIB_SRC) $(UAPI) \
		$(wildcard selftests/lib/*.h) VERSION
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -I$(KSRC)/tools/testing/selftests -o $@ $< \
		tools/lib/tapsec_nl.c $(PKG_NL) -lpthread

# The peer that handshake_test.sh drives (not a kselftest-harness test).
$(B)/selftests/tapsec/hs_peer: selftests/tapsec/hs_peer.c $(UAPI)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $<

# Runs a Python peer in the suites' zygote (selftests/lib/pyzygote.sh);
# nsrun: nsenter and timeout in one process start, for the shell suites.
$(B)/selftests/lib/pyzygote-run: selftests/lib/pyzygote_run.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(B)/selftests/lib/nsrun: selftests/lib/nsrun.c
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

# tapsec.ko for KDIR (default: the running kernel), without the project's
# W=1 and -Werror: a newer compiler's new warning must not stop a user.
modules:
	tools/build-kmod --kdir $(KDIR)

modules_install: modules
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(MAKE) -C $(KDIR) \
		M=$(abspath $(B))/kmod/local INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR) DEPMOD=true) \
		modules_install

# The module's sources as DKMS wants them: /usr/src/NAME-VERSION with a
# dkms.conf naming that version.  DKMS builds in a copy, with Kbuild at its
# top, so nothing of build/ goes along.
DKMS_SRC = $(DESTDIR)/usr/src/tapsec-$(VERSION)
dkms_install:
	install -d $(DKMS_SRC)/kernel $(DKMS_SRC)/uapi/linux
	install -m 644 Kbuild VERSION LICENSE $(DKMS_SRC)/
	install -m 644 kernel/*.[ch] $(DKMS_SRC)/kernel/
	install -m 644 $(UAPI) $(DKMS_SRC)/uapi/linux/
	sed 's/@VERSION@/$(VERSION)/' dkms.conf.in >$(DKMS_SRC)/dkms.conf

# tapsec.pc and the unit name PREFIX's paths: written at install time.
# The example configuration goes to the documentation: the daemon's real
# one (SYSCONFDIR/tapsec/handshaked.conf) names keys only its admin has,
# so an empty one is installed, and never over an existing one.
install: user man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/tapsec
	install -m 755 $(B)/bin/tapsecctl $(DESTDIR)$(BINDIR)/
	install -D -m 644 tools/tapsecctl/tapsecctl.bash \
		$(DESTDIR)$(BASHCOMPDIR)/tapsecctl
	install -m 755 $(B)/bin/tapsec-handshaked $(DESTDIR)$(SBINDIR)/
	install -m 644 $(UAPI) $(DESTDIR)$(INCLUDEDIR)/linux/
	printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$(INCLUDEDIR)' '' \
		'Name: tapsec' \
		'Description: tapsec secure sockets (uapi: linux/tapsec.h)' \
		'Version: $(VERSION)' 'Cflags: -I$${includedir}' \
		>$(DESTDIR)$(PKGCONFIGDIR)/tapsec.pc
	sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/usr/bin/|$(BINDIR)/|g' \
		-e 's|/etc/tapsec/|$(SYSCONFDIR)/tapsec/|g' \
		userspace-handshaked/tapsec-handshaked.service \
		>$(DESTDIR)$(UNITDIR)/tapsec-handshaked.service
	install -m 644 userspace-handshaked/tapsec-handshaked.conf.example \
		README.md LICENSE $(DESTDIR)$(DOCDIR)/
	for p in $(MAN_PAGES); do \
		install -D -m 644 $$p \
			$(DESTDIR)$(MANDIR)/man$${p##*.}/$${p##*/} || exit 1; \
	done
	[ -e $(DESTDIR)$(SYSCONFDIR)/tapsec/handshaked.conf ] || \
		install -m 644 userspace-handshaked/handshaked.conf.default \
			$(DESTDIR)$(SYSCONFDIR)/tapsec/handshaked.conf
