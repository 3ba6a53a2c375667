// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked's WireGuard crypto on the build host (noise_test.sh
 * builds and runs it): BLAKE2s, keyed BLAKE2s and HMAC-BLAKE2s of the
 * inputs noise_test.sh gives, printed in hex for Python's hashlib to
 * check; then both sides of the Noise_IKpsk2 handshake in one process,
 * with and without a PSK, a responder that trusts several keys, and
 * what each refuses.  Prints TAP.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "hs_blake2s.h"
#include "hs_noise.h"

static int n_case, failed;

static void ok(int cond, const char *name)
{
	printf("%sok %d %s\n", cond ? "" : "not ", ++n_case, name);
	failed += !cond;
}

static void hex(const char *tag, size_t len, const uint8_t *p, size_t n)
{
	size_t i;

	printf("# %s %zu ", tag, len);
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* Both sides: 0 when the keys match, else the step that failed. */
static int pair(const uint8_t *psk_i, const uint8_t *psk_r, bool other_peer,
		bool tamper)
{
	uint8_t a[32], b[32], c[32], apub[32], bpub[32], cpub[32];
	uint8_t m1[HS_NOISE_INIT_LEN], m2[HS_NOISE_RESP_LEN];
	struct hs_noise i, r;
	struct hs_noise_keys ki, kr;

	if (getrandom(a, 32, 0) != 32 || getrandom(b, 32, 0) != 32 ||
	    getrandom(c, 32, 0) != 32)
		return 1;
	hs_noise_public(apub, a);
	hs_noise_public(bpub, b);
	hs_noise_public(cpub, c);
	if (hs_noise_init(&i, a, bpub, psk_i) ||
	    hs_noise_init(&r, b, other_peer ? cpub : apub, psk_r))
		return 2;
	if (hs_noise_initiation(&i, m1))
		return 3;
	if (tamper)
		m1[60] ^= 1;
	if (hs_noise_respond(&r, m1, sizeof(m1), m2, &kr))
		return 4;
	if (hs_noise_consume_response(&i, m2, sizeof(m2), &ki))
		return 5;
	if (memcmp(ki.send, kr.recv, 32) || memcmp(ki.recv, kr.send, 32) ||
	    ki.send_index != kr.recv_index || ki.recv_index != kr.send_index ||
	    !memcmp(ki.send, ki.recv, 32))
		return 6;
	/* A second response to the same initiation is refused. */
	m2[20] ^= 1;
	if (hs_noise_consume_response(&i, m2, sizeof(m2), &ki) != -EBADMSG)
		return 7;
	return 0;
}

/*
 * A responder that trusts several keys (hs_noise_respond_any()): takes
 * the initiator's among three, learns which, and the keys match; one
 * whose list lacks it says -EACCES.  0, or the step that failed.
 */
static int respond_any(void)
{
	uint8_t a[32], b[32], zero[32] = { 0 }, peers[3][32], other[32];
	uint8_t m1[HS_NOISE_INIT_LEN], m2[HS_NOISE_RESP_LEN], bpub[32];
	struct hs_noise i, r;
	struct hs_noise_keys ki, kr;
	int k;

	if (getrandom(a, 32, 0) != 32 || getrandom(b, 32, 0) != 32)
		return 1;
	for (k = 0; k < 3; k++) {
		if (getrandom(other, 32, 0) != 32)
			return 1;
		hs_noise_public(peers[k], other);
	}
	hs_noise_public(peers[1], a);		/* the initiator, second */
	hs_noise_public(bpub, b);
	if (hs_noise_init(&i, a, bpub, NULL) || hs_noise_init(&r, b, zero, NULL))
		return 2;
	if (hs_noise_initiation(&i, m1))
		return 3;
	if (hs_noise_respond_any(&r, peers, 3, m1, sizeof(m1), m2, &kr))
		return 4;
	if (memcmp(r.peer_pub, peers[1], 32))
		return 5;
	if (hs_noise_consume_response(&i, m2, sizeof(m2), &ki) ||
	    memcmp(ki.send, kr.recv, 32) || memcmp(ki.recv, kr.send, 32))
		return 6;
	if (hs_noise_init(&r, b, zero, NULL))
		return 2;
	memcpy(peers[1], peers[2], 32);	/* now the initiator is not there */
	if (hs_noise_respond_any(&r, peers, 3, m1, sizeof(m1), m2, &kr) !=
	    -EACCES)
		return 7;
	return 0;
}

int main(void)
{
	static const size_t lens[] = { 0, 1, 3, 63, 64, 65, 128, 129, 300 };
	uint8_t key[32], data[300], out[32], psk[32], psk2[32];
	size_t k;

	printf("TAP version 13\n1..6\n");
	for (k = 0; k < 32; k++)
		key[k] = k;
	for (k = 0; k < sizeof(data); k++)
		data[k] = k * 7;
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		hs_blake2s(out, 32, NULL, 0, data, lens[k]);
		hex("blake2s", lens[k], out, 32);
		hs_blake2s(out, 16, key, 32, data, lens[k]);
		hex("keyed", lens[k], out, 16);
		hs_hmac_blake2s(out, key, 32, data, lens[k]);
		hex("hmac", lens[k], out, 32);
	}
	if (getrandom(psk, 32, 0) != 32 || getrandom(psk2, 32, 0) != 32)
		return 1;
	ok(pair(NULL, NULL, false, false) == 0, "handshake_keys_match");
	ok(pair(psk, psk, false, false) == 0, "handshake_with_psk_keys_match");
	ok(pair(psk, psk2, false, false) == 5,
	   "different_psk_response_refused");
	ok(pair(NULL, NULL, true, false) == 4,
	   "unknown_initiator_refused_by_responder");
	ok(pair(NULL, NULL, false, true) == 4, "altered_initiation_refused");
	ok(respond_any() == 0, "responder_finds_initiator_among_trusted_keys");
	return failed ? 1 : 0;
}
