// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Negative for policy-write: the same shape outside security/ is out of the rule's scope.
static ssize_t neg_outside_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	char *data = memdup_user_nul(buf, count);

	if (IS_ERR(data))
		return PTR_ERR(data);
	return parse_policy_blob(data, count);
}
