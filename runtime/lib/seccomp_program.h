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
  char *listener_path;
  char *listener_metadata;
};

#endif
