// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures in tapsec, injected through the module's own fault
 * point (/sys/kernel/debug/tapsec/fail_alloc, kernel/tapsec_fault.c).  The
 * N-th allocation from now fails, for every N until a scenario runs
 * through: each failure must surface as ENOMEM at the step that allocates,
 * and nothing may leak (live socket count here; kmemleak and unload in the
 * VM runner).  Needs a kernel with CONFIG_FAULT_INJECTION_DEBUG_FS (the
 * debug test kernel); skipped elsewhere.
 */
#include <fcntl.h>
#include <netinet/tcp.h>

#include "tapsec_harness.h"
#include "tapsec_test.h"
#include "tapsec_nl.h"

#define FAULT_DIR "/sys/kernel/debug/tapsec/fail_alloc/"
#define MAX_NTH 32

static int fault_set(const char *knob, long val)
{
	char path[128], buf[32];
	int fd, len, ret;

	snprintf(path, sizeof(path), FAULT_DIR "%s", knob);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%ld\n", val);
	ret = write(fd, buf, len) == len ? 0 : -1;
	close(fd);
	return ret;
}

/* Fail the nth tapsec allocation from now on, once. */
static int fault_arm(int nth)
{
	/* should_fail() passes while space > 1, taking 1 each time. */
	return fault_set("verbose", 0) || fault_set("interval", 1) ||
	       fault_set("space", nth == 1 ? 0 : nth) ||
	       fault_set("times", 1) || fault_set("probability", 100);
}

static int fault_disarm(void)
{
	return fault_set("probability", 0) || fault_set("times", 0) ||
	       fault_set("space", 0);
}

static long live_sockets(void)
{
	struct tapsec_info info;
	struct tapsec_nl nl;
	int err;

	if (tapsec_nl_open(&nl))
		return -1;
	err = tapsec_nl_get_info(&nl, &info);
	tapsec_nl_close(&nl);
	return err ? -1 : (long)info.sockets;
}

static struct tapsec_crypto_info_aes_gcm_128 test_key(void)
{
	struct tapsec_crypto_info_aes_gcm_128 ci = {
		.info = { TAPSEC_TLS_1_3_VERSION, TAPSEC_CIPHER_AES_GCM_128 },
	};

	memset(ci.key, 0x42, sizeof(ci.key));
	memset(ci.iv, 0x17, sizeof(ci.iv));
	return ci;
}

FIXTURE(fault) {
	bool absent;	/* no fault point on this kernel */
	int lfd;
	struct sockaddr_storage srv;
	socklen_t srvlen;
	long base;
};

FIXTURE_SETUP(fault)
{
	/* The 6.1 harness runs the test even after SKIP() in setup. */
	self->lfd = -1;
	self->absent = access(FAULT_DIR "probability", W_OK) != 0;
	if (self->absent)
		return;
	ASSERT_EQ(0, fault_disarm());
	self->lfd = tt_plain_server(AF_INET, SOCK_STREAM, &self->srv, &self->srvlen);
	ASSERT_LE(0, self->lfd);
	self->base = live_sockets();
	ASSERT_LE(0, self->base);
}

#define SKIP_WITHOUT_FAULT_POINT()					\
	do {								\
		if (self->absent)					\
			SKIP(return, "no tapsec fault point (needs "	\
			     "CONFIG_FAULT_INJECTION_DEBUG_FS)");		\
	} while (0)

FIXTURE_TEARDOWN(fault)
{
	if (self->absent)
		return;
	fault_disarm();
	if (self->lfd >= 0)
		close(self->lfd);
}

/*
 * socket(), connect, TX key, RX key, a record each way.  Returns the step
 * that failed (0: none) and its errno in *err.
 */
static int keyed_connection(FIXTURE_DATA(fault) *self, int *err)
{
	struct tapsec_crypto_info_aes_gcm_128 ci = test_key();
	int fd, peer = -1, step = 0;
	char buf[256];

	*err = 0;
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	if (fd < 0) {
		*err = errno;
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&self->srv, self->srvlen)) {
		step = 2;
		goto out;
	}
	peer = accept(self->lfd, NULL, NULL);
	if (peer < 0) {
		step = 2;
		goto out;
	}
	if (setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &ci, sizeof(ci))) {
		step = 3;
		goto out;
	}
	if (setsockopt(fd, SOL_TAPSEC, TAPSEC_RX, &ci, sizeof(ci))) {
		step = 4;
		goto out;
	}
	/* The data path needs no allocation: no step can fail here. */
	if (send(fd, "hello", 5, 0) != 5 ||
	    recv(peer, buf, sizeof(buf), 0) != 5 + 5 + 1 + 16) {
		step = 5;
		goto out;
	}
	if (send(peer, buf, 5 + 5 + 1 + 16, 0) != 27 ||
	    recv(fd, buf, sizeof(buf), 0) != 5 || memcmp(buf, "hello", 5))
		step = 6;
out:
	if (step)
		*err = errno;
	if (peer >= 0)
		close(peer);
	close(fd);
	return step;
}

