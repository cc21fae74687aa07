/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copyright (C) 2026 The vouch authors */
/* Synthetic: the LSM hooks the audit may report (names are read from here). */
int security_kernel_read_file(struct file *file, enum kernel_read_file_id id, bool contents);
int security_kernel_post_read_file(struct file *file, char *buf, loff_t size, enum kernel_read_file_id id);
int security_kernel_load_data(enum kernel_load_data_id id, bool contents);
int security_kernel_post_load_data(char *buf, loff_t size, enum kernel_load_data_id id, char *description);
int security_bpf(int cmd, union bpf_attr *attr, unsigned int size);
int security_bpf_prog_alloc(struct bpf_prog_aux *aux);
