// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in module named "tapsec" for selftests/vm-runner/vm_run_test.sh:
 * it lets the test check that tools/vm-run unloads tapsec after the command
 * and fails the run when it cannot.  With pin=1 the module takes a reference
 * on itself, so rmmod refuses ("in use"), like a leaked socket would; with
 * leak=1 it leaks 64 bytes, for kmemleak to find.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static bool pin;
module_param(pin, bool, 0444);
MODULE_PARM_DESC(pin, "hold a reference on the module so it cannot unload");

static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "leak a 64-byte allocation");

static int __init fake_tapsec_init(void)
{
	char *p;

	if (pin)
		__module_get(THIS_MODULE);
	if (leak) {
		p = kmalloc(64, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		strscpy(p, "fake-tapsec leak", 64);
	}
	return 0;
}

static void __exit fake_tapsec_exit(void)
{
}

module_init(fake_tapsec_init);
module_exit(fake_tapsec_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vm-run selftest stand-in for the tapsec module");
