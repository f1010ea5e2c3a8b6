/* Compiled seccomp programs cached by content (see seccomp_compile_file_audited).
 * An entry is one file, <cache_dir>/<hash>.bpf, holding the whole key it
 * was made for, so a hash collision can only cost a compilation. */
#define WARD_WANT_LIBSECCOMP
#include "config.h"
#include <seccomp.h>
#include "seccomp.h"
#include "seccomp_program.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define CACHE_MAGIC "WARDSCMP"
#define CACHE_FORMAT 1u

/* What a compiled program depends on besides the profile: the kernel
 * decides which filter flags are used, libseccomp how rules compile. */
static char *
cache_key (const char *profile, size_t length, const char *variant, size_t *key_length)
{
  struct utsname host;
  const struct scmp_version *v = seccomp_version ();
  if (uname (&host) < 0 || v == NULL)
    return NULL;
  char *key = NULL;
  int n = asprintf (&key, "ward %s\nlibseccomp %u.%u.%u\nkernel %s %s\naudited %s\n", PACKAGE_VERSION,
                    v->major, v->minor, v->micro, host.release, host.machine, variant);
  if (n < 0)
    return NULL;
  char *whole = realloc (key, n + length);
  if (whole == NULL)
    {
      free (key);
      return NULL;
    }
  memcpy (whole + n, profile, length);
  *key_length = n + length;
  return whole;
}

static uint64_t
fnv1a64 (const char *data, size_t length)
{
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < length; i++)
    hash = (hash ^ (unsigned char)data[i]) * 0x100000001b3ULL;
  return hash;
}

/* ---- the entry format: magic, format, then length-prefixed fields ---- */

struct writer
{
  char *data;
  size_t length;
  bool failed;
};

static void
put (struct writer *w, const void *bytes, size_t length)
{
  if (w->failed)
    return;
  char *grown = realloc (w->data, w->length + length);
  if (grown == NULL)
    {
      w->failed = true;
      return;
    }
  memcpy (grown + w->length, bytes, length);
  w->data = grown;
  w->length += length;
}

static void
put_u64 (struct writer *w, uint64_t value)
{
  put (w, &value, sizeof value);
}

static void
put_blob (struct writer *w, const void *bytes, size_t length)
{
  put_u64 (w, length);
  put (w, bytes, length);
}

static void
put_string (struct writer *w, const char *s)
{
  /* NULL and "" differ: an absent listener path is not an empty one. */
  put_u64 (w, s ? strlen (s) + 1 : 0);
  if (s)
    put (w, s, strlen (s) + 1);
}

struct reader
{
  const char *data;
  size_t length, at;
  bool failed;
};

static const void *
take (struct reader *r, size_t length)
{
  if (r->failed || length > r->length - r->at)
    {
      r->failed = true;
      return NULL;
    }
  const void *p = r->data + r->at;
  r->at += length;
  return p;
}

static uint64_t
take_u64 (struct reader *r)
{
  uint64_t value = 0;
  const void *p = take (r, sizeof value);
  if (p)
    memcpy (&value, p, sizeof value);
  return value;
}

static char *
take_string (struct reader *r)
{
  uint64_t length = take_u64 (r);
  if (length == 0)
    return NULL;
  const char *p = take (r, length);
  if (p == NULL || p[length - 1] != '\0')
    {
      r->failed = true;
      return NULL;
    }
  char *copy = strdup (p);
  if (copy == NULL)
    r->failed = true;
  return copy;
}

static struct seccomp_program *
decode_entry (const char *data, size_t length, const char *key, size_t key_length)
{
  struct reader r = { .data = data, .length = length };
  const char *magic = take (&r, strlen (CACHE_MAGIC));
  if (magic == NULL || memcmp (magic, CACHE_MAGIC, strlen (CACHE_MAGIC)) != 0
      || take_u64 (&r) != CACHE_FORMAT)
    return NULL;
  uint64_t stored_key_length = take_u64 (&r);
  const char *stored_key = take (&r, stored_key_length);
  if (stored_key == NULL || stored_key_length != key_length || memcmp (stored_key, key, key_length) != 0)
    return NULL;
  struct seccomp_program *p = calloc (1, sizeof *p);
  if (p == NULL)
    return NULL;
  p->flags = (unsigned int)take_u64 (&r);
  p->uses_notify = take_u64 (&r) != 0;
  p->listener_path = take_string (&r);
  p->listener_metadata = take_string (&r);
  p->bpf_size = take_u64 (&r);
  const void *bpf = take (&r, p->bpf_size);
  if (!r.failed && bpf && p->bpf_size > 0 && (p->bpf = malloc (p->bpf_size)) != NULL)
    {
      memcpy (p->bpf, bpf, p->bpf_size);
      if (r.at == r.length)
        return p;
    }
  seccomp_program_free (p);
  return NULL;
}

