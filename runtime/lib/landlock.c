#include "config.h"
#include "landlock.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Build hosts' kernel headers can predate the running kernel (Debian 12's
 * stop at ABI 2), so the later uapi values are spelled out here; they are
 * fixed by the kernel's ABI, include/uapi/linux/landlock.h. */
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif
/* Enumerators in the uapi header, so #ifndef cannot see them; a macro
 * with the same value is harmless where the header has them. */
#ifndef LANDLOCK_RULE_PATH_BENEATH
#define LANDLOCK_RULE_PATH_BENEATH 1
#endif
#ifndef LANDLOCK_RULE_NET_PORT
#define LANDLOCK_RULE_NET_PORT 2 /* ABI 4 */
#endif

/* Own names: an old header's struct landlock_ruleset_attr has only the
 * first member, and the kernel tells versions apart by the size passed. */
struct ward_landlock_ruleset_attr
{
  uint64_t handled_access_fs;
  uint64_t handled_access_net; /* ABI 4 */
  uint64_t scoped;             /* ABI 6 */
};

struct ward_landlock_path_beneath_attr
{
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__ ((packed));

struct ward_landlock_net_port_attr
{
  uint64_t allowed_access;
  uint64_t port; /* host byte order */
};

enum fs_grant
{
  GRANT_READ,  /* readable and writable paths */
  GRANT_WRITE, /* writable paths only */
  GRANT_NEVER, /* handled, so denied everywhere */
};

/* Every filesystem right, the ABI that brought it, and who gets it.  Device
 * nodes are never made: the container's /dev is prepared before, and a
 * node made in scratch space is a way around the device allowlist. */
static const struct
{
  uint64_t right;
  int abi;
  enum fs_grant grant;
} fs_rights[] = {
  { LANDLOCK_ACCESS_FS_EXECUTE, 1, GRANT_READ },
  { LANDLOCK_ACCESS_FS_READ_FILE, 1, GRANT_READ },
  { LANDLOCK_ACCESS_FS_READ_DIR, 1, GRANT_READ },
  { LANDLOCK_ACCESS_FS_WRITE_FILE, 1, GRANT_WRITE },
  { LANDLOCK_ACCESS_FS_REMOVE_DIR, 1, GRANT_WRITE },
  { LANDLOCK_ACCESS_FS_REMOVE_FILE, 1, GRANT_WRITE },
  { LANDLOCK_ACCESS_FS_MAKE_DIR, 1, GRANT_WRITE },
  { LANDLOCK_ACCESS_FS_MAKE_REG, 1, GRANT_WRITE },
  { LANDLOCK_ACCESS_FS_MAKE_SOCK, 1, GRANT_WRITE },
  { LANDLOCK_ACCESS_FS_MAKE_FIFO, 1, GRANT_WRITE },
  { LANDLOCK_ACCESS_FS_MAKE_SYM, 1, GRANT_WRITE },
  { LANDLOCK_ACCESS_FS_MAKE_CHAR, 1, GRANT_NEVER },
  { LANDLOCK_ACCESS_FS_MAKE_BLOCK, 1, GRANT_NEVER },
  { LANDLOCK_ACCESS_FS_REFER, 2, GRANT_WRITE },
  { LANDLOCK_ACCESS_FS_TRUNCATE, 3, GRANT_WRITE },
  /* Device ioctls go with write access: opening a device read-write
   * (/dev/null, a pty, a GPU) needs the writable /dev anyway. */
  { LANDLOCK_ACCESS_FS_IOCTL_DEV, 5, GRANT_WRITE },
};

/* The kernel refuses directory-only rights in a rule for a file. */
#define FS_FILE_RIGHTS                                                                                       \
  (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE                 \
   | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

enum
{
  ABI_NET = 4,
  ABI_SCOPE = 6,
};

int
landlock_abi (void)
{
  long abi = syscall (SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  /* ENOSYS: not built in; EOPNOTSUPP: built in but not enabled at boot. */
  return abi > 0 ? (int)abi : 0;
}

uint64_t
landlock_fs_rights_for_abi (int abi, bool write)
{
  uint64_t rights = 0;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (fs_rights); i++)
    if (fs_rights[i].abi <= abi
        && (fs_rights[i].grant == GRANT_READ || (write && fs_rights[i].grant == GRANT_WRITE)))
      rights |= fs_rights[i].right;
  return rights;
}

/* Handling a right the ABI does not know makes the kernel refuse the whole
 * ruleset, so only the known ones are asked for. */
static uint64_t
fs_handled_for_abi (int abi)
{
  uint64_t rights = 0;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (fs_rights); i++)
    if (fs_rights[i].abi <= abi)
      rights |= fs_rights[i].right;
  return rights;
}

/* Kernels before a member was added refuse a larger struct unless the
 * extra bytes are zero; passing only the members this ABI reads says what
 * we mean without relying on that. */
static size_t
ruleset_attr_size (int abi)
{
  if (abi < ABI_NET)
    return offsetof (struct ward_landlock_ruleset_attr, handled_access_net);
  if (abi < ABI_SCOPE)
    return offsetof (struct ward_landlock_ruleset_attr, scoped);
  return sizeof (struct ward_landlock_ruleset_attr);
}

static int
allow_path (int ruleset, const char *path, uint64_t rights, struct ward_error **err)
{
  cleanup_close int fd = open (path, O_PATH | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    {
      log_debug ("landlock: %s does not exist, no rule for it", path);
      return 0;
    }
  if (fd < 0)
    return ward_fail (err, errno, "landlock: open %s", path);
  struct stat st;
  if (fstat (fd, &st) < 0)
    return ward_fail (err, errno, "landlock: stat %s", path);
  struct ward_landlock_path_beneath_attr rule = {
    .allowed_access = S_ISDIR (st.st_mode) ? rights : rights & FS_FILE_RIGHTS,
    .parent_fd = fd,
  };
  if (syscall (SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
    return ward_fail (err, errno, "landlock: allow access beneath %s", path);
  return 0;
}

static int
allow_paths (int ruleset, const char *const *paths, size_t count, uint64_t rights, struct ward_error **err)
{
  for (size_t i = 0; i < count; i++)
    if (allow_path (ruleset, paths[i], rights, err) < 0)
      return -1;
  return 0;
}

static int
allow_connect_ports (int ruleset, const struct landlock_policy *p, struct ward_error **err)
{
  for (size_t i = 0; i < p->connect_count; i++)
    {
      struct ward_landlock_net_port_attr rule = {
        .allowed_access = LANDLOCK_ACCESS_NET_CONNECT_TCP,
        .port = p->connect_ports[i],
      };
      if (syscall (SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_NET_PORT, &rule, 0) < 0)
        return ward_fail (err, errno, "landlock: allow TCP connect to port %u",
                          (unsigned)p->connect_ports[i]);
    }
  return 0;
}

static struct ward_landlock_ruleset_attr
ruleset_attr_for (const struct landlock_policy *p, int abi)
{
  struct ward_landlock_ruleset_attr attr = { .handled_access_fs = fs_handled_for_abi (abi) };
  if (p->restrict_connect && abi >= ABI_NET)
    attr.handled_access_net = LANDLOCK_ACCESS_NET_CONNECT_TCP;
  if (abi >= ABI_SCOPE)
    attr.scoped = (p->scope_abstract_unix ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET : 0)
        | (p->scope_signals ? LANDLOCK_SCOPE_SIGNAL : 0);
  return attr;
}

int
landlock_apply_at_abi (const struct landlock_policy *p, int abi, struct landlock_result *reached,
                       struct ward_error **err)
{
  *reached = (struct landlock_result){ .abi = abi };
  if (abi <= 0)
    {
      log_debug ("landlock: not supported by this kernel, nothing applied");
      return 0;
    }

  struct ward_landlock_ruleset_attr attr = ruleset_attr_for (p, abi);
  cleanup_close int ruleset = syscall (SYS_landlock_create_ruleset, &attr, ruleset_attr_size (abi), 0);
  if (ruleset < 0)
    return ward_fail (err, errno, "landlock: create a ruleset for ABI %d", abi);
  /* A path in both lists gets the union: the kernel adds up the rights of
   * every rule on the way down, in whatever order they were added. */
  uint64_t write_rights = landlock_fs_rights_for_abi (abi, true);
  uint64_t read_rights = landlock_fs_rights_for_abi (abi, false);
  if (allow_paths (ruleset, p->writable_paths, p->writable_count, write_rights, err) < 0
      || allow_paths (ruleset, p->readable_paths, p->readable_count, read_rights, err) < 0)
    return -1;
  if (attr.handled_access_net != 0 && allow_connect_ports (ruleset, p, err) < 0)
    return -1;

  if (syscall (SYS_landlock_restrict_self, ruleset, 0) < 0)
    {
      if (errno == EPERM)
        return ward_fail (err, errno, "landlock: restrict self (needs no_new_privs or CAP_SYS_ADMIN)");
      return ward_fail (err, errno, "landlock: restrict self");
    }
  reached->fs = true;
  reached->net = attr.handled_access_net != 0;
  reached->scoped = attr.scoped != 0;
  log_debug ("landlock: ABI %d, filesystem restricted%s%s", abi,
             reached->net ? ", TCP connect restricted" : "", reached->scoped ? ", scoped" : "");
  return 0;
}

int
landlock_apply (const struct landlock_policy *p, struct landlock_result *reached, struct ward_error **err)
{
  return landlock_apply_at_abi (p, landlock_abi (), reached, err);
}
