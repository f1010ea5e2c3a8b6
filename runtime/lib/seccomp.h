/* linux.seccomp: the OCI seccomp object compiled (with libseccomp) into a
 * BPF program before the container is made, loaded by the init as late as
 * it can be, and — for SCMP_ACT_NOTIFY — the listener fd handed to the
 * agent at linux.seccomp.listenerPath. */

/* This header shares its name with libseccomp's, and runtime/lib is on the
 * -I path, so <seccomp.h> finds this file first.  seccomp.c, the library's
 * one user, defines WARD_WANT_LIBSECCOMP and includes <seccomp.h>, which
 * lands here and goes on to the library's header. */
#if defined(WARD_WANT_LIBSECCOMP) && !defined(_SECCOMP_H)
#include_next <seccomp.h>
#endif

#ifndef WARD_SECCOMP_H
#define WARD_SECCOMP_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "json.h"

struct seccomp_program;

/* Compile `seccomp` (the linux.seccomp object of `doc`, may be NULL: then
 * *out is NULL and nothing will be loaded).  Errors name the field:
 * "config.json: linux.seccomp.syscalls[3].action: unknown action \"X\"". */
int seccomp_compile (const struct json_document *doc, const struct json_value *seccomp,
                     struct seccomp_program **out, struct ward_error **err);
void seccomp_program_free (struct seccomp_program *program);

/* Compile the OCI LinuxSeccomp object in the file at `path` (a policy's
 * profile), through a cache of compiled programs in `cache_dir` (NULL: no
 * cache).  An entry is keyed by the file's bytes, the kernel release and
 * ward's and libseccomp's versions, so a changed profile or an upgrade
 * simply misses; compiling the agent profile costs milliseconds, loading
 * it from the cache almost nothing.  A cache that cannot be read or
 * written is skipped, never an error.
 *
 * With `audited` (NULL: none), the calls named there that the profile has
 * no rule for, and so leaves to its default, notify ward's own listener
 * instead (a container's syscall auditor, which answers EPERM and writes
 * the audit log) — when that default is EPERM, so the caller still sees
 * what it would have.  Cached apart from the plain program. */
int seccomp_compile_file_audited (const char *path, const char *cache_dir, const char *const *audited,
                                  size_t audited_count, struct seccomp_program **out,
                                  struct ward_error **err);

/* Do the program's notify rules go to ward's own listener (not to a
 * linux.seccomp.listenerPath)? */
bool seccomp_notifies_ward (const struct seccomp_program *program);

/* Does any rule use SCMP_ACT_NOTIFY?  (Never the default action: the init's
 * own calls would wait for an agent that has no fd yet, so compile refuses it.) */
bool seccomp_uses_notify (const struct seccomp_program *program);
/* linux.seccomp.listenerPath and listenerMetadata (NULL when unset). */
const char *seccomp_listener_path (const struct seccomp_program *program);
const char *seccomp_listener_metadata (const struct seccomp_program *program);

/* The names linux.seccomp accepts, for `ward features`. */
enum seccomp_names
{
  SECCOMP_NAMES_ACTIONS,
  SECCOMP_NAMES_OPERATORS,
  SECCOMP_NAMES_ARCHITECTURES,
  SECCOMP_NAMES_FLAGS,
  SECCOMP_NAMES_SUPPORTED_FLAGS, /* the flags this kernel accepts */
};
void seccomp_each_name (enum seccomp_names which, void (*visit) (const char *name, void *ctx), void *ctx);

/* In the init: load the program with seccomp(2) and its flags.  With
 * notify, *notify_fd receives the listener fd, else -1.  (Not named
 * seccomp_load: libseccomp exports a function of that name.) */
int seccomp_program_load (const struct seccomp_program *program, int *notify_fd, struct ward_error **err);

/* In ward: connect to the listener, send the container process state JSON
 * (ociVersion, fds ["seccompFd"], pid, metadata, state) with notify_fd as
 * SCM_RIGHTS, then close the connection.  `state_json` is the container's
 * state object (status "creating"). */
int seccomp_send_to_listener (const struct seccomp_program *program, int notify_fd, pid_t pid,
                              const char *state_json, struct ward_error **err);

#endif