/* Every allocation of a keyed connection, failed in turn. */
TEST_F(fault, keyed_connection_every_allocation)
{
	int nth, step, err, last_step = 0, failures = 0;

	SKIP_WITHOUT_FAULT_POINT();

	for (nth = 1; nth <= MAX_NTH; nth++) {
		ASSERT_EQ(0, fault_arm(nth));
		step = keyed_connection(self, &err);
		ASSERT_EQ(0, fault_disarm());
		TH_LOG("allocation %d failed: step %d, %s", nth, step,
		       step ? strerror(err) : "none");
		EXPECT_EQ(self->base, live_sockets());
		if (!step)
			break;
		/* Only the allocating steps fail, and only with ENOMEM. */
		EXPECT_GE(4, step);
		EXPECT_EQ(ENOMEM, err);
		EXPECT_LE(last_step, step);
		last_step = step;
		failures++;
	}
	/* socket(), TX and RX each allocate; all were reached. */
	EXPECT_EQ(4, last_step);
	EXPECT_GE(failures, 3);
	EXPECT_LT(nth, MAX_NTH + 1);
}

/*
 * Once keys are in, records need no allocation: without a page to hand
 * TCP they are sealed in the socket's own buffer and copied.
 */
TEST_F(fault, data_path_needs_no_allocation)
{
	struct tapsec_crypto_info_aes_gcm_128 ci = test_key();
	char buf[64 * 1024];
	int fd, peer, i;

	SKIP_WITHOUT_FAULT_POINT();

	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&self->srv, self->srvlen));
	peer = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, peer);
	ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &ci, sizeof(ci)));
	ASSERT_EQ(0, fault_set("verbose", 0));
	ASSERT_EQ(0, fault_set("space", 0));
	ASSERT_EQ(0, fault_set("times", -1));
	ASSERT_EQ(0, fault_set("probability", 100));
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(sizeof(buf), send(fd, buf, sizeof(buf), 0));
		ASSERT_EQ(0, tt_drain(peer, sizeof(buf) + 4 * (5 + 1 + 16)));
	}
	ASSERT_EQ(0, fault_disarm());
	close(peer);
	close(fd);
	EXPECT_EQ(self->base, live_sockets());
}

/*
 * A TLS 1.3 key update (a new TAPSEC_TX or TAPSEC_RX of the same kind)
 * whose new key cannot be set up fails with ENOMEM and leaves the old key
 * in use, make before break: records still go out and come in under it.
 * It used to leave the socket without a transmit side, which a sender
 * already past the first check then dereferenced.
 */
TEST_F(fault, rekey_failure_keeps_key)
{
	struct tapsec_crypto_info_aes_gcm_128 ci = test_key(), next = ci;
	struct tapsec_sock_info info;
	socklen_t len = sizeof(info);
	int fd, peer, dir, nth;
	char buf[64];

	SKIP_WITHOUT_FAULT_POINT();

	memset(next.key, 0x43, sizeof(next.key));
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&self->srv, self->srvlen));
	peer = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, peer);
	ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_TX, &ci, sizeof(ci)));
	ASSERT_EQ(0, setsockopt(fd, SOL_TAPSEC, TAPSEC_RX, &ci, sizeof(ci)));
	for (dir = TAPSEC_TX; dir <= TAPSEC_RX; dir++) {
		/* Every allocation the new key makes, failed in turn. */
		for (nth = 1; nth <= 2; nth++) {
			ASSERT_EQ(0, fault_arm(nth));
			EXPECT_EQ(-1, setsockopt(fd, SOL_TAPSEC, dir, &next,
						 sizeof(next)));
			EXPECT_EQ(ENOMEM, errno) TH_LOG("%s, allocation %d",
							dir == TAPSEC_TX ? "TX" :
							"RX", nth);
			ASSERT_EQ(0, fault_disarm());
		}
		ASSERT_EQ(0, getsockopt(fd, SOL_TAPSEC, TAPSEC_SOCK_INFO,
					&info, &len));
		EXPECT_EQ(TAPSEC_STATE_ESTABLISHED, info.state);
		EXPECT_EQ(TAPSEC_TLS_1_3_VERSION, info.tx_version);
		EXPECT_EQ(TAPSEC_TLS_1_3_VERSION, info.rx_version);
	}
	/* The old keys: the peer's record (sealed here) opens, and back. */
	ASSERT_EQ(5, send(fd, "hello", 5, 0));
	ASSERT_EQ(5 + 5 + 1 + 16, recv(peer, buf, sizeof(buf), 0));
	ASSERT_EQ(27, send(peer, buf, 27, 0));
	ASSERT_EQ(5, recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	close(peer);
	close(fd);
	EXPECT_EQ(self->base, live_sockets());
}

/* A child of a tapsec listener whose context cannot be allocated. */
TEST_F(fault, accept_without_context)
{
	struct sockaddr_storage srv;
	socklen_t srvlen;
	struct tapsec_sock_info info;
	socklen_t len = sizeof(info);
	int lfd, cfd, afd;

	SKIP_WITHOUT_FAULT_POINT();

	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_TAPSEC);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, tt_bind_loopback(lfd, AF_INET, &srv, &srvlen));
	ASSERT_EQ(0, listen(lfd, 4));
	ASSERT_EQ(0, fault_arm(1));
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&srv, srvlen));
	afd = accept(lfd, NULL, NULL);
	ASSERT_EQ(0, fault_disarm());
	ASSERT_LE(0, afd);
	/* It carries nothing, in clear or otherwise. */
	EXPECT_EQ(-1, send(afd, "x", 1, 0));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(-1, getsockopt(afd, SOL_TAPSEC, TAPSEC_SOCK_INFO, &info, &len));
	EXPECT_EQ(ENOMEM, errno);
	close(afd);
	close(cfd);
	close(lfd);
	EXPECT_EQ(self->base, live_sockets());
}

TAPSEC_HARNESS_MAIN
