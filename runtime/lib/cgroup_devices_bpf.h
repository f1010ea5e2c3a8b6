/* linux.resources.devices on cgroup v2: the kernel has no devices.allow
 * there, only a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the
 * cgroup, asked once per device access.
 *
 * Semantics of the rule list (the OCI/v1 model, as runc's devicefilter
 * enforces it): everything is denied unless a rule allows it; rules are
 * read in order and, for each of r, w and m separately, the last rule
 * that matches the device decides.  An access is granted only when every
 * permission it asks for is. */
#ifndef WARD_CGROUP_DEVICES_BPF_H
#define WARD_CGROUP_DEVICES_BPF_H

#include <linux/bpf.h>
#include <stddef.h>

#include "error.h"
#include "resources.h"

/* Pure: the program for `rules`, malloc'ed into *out (*count
 * instructions).  Fails on a rule the program cannot express (an unknown
 * type or access letter, a major/minor out of range). */
int cgroup_devices_bpf_build (const struct resources_device_rule *rules, size_t rules_count,
                              struct bpf_insn **out, size_t *count, struct ward_error **err);

/* Load a program built above; returns its fd.  When the verifier refuses
 * it, its log is in the message. */
int cgroup_devices_bpf_load (const struct bpf_insn *insns, size_t count, struct ward_error **err);

/* Attach prog_fd to the cgroup directory dir_fd, then detach the device
 * programs that were attached there before (an update replaces the rules:
 * with BPF_F_ALLOW_MULTI every attached program must allow, so leaving the
 * old one would keep its denials).  The new program is attached first, so
 * the cgroup is never without a filter. */
int cgroup_devices_bpf_attach (int dir_fd, int prog_fd, struct ward_error **err);

#endif
