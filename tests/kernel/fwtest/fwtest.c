// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel rig's firmware test module: on load, a fake platform device requests the
 * firmware file named by the parameter "name" (request_firmware(), so IMA's FIRMWARE_CHECK
 * appraises it), logs what happened and fails the load with the loader's error.  Built by
 * tests/kernel/rig.sh against Debian's linux-headers for the rig's kernel.
 *
 * Copyright (C) 2026 The vouch authors
 */
#include <linux/err.h>
#include <linux/firmware.h>
#include <linux/module.h>
#include <linux/platform_device.h>

static char *name = "vouch-rig.bin";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "the firmware file to request");

static int __init fwtest_init(void)
{
	struct platform_device *pdev;
	const struct firmware *fw;
	int ret;

	pdev = platform_device_register_simple("vouch-fwtest", -1, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	ret = request_firmware(&fw, name, &pdev->dev);
	if (ret == 0) {
		pr_info("vouch-fwtest: %s loaded, %zu bytes\n", name, fw->size);
		release_firmware(fw);
	} else {
		pr_info("vouch-fwtest: %s not loaded: %d\n", name, ret);
	}
	platform_device_unregister(pdev);
	return ret;
}

static void __exit fwtest_exit(void)
{
}

module_init(fwtest_init);
module_exit(fwtest_exit);
MODULE_DESCRIPTION("vouch kernel rig: request one firmware file");
MODULE_LICENSE("GPL");
