// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic policy file system (policy-write): 'policy' parses a blob; 'level' only reads
// a number (kstrtoint: negative); 'name' copies a fixed size (negative).
static ssize_t policy_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	char *data = memdup_user_nul(buf, count);
	int ret;

	if (IS_ERR(data))
		return PTR_ERR(data);
	ret = parse_policy_blob(data, count);
	kfree(data);
	return ret ? ret : count;
}

static ssize_t neg_level_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	char *data = memdup_user_nul(buf, count);
	int level, ret;

	if (IS_ERR(data))
		return PTR_ERR(data);
	ret = kstrtoint(data, 0, &level);
	kfree(data);
	return ret ? ret : count;
}

static ssize_t neg_name_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	char name[16];

	if (copy_from_user(name, buf, sizeof(name)))
		return -EFAULT;
	return set_name(name);
}

static const struct file_operations policy_ops = {
	.write = policy_write,
	.llseek = generic_file_llseek,
};

static const struct file_operations level_ops = {
	.write = neg_level_write,
};

static int __init policyfs_init(void)
{
	securityfs_create_file("policy", 0600, NULL, NULL,
			       &policy_ops);
	securityfs_create_file("level", 0600, NULL, NULL, &level_ops);
	return 0;
}
