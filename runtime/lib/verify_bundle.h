/* The throwaway bundle of `ward verify`: a temporary directory holding a
 * rootfs with ward-probe in it (static, so nothing else), a config.json
 * written for each container, and the state directory (--root) of its own
 * containers, so that verify never touches the machine's /run/ward. */
#ifndef WARD_VERIFY_BUNDLE_H
#define WARD_VERIFY_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct verify_bundle
{
  char *dir;    /* the temporary directory */
  char *bundle; /* dir/bundle: config.json and rootfs */
  char *root;   /* dir/state: --root of verify's containers */
};

/* What one container gets. */
struct verify_container
{
  char *const *args;              /* the probe's argv, NULL-terminated */
  const char *const *annotations; /* "key=value", NULL-terminated */
  const char *netns;              /* a network namespace to join, or NULL: a new one */
};

/* Make the temporary directory under $TMPDIR (else /tmp) and the rootfs,
 * with a copy of `probe` at /ward-probe and the host's resolv.conf. */
int verify_bundle_make (const char *probe, struct verify_bundle *out, struct ward_error **err);

/* Write bundle/config.json for one container.  It asks for what a careless
 * workload would: root, every capability, a writable root, no
 * no_new_privs, so that only the policy stands between the probe and the
 * host, and anything the policy lets through shows. */
int verify_bundle_write_config (const struct verify_bundle *b, const struct verify_container *c,
                                struct ward_error **err);

/* Remove the directory and everything in it; never fails. */
void verify_bundle_remove (struct verify_bundle *b);

#endif
