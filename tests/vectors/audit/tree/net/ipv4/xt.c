// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The vouch authors
// Synthetic iptables setsockopt: SO_SET_REPLACE replaces the whole table (sockopt-replace);
// neg_counters_ctl only adds counters and must not match.
static int do_ipt_set_ctl(struct sock *sk, int cmd, sockptr_t arg, unsigned int len)
{
	int ret;

	switch (cmd) {
	case IPT_SO_SET_REPLACE:
		ret = do_replace(sock_net(sk), arg, len);
		break;
	default:
		ret = -EINVAL;
	}
	return ret;
}

static int neg_counters_ctl(struct sock *sk, int cmd, sockptr_t arg, unsigned int len)
{
	int ret;

	switch (cmd) {
	case IPT_SO_SET_ADD_COUNTERS:
		ret = do_add_counters(sock_net(sk), arg, len);
		break;
	default:
		ret = -EINVAL;
	}
	return ret;
}
