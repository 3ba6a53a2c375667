// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec: a fault point of the module's own, for tests of its allocation
 * failure paths: /sys/kernel/debug/tapsec/fail_alloc/ with the usual
 * fault_attr knobs (probability, times, space, ...).  Every allocation
 * tapsec makes asks tapsec_fail_alloc() first.
 *
 * failslab and fail_page_alloc cannot be limited to one module on x86_64
 * (FAULT_INJECTION_STACKTRACE_FILTER depends on !X86_64), hence this.
 * Built only on kernels with CONFIG_FAULT_INJECTION_DEBUG_FS (the debug
 * test kernel); elsewhere tapsec_fail_alloc() is constant false.
 */
#include <linux/debugfs.h>
#include <linux/fault-inject.h>

#include "tapsec.h"

static DECLARE_FAULT_ATTR(tapsec_fail_alloc_attr);
static struct dentry *tapsec_debugfs;

/**
 * tapsec_fail_alloc() - whether the next allocation should fail
 *
 * Return: true when fault injection says so.
 */
bool tapsec_fail_alloc(void)
{
	return should_fail(&tapsec_fail_alloc_attr, 1);
}

/**
 * tapsec_fault_init() - create /sys/kernel/debug/tapsec/fail_alloc
 */
void tapsec_fault_init(void)
{
	tapsec_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	fault_create_debugfs_attr("fail_alloc", tapsec_debugfs,
				  &tapsec_fail_alloc_attr);
}

/**
 * tapsec_fault_exit() - remove it
 */
void tapsec_fault_exit(void)
{
	debugfs_remove_recursive(tapsec_debugfs);
}
