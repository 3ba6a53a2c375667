/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tapsec-handshaked: the worker threads that run the handshakes.
 */
#ifndef HS_WORKER_H
#define HS_WORKER_H

#include "hs.h"
#include "hs_config.h"
#include "hs_netlink.h"

struct hs_pool;

/*
 * Start @workers threads, reporting on @nl (which must outlive the pool).
 * Each handshake uses the configuration current when it starts
 * (hs_config_get()).  NULL (and logged) on failure.
 */
struct hs_pool *hs_pool_start(unsigned int workers, struct hs_nl *nl);

/* Hand an accepted handshake over; the pool owns @req from now on. */
void hs_pool_submit(struct hs_pool *pool, struct hs_request *req);

/*
 * Let every handshake handed over run to its end (each is bounded by its
 * timeout), then stop the threads and free the pool.
 */
void hs_pool_stop(struct hs_pool *pool);

#endif /* HS_WORKER_H */
