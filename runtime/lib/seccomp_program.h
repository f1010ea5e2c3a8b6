/* The compiled program, shared by seccomp.c (which makes and loads it)
 * and seccomp_cache.c (which stores and reads it back); nobody else sees
 * inside. */
#ifndef WARD_SECCOMP_PROGRAM_H
#define WARD_SECCOMP_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

struct seccomp_program
{
  unsigned char *bpf; /* struct sock_filter[], exactly as libseccomp exported it */
  size_t bpf_size;
  unsigned int flags; /* SECCOMP_FILTER_FLAG_* passed to seccomp(2) */
  bool uses_notify;
  char *listener_path; /* NULL with uses_notify: ward's own listener (audited calls) */
  char *listener_metadata;
};

struct json_document;
struct json_value;
struct ward_error;

/* seccomp_compile, and the `audited` calls the profile leaves to an EPERM
 * default notify ward's own listener instead (see
 * seccomp_compile_file_audited). */
int seccomp_compile_audited (const struct json_document *doc, const struct json_value *seccomp,
                             const char *const *audited, size_t audited_count, struct seccomp_program **out,
                             struct ward_error **err);

#endif
