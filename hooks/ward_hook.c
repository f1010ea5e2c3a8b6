/* ward-hook, the OCI hook for runc, crun and Podman users (ward runs the
 * same code without exec'ing this binary): see egress_hook.c. */
#include "config.h"
#include "egress_hook.h"

int
main (int argc, char **argv)
{
  return ward_hook_main (argc, argv);
}
