/* File-system helpers: whole-file reads and writes, atomic replacement, and
 * path resolution that cannot leave a container's rootfs. */
#ifndef WARD_FS_H
#define WARD_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define PROC_FD_PATH_MAX 32

/* "/proc/self/fd/N": lets mount(2) and friends act on an fd that was
 * resolved safely, instead of re-walking a path an attacker could change. */
const char *fs_proc_fd_path (int fd, char buf[PROC_FD_PATH_MAX]);

int fs_read_file (const char *path, char **out, size_t *length, struct ward_error **err);
int fs_read_file_at (int dirfd, const char *name, char **out, size_t *length, struct ward_error **err);
/* write(2) until all of it is written; -1 with errno on failure. */
int fs_write_all (int fd, const void *data, size_t length);

/* Write to an existing file (procfs, sysfs, cgroupfs). */
int fs_write_file (const char *path, const char *data, size_t length, struct ward_error **err);
/* Create or replace dirfd/name atomically (write a temporary, then rename). */
int fs_write_file_atomic (int dirfd, const char *name, const char *data, size_t length, mode_t mode,
                          struct ward_error **err);

/* mkdir -p. */
int fs_mkdir_all (const char *path, mode_t mode, struct ward_error **err);

/* Remove dirfd/name and everything below it; missing is not an error. */
int fs_remove_tree_at (int dirfd, const char *name, struct ward_error **err);

/* Open `path` as if `root_fd` were "/": absolute symlinks and ".." stay
 * inside it (openat2 RESOLVE_IN_ROOT).  Returns an fd or -1. */
int fs_open_in_root (int root_fd, const char *path, int flags, struct ward_error **err);

/* As fs_open_in_root, but failing with ELOOP if any component of `path` is
 * a symlink; sets errno, no message. */
int fs_open_in_root_no_symlinks (int root_fd, const char *path, int flags);

/* Like fs_open_in_root with O_PATH, creating what is missing: parent
 * directories, then the last component as a directory or an empty file. */
int fs_create_in_root (int root_fd, const char *path, bool directory, mode_t mode, struct ward_error **err);

#endif
