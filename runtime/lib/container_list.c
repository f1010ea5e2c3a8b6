#include "config.h"
#include "container_list.h"
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
compare_listings (const void *a, const void *b)
{
  return strcmp (((const struct container_listing *)a)->state.id,
                 ((const struct container_listing *)b)->state.id);
}

int
container_list (const char *root, struct container_listing **out, size_t *count, struct ward_error **err)
{
  *out = NULL;
  *count = 0;
  cleanup_closedir DIR *dir = opendir (root);
  if (dir == NULL)
    return errno == ENOENT ? 0 : ward_fail (err, errno, "open %s", root);
  struct dirent *d;
  size_t capacity = 0;
  while ((d = readdir (dir)) != NULL)
    {
      /* Hidden entries and the cache ('@' is in no container id) are not containers. */
      if (d->d_name[0] == '.' || strchr (d->d_name, '@'))
        continue;
      if (*count == capacity)
        {
          capacity = capacity ? capacity * 2 : 16;
          struct container_listing *bigger = realloc (*out, capacity * sizeof **out);
          if (bigger == NULL)
            {
              container_list_free (*out, *count);
              *out = NULL;
              *count = 0;
              return ward_fail (err, ENOMEM, "list %s", root);
            }
          *out = bigger;
        }
      struct container_listing *e = &(*out)[*count];
      struct ward_error *ignored = NULL;
      if (container_read_status (root, d->d_name, &e->state, &e->status, &ignored) < 0)
        {
          ward_error_free (&ignored);
          continue;
        }
      (*count)++;
    }
  if (*count > 1)
    qsort (*out, *count, sizeof **out, compare_listings);
  return 0;
}

void
container_list_free (struct container_listing *list, size_t count)
{
  for (size_t i = 0; i < count; i++)
    state_clear (&list[i].state);
  free (list);
}