static void
store_entry (int dir_fd, const char *name, const struct seccomp_program *p, const char *key,
             size_t key_length)
{
  struct writer w = { 0 };
  put (&w, CACHE_MAGIC, strlen (CACHE_MAGIC));
  put_u64 (&w, CACHE_FORMAT);
  put_blob (&w, key, key_length);
  put_u64 (&w, p->flags);
  put_u64 (&w, p->uses_notify);
  put_string (&w, p->listener_path);
  put_string (&w, p->listener_metadata);
  put_blob (&w, p->bpf, p->bpf_size);
  struct ward_error *ignored = NULL;
  /* Atomic: a concurrent create reads the old entry or the new, never half. */
  if (!w.failed)
    fs_write_file_atomic (dir_fd, name, w.data, w.length, 0600, &ignored);
  ward_error_free (&ignored);
  free (w.data);
}

static int
compile_text (const char *path, const char *text, size_t length, const char *const *audited,
              size_t audited_count, struct seccomp_program **out, struct ward_error **err)
{
  const char *slash = strrchr (path, '/');
  struct json_document *doc = NULL;
  if (json_parse (slash ? slash + 1 : path, text, length, &doc, err) < 0)
    return -1;
  int ret = seccomp_compile_audited (doc, doc->root, audited, audited_count, out, err);
  json_document_free (doc);
  if (ret == 0 && *out == NULL)
    return ward_fail (err, 0, "%s: expected a seccomp object", path);
  return ret;
}

/* The audited calls, as the cache key names them. */
static char *
audited_list (const char *const *audited, size_t count)
{
  size_t size = 1;
  for (size_t i = 0; i < count; i++)
    size += strlen (audited[i]) + 1;
  char *list = malloc (size), *at = list;
  if (list == NULL)
    return NULL;
  for (size_t i = 0; i < count; i++)
    at += sprintf (at, "%s%s", i ? " " : "", audited[i]);
  *at = '\0';
  return list;
}

int
seccomp_compile_file_audited (const char *path, const char *cache_dir, const char *const *audited,
                              size_t audited_count, struct seccomp_program **out, struct ward_error **err)
{
  cleanup_free char *text = NULL;
  size_t length = 0;
  if (fs_read_file (path, &text, &length, err) < 0)
    return ward_error_prefix (err, "seccomp profile");
  size_t key_length = 0;
  cleanup_free char *variant = cache_dir ? audited_list (audited, audited_count) : NULL;
  cleanup_free char *key = variant ? cache_key (text, length, variant, &key_length) : NULL;
  cleanup_close int dir_fd = -1;
  char name[32];
  if (key)
    {
      snprintf (name, sizeof name, "%016" PRIx64 ".bpf", fnv1a64 (key, key_length));
      struct ward_error *ignored = NULL;
      if (fs_mkdir_all (cache_dir, 0700, &ignored) == 0)
        dir_fd = open (cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      ward_error_free (&ignored);
      cleanup_free char *entry = NULL;
      size_t entry_length = 0;
      if (dir_fd >= 0 && fs_read_file_at (dir_fd, name, &entry, &entry_length, &ignored) == 0
          && (*out = decode_entry (entry, entry_length, key, key_length)) != NULL)
        return 0;
      ward_error_free (&ignored);
    }
  if (compile_text (path, text, length, audited, audited_count, out, err) < 0)
    return -1;
  if (dir_fd >= 0)
    store_entry (dir_fd, name, *out, key, key_length);
  return 0;
}
