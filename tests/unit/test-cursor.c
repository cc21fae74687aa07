// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The vouch authors */
#include "cursor.h"
#include "internal.h"
#include "tap.h"

int main(void)
{
	static const uint8_t buf[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x03,
				       0xaa, 0xbb, 0xcc };
	struct cursor c, sub;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p = NULL;
	size_t n = 0;

	cur_init(&c, buf, sizeof(buf));
	ok_ret(cur_u8(&c, &u8), "u8");
	ok(u8 == 1, "u8 value");
	ok_ret(cur_u16be(&c, &u16), "u16be");
	ok(u16 == 0x0203, "u16be value");
	ok_ret(cur_u16le(&c, &u16), "u16le");
	ok(u16 == 0x0504, "u16le value");
	ok_ret(cur_u16be(&c, &u16), "u16be again");
	ok_ret(cur_u8(&c, &u8), "u8 again");
	ok(u8 == 0x08, "position after mixed reads");
	ok_ret(cur_tpm2b(&c, &p, &n), "tpm2b");
	ok(n == 3 && p[0] == 0xaa && p[2] == 0xcc, "tpm2b contents");
	ok(cur_left(&c) == 0, "consumed exactly");
	ok_err(cur_u8(&c, &u8), -EBADMSG, "short u8 fails");

	/* a TPM2B whose size runs past the end fails and leaves the cursor alone */
	cur_init(&c, (const uint8_t[]){ 0x00, 0x05, 0x01, 0x02 }, 4);
	ok_err(cur_tpm2b(&c, &p, &n), -EBADMSG, "overlong tpm2b refused");
	ok(cur_left(&c) == 4, "failed tpm2b does not advance");

	cur_init(&c, buf, 3);
	ok_err(cur_u32be(&c, &u32), -EBADMSG, "short u32 refused");
	ok(cur_left(&c) == 3, "failed read does not advance");
	ok_err(cur_u64le(&c, &u64), -EBADMSG, "short u64 refused");
	ok_err(cur_skip(&c, 4), -EBADMSG, "skip past end refused");
	ok_err(cur_sub(&c, 4, &sub), -EBADMSG, "sub past end refused");
	ok_ret(cur_sub(&c, 2, &sub), "sub inside");
	ok(cur_left(&sub) == 2 && cur_left(&c) == 1, "sub splits the cursor");

	cur_init(&c, buf, sizeof(buf));
	ok_ret(cur_u32le(&c, &u32), "u32le");
	ok(u32 == 0x04030201, "u32le value");
	cur_init(&c, buf, sizeof(buf));
	ok_ret(cur_u64be(&c, &u64), "u64be");
	ok(u64 == 0x0102030405060708ULL, "u64be value");
	cur_init(&c, buf, sizeof(buf));
	ok_ret(cur_u64le(&c, &u64), "u64le");
	ok(u64 == 0x0807060504030201ULL, "u64le value");
	ok_err(cur_bytes(&c, SIZE_MAX, &p), -EBADMSG, "SIZE_MAX length refused");

	/* hex and number helpers */
	{
		uint8_t out[4];
		size_t len;

		ok_ret(hex_decode("00fFa1", 6, out, sizeof(out), &len), "hex decode");
		ok(len == 3 && out[1] == 0xff && out[2] == 0xa1, "hex value");
		ok_err(hex_decode("abc", 3, out, sizeof(out), &len), -EBADMSG, "odd hex refused");
		ok_err(hex_decode("zz", 2, out, sizeof(out), &len), -EBADMSG, "non-hex refused");
		ok_err(hex_decode("0011223344", 10, out, sizeof(out), &len), -ENOBUFS,
		       "hex overflow refused");
		ok_ret(parse_u64("0x10", &u64), "parse hex");
		ok(u64 == 16, "parse hex value");
		ok_err(parse_u64("18446744073709551616", &u64), -ERANGE, "u64 overflow");
		ok_err(parse_u32("4294967296", &u32), -ERANGE, "u32 overflow");
		ok_err(parse_u64("12a", &u64), -EINVAL, "trailing garbage");
		ok_err(parse_u64("", &u64), -EINVAL, "empty");
		ok_err(parse_u64("-1", &u64), -EINVAL, "negative");
	}
	return tap_done();
}
