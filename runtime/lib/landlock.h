/* Landlock: a second layer under the mounts.  The mounts decide what is
 * writable; Landlock makes the same decision again in the kernel's access
 * checks, so a mount the container could remount, a read-write rootfs, or a
 * mistake in the mount setup does not by itself let the process write
 * outside its declared places.  It also limits TCP connects to a list of
 * ports and keeps signals and abstract unix sockets inside the container.
 *
 * Best effort by design: the running kernel's Landlock ABI decides which
 * rights can be enforced, and landlock_apply() enforces what it knows and
 * reports the level reached, for the caller to log or to refuse. */
#ifndef WARD_LANDLOCK_H
#define WARD_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct landlock_policy
{
  /* Paths in the container, resolved after pivot_root (symlinks followed,
   * as the mount destinations were).  Writable paths get every right but
   * creating device nodes; readable ones read, list and execute.  Anything
   * else is denied.  Paths that do not exist are skipped. */
  const char *const *writable_paths;
  size_t writable_count;
  const char *const *readable_paths;
  size_t readable_count;
  /* TCP connect (IPv4 and IPv6) only to these ports, any address; needs
   * ABI 4.  Binding and UDP stay unrestricted. */
  const uint16_t *connect_ports;
  size_t connect_count;
  bool restrict_connect;
  /* Need ABI 6: no connect to abstract unix sockets made outside the
   * domain, no signals to processes outside it. */
  bool scope_abstract_unix;
  bool scope_signals;
};

/* What landlock_apply() enforced, for the audit log.  fs is true whenever
 * a domain was made; net and scoped only when asked for and supported. */
struct landlock_result
{
  int abi;
  bool fs, net, scoped;
};

/* The running kernel's Landlock ABI version, 0 when it has none (not built
 * in, or not in the lsm= boot list). */
int landlock_abi (void);

/* The filesystem rights a path is granted on this ABI: read and execute,
 * or with `write` everything the ABI knows except making device nodes.
 * 0 for ABI 0. */
uint64_t landlock_fs_rights_for_abi (int abi, bool write);

/* Restrict the calling thread and everything it later runs (across
 * execve, irreversibly).  Requires no_new_privs or CAP_SYS_ADMIN in the
 * thread's user namespace (else EPERM).  Only the calling thread is
 * restricted, so call it while single-threaded.  After it, mount, umount
 * and pivot_root fail: call it once the container's mounts are final.
 * With ABI 0 it returns 0 and reached->abi == 0: whether running without
 * Landlock is acceptable is the caller's decision. */
int landlock_apply (const struct landlock_policy *p, struct landlock_result *reached,
                    struct ward_error **err);

/* landlock_apply() as on a kernel with ABI `abi`, which must not exceed
 * the running one: lets tests check the older levels on a newer kernel. */
int landlock_apply_at_abi (const struct landlock_policy *p, int abi, struct landlock_result *reached,
                           struct ward_error **err);

#endif
