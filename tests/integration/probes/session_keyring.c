/* Prints the calling process's session keyring: its serial and its
 * description ("keyring;uid;gid;perm;name").  Built statically by the
 * tests and copied into a container's rootfs. */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>
int main (void)
{
  long id = syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  char desc[256] = "";
  syscall (SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc);
  printf ("%ld %s\n", id, desc);
  return id < 0;
}
