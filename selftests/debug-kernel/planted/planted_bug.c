// SPDX-License-Identifier: GPL-2.0
/*
 * planted_bug: a test-only module with deliberate bugs, loaded on tapsec's
 * debug kernel to prove that its checkers catch them and that the VM runner
 * fails the run when they do.  Never load it anywhere else.
 *
 *   insmod planted_bug.ko mode=oob    heap out-of-bounds write   -> KASAN
 *   insmod planted_bug.ko mode=leak   unreferenced allocation    -> kmemleak
 *   insmod planted_bug.ko mode=none   no bug (control run)
 *
 * Writing to /sys/module/planted_bug/parameters/alloc allocates and frees a
 * buffer through planted_alloc(), a fault point of the module's own
 * (/sys/kernel/debug/planted_bug/fail_alloc, the usual fault_attr knobs):
 * tests of tools/vm/failinject arm it and see the write fail with ENOMEM.
 *
 * The module loads successfully in every mode, so a failed run can only come
 * from the checker's report, not from insmod.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *mode = "none";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "bug to plant on load: oob, leak or none");

/*
 * Offset of the out-of-bounds write.  A module parameter, read through a
 * volatile access, so the compiler neither knows the value (no
 * -Warray-bounds, no folding) nor can drop the store.
 */
static unsigned int oob_offset = 64;
module_param(oob_offset, uint, 0444);
MODULE_PARM_DESC(oob_offset, "byte written after kmalloc(64) in mode=oob");

static int plant_oob(void)
{
	char *buf;
	size_t off;

	buf = kmalloc(64, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	off = READ_ONCE(oob_offset);
	pr_info("writing byte %zu of a 64-byte kmalloc buffer\n", off);
	((volatile char *)buf)[off] = 0x5a;	/* the bug */
	kfree(buf);
	return 0;
}

/* Keeps the compiler from seeing that the allocation is never used. */
static void *volatile leak_sink;

static int plant_leak(void)
{
	void *p;

	p = kmalloc(128, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	memset(p, 0xa5, 128);
	WRITE_ONCE(leak_sink, p);
	WRITE_ONCE(leak_sink, NULL);	/* the bug: the last reference is gone */
	pr_info("leaked a 128-byte kmalloc buffer\n");
	return 0;
}

#ifdef CONFIG_FAULT_INJECTION
/* This module's fault point: /sys/kernel/debug/planted_bug/fail_alloc/. */
static DECLARE_FAULT_ATTR(planted_fail_alloc);
static struct dentry *planted_debugfs;

static void planted_fault_init(void)
{
	planted_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	fault_create_debugfs_attr("fail_alloc", planted_debugfs,
				  &planted_fail_alloc);
}

static void planted_fault_exit(void)
{
	debugfs_remove_recursive(planted_debugfs);
}

static void *planted_alloc(size_t size)
{
	if (should_fail(&planted_fail_alloc, size))
		return NULL;
	return kmalloc(size, GFP_KERNEL);
}
#else
static void planted_fault_init(void) { }
static void planted_fault_exit(void) { }

static void *planted_alloc(size_t size)
{
	return kmalloc(size, GFP_KERNEL);
}
#endif

static unsigned int alloc_size = 256;
module_param(alloc_size, uint, 0644);
MODULE_PARM_DESC(alloc_size, "size allocated by a write to alloc");

static int alloc_set(const char *val, const struct kernel_param *kp)
{
	void *p = planted_alloc(READ_ONCE(alloc_size));

	if (!p) {
		pr_info("planted_alloc failed\n");
		return -ENOMEM;
	}
	kfree(p);
	return 0;
}

static const struct kernel_param_ops alloc_ops = {
	.set = alloc_set,
};
module_param_cb(alloc, &alloc_ops, NULL, 0200);
MODULE_PARM_DESC(alloc, "write anything: allocate through planted_alloc()");

static int __init planted_bug_init(void)
{
	int ret;

	if (!strcmp(mode, "oob")) {
		ret = plant_oob();
	} else if (!strcmp(mode, "leak")) {
		ret = plant_leak();
	} else if (!strcmp(mode, "none")) {
		ret = 0;
	} else {
		pr_err("unknown mode \"%s\" (oob, leak or none)\n", mode);
		ret = -EINVAL;
	}
	if (!ret)
		planted_fault_init();
	return ret;
}

static void __exit planted_bug_exit(void)
{
	planted_fault_exit();
}

module_init(planted_bug_init);
module_exit(planted_bug_exit);
MODULE_DESCRIPTION("Deliberate bugs for testing tapsec's debug kernel");
MODULE_LICENSE("GPL");
