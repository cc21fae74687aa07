// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Negative for firmware-sysfs: a bin_attribute write outside the firmware loader.
static ssize_t neg_eeprom_write(struct file *filp, struct kobject *kobj,
				struct bin_attribute *bin_attr, char *buffer, loff_t offset,
				size_t count)
{
	memcpy(eeprom + offset, buffer, count);
	return count;
}

static struct bin_attribute eeprom_attr = {
	.attr = { .name = "eeprom", .mode = 0600 },
	.write = neg_eeprom_write,
};
