/* Namespaces: which to create with clone(2), which to join by path, and the
 * ones that must be entered late (cgroup after the init has joined its
 * cgroups, time after its offsets are written). */
#ifndef WARD_NAMESPACES_H
#define WARD_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* Does the container get a new namespace of this kind (listed, no path)? */
bool namespaces_creates (const struct spec *spec, enum spec_namespace_kind kind);

/* Refuse combinations that cannot work (maps without a user namespace,
 * time offsets without a time namespace, ...), before anything is made. */
int namespaces_validate (const struct spec *spec, struct ward_error **err);

/* CLONE_NEW* flags for the namespaces clone(2) creates. */
int namespaces_clone_flags (const struct spec *spec);

/* Parent, around clone(2): a pid namespace to join applies to children
 * only, so the parent enters it for its next child and leaves afterwards. */
int namespaces_enter_pid_for_children (const struct spec *spec, int *restore_fd, struct ward_error **err);
int namespaces_leave_pid_for_children (int restore_fd, struct ward_error **err);

/* Parent: write the init's uid_map and gid_map. */
int namespaces_write_id_mappings (pid_t pid, const struct spec *spec, struct ward_error **err);

/* Init: join every namespace given by path except pid (user first, so the
 * others are joined with its privileges). */
int namespaces_join_paths (const struct spec *spec, struct ward_error **err);

/* Init: the time namespace, which clone(2) cannot create (CLONE_NEWTIME
 * collides with the exit-signal bits of its flags). */
int namespaces_enter_time (const struct spec *spec, struct ward_error **err);

/* Init, once it is in its cgroups: a cgroup namespace rooted there. */
int namespaces_enter_cgroup (const struct spec *spec, struct ward_error **err);

/* Init, in a network namespace it created: bring up "lo", as runc does, so
 * that services on 127.0.0.1 work inside. */
/* lo up in the calling thread's network namespace (idempotent): ward-hook
 * needs it for the DNS proxy before the init has got that far. */
int namespaces_loopback_up (struct ward_error **err);

int namespaces_bring_up_loopback (const struct spec *spec, struct ward_error **err);

#endif
