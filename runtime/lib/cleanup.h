/* Scope-bound release of resources, so every early return is leak-free. */
#ifndef WARD_CLEANUP_H
#define WARD_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

static inline void
ward_free_ptr (void *p)
{
  free (*(void **)p);
}

static inline void
ward_close_fd (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
ward_fclose_ptr (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
ward_closedir_ptr (DIR **d)
{
  if (*d)
    closedir (*d);
}

#define cleanup_free __attribute__ ((cleanup (ward_free_ptr)))
#define cleanup_close __attribute__ ((cleanup (ward_close_fd)))
#define cleanup_fclose __attribute__ ((cleanup (ward_fclose_ptr)))
#define cleanup_closedir __attribute__ ((cleanup (ward_closedir_ptr)))

/* Hand ownership out of a cleanup-managed variable. */
#define steal_pointer(pp)                                                                                    \
  ({                                                                                                         \
    __typeof__ (*(pp)) stolen_ = *(pp);                                                                      \
    *(pp) = NULL;                                                                                            \
    stolen_;                                                                                                 \
  })
#define steal_fd(fdp)                                                                                        \
  ({                                                                                                         \
    int stolen_fd_ = *(fdp);                                                                                 \
    *(fdp) = -1;                                                                                             \
    stolen_fd_;                                                                                              \
  })

#define WARD_ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

#endif
