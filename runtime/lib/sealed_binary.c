#include "config.h"
#include "sealed_binary.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool
sealed_binary_in_use (void)
{
  cleanup_close int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  int seals = fcntl (fd, F_GET_SEALS);
  return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

static int
copy_of_self (struct ward_error **err)
{
  cleanup_close int self = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return ward_fail (err, errno, "open /proc/self/exe");
  struct stat st;
  if (fstat (self, &st) < 0)
    return ward_fail (err, errno, "stat /proc/self/exe");
  cleanup_close int memfd = memfd_create ("ward", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (memfd < 0)
    return ward_fail (err, errno, "memfd_create");
  for (off_t done = 0; done < st.st_size;)
    {
      ssize_t n = sendfile (memfd, self, NULL, st.st_size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return ward_fail (err, n < 0 ? errno : EIO, "copy ward's binary into memory");
      done += n;
    }
  if (fcntl (memfd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
    return ward_fail (err, errno, "seal ward's in-memory binary");
  return steal_fd (&memfd);
}

/* argv as the kernel recorded it: NUL-separated. */
static char **
own_arguments (char **buffer)
{
  size_t length = 0;
  if (fs_read_file ("/proc/self/cmdline", buffer, &length, NULL) < 0)
    return NULL;
  size_t count = 0;
  for (size_t i = 0; i < length; i++)
    count += (*buffer)[i] == '\0';
  char **argv = calloc (count + 1, sizeof *argv);
  if (argv == NULL)
    return NULL;
  size_t n = 0;
  for (size_t i = 0; i < length && n < count; i += strlen (*buffer + i) + 1)
    argv[n++] = *buffer + i;
  return argv;
}

int
sealed_binary_reexec (struct ward_error **err)
{
  cleanup_free char *buffer = NULL;
  cleanup_free char **argv = own_arguments (&buffer);
  if (argv == NULL)
    return ward_fail (err, errno ? errno : ENOMEM, "read /proc/self/cmdline");
  cleanup_close int memfd = copy_of_self (err);
  if (memfd < 0)
    return -1;
  syscall (SYS_execveat, memfd, "", argv, environ, AT_EMPTY_PATH);
  return ward_fail (err, errno, "re-execute ward from its sealed copy");
}
