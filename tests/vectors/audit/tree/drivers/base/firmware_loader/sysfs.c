// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic firmware sysfs fallback (firmware-sysfs + load-data): 'data' receives the image,
// writing 0 to 'loading' commits it through security_kernel_post_load_data().
static ssize_t firmware_loading_store(struct device *dev, struct device_attribute *attr,
				      const char *buf, size_t count)
{
	int loading = simple_strtol(buf, NULL, 10);

	if (loading == 0)
		return security_kernel_post_load_data(fw_priv->data, fw_priv->size,
						      LOADING_FIRMWARE, "blob");
	return count;
}

DEVICE_ATTR(loading, 0644, firmware_loading_show, firmware_loading_store);

static ssize_t firmware_data_write(struct file *filp, struct kobject *kobj,
				   struct bin_attribute *bin_attr, char *buffer, loff_t offset,
				   size_t count)
{
	memcpy(fw_priv->data + offset, buffer, count);
	return count;
}

static struct bin_attribute firmware_attr_data = {
	.attr = { .name = "data", .mode = 0644 },
	.size = 0,
	.write = firmware_data_write,
};
