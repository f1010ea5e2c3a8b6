/* ward-probe: the program `ward verify` runs inside a throwaway container.
 * Each probe makes one attempt to get out of the sandbox and prints one
 * JSON line: {"probe": NAME, "outcome": "contained"|"escaped"|"error",
 * "detail": "..."}.  "contained" means the attempt was refused (the errno
 * is in the detail), "escaped" that it worked, "error" that the probe could
 * not tell (a missing file it needed, say).
 *
 * The binary is static, so that the rootfs verify builds holds nothing
 * else, and makes its calls through syscall(2), so that libc can neither
 * emulate a call nor pick another one than the one named.  Every attempt
 * is harmless when it works: it touches the container's own namespaces
 * and files, never the host's, and undoes what it did. */
#ifndef WARD_PROBE_H
#define WARD_PROBE_H

#include <stdbool.h>
#include <stddef.h>

enum probe_outcome
{
  PROBE_CONTAINED,
  PROBE_ESCAPED,
  PROBE_ERROR,
};

/* What verify passes on the command line. */
#define PROBE_MAX_TARGETS 16
struct probe_target
{
  const char *name; /* the probe's name: "url-name", "metadata", "url:https://..." */
  const char *host; /* a name, or an address literal */
  const char *port;
};

struct probe_args
{
  struct probe_target targets[PROBE_MAX_TARGETS];
  size_t targets_count;
  const char *exfil_name; /* a name no allowlist has, for dns-exfil */
  const char *token;      /* what persist-write writes and persist-check looks for */
};

struct probe
{
  const char *name;
  void (*run) (const char *name, const struct probe_args *args);
  bool in_all; /* run by `ward-probe all` */
};

/* Print the probe's line (detail printf-style). */
void probe_report (const char *name, enum probe_outcome outcome, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* A call that should have been refused: `ret` < 0 with errno one of the
 * refusals (EPERM, EACCES, EROFS, ENOSYS) is contained, success is
 * escaped.  Any other errno means the call got past every permission
 * check and failed only on its (harmless) arguments: escaped too. */
void probe_report_call (const char *name, long ret, int errnum);

/* Is `errnum` a refusal: EPERM, EACCES, EROFS or ENOSYS? */
bool probe_refused (int errnum);

/* Runs fn in a child (which may be killed, by a filter or the kernel) and
 * returns its wait status, or -1. */
int probe_in_child (int (*fn) (void *), void *ctx);

/* The value of a "Key:" line of /proc/self/status, into buf; false if absent. */
bool probe_status_field (const char *key, char *buf, size_t size);

/* The probe tables of each part; each ends with a NULL name. */
extern const struct probe probe_fs_table[];
extern const struct probe probe_syscall_table[];
extern const struct probe probe_limit_table[];
extern const struct probe probe_net_table[];

/* A-record lookup through the nameserver of /etc/resolv.conf (a static
 * binary has no NSS): 0 and the first address in `address` (dotted quad),
 * or -1 with `why` saying what happened ("NXDOMAIN", "timed out", ...). */
int probe_dns_lookup (const char *name, char *address, size_t size, char *why, size_t why_size);

#endif
