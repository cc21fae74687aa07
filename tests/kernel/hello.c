// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The vouch authors */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("hello from %s\n", argc > 0 ? argv[0] : "?");
	return 0;
}
