/* Every container under a state root, for `ward list` and `ward top`. */
#ifndef WARD_CONTAINER_LIST_H
#define WARD_CONTAINER_LIST_H

#include <stddef.h>

#include "error.h"
#include "lifecycle.h"
#include "state.h"

struct container_listing
{
  struct container_state state;
  enum container_status status;
};

/* Sorted by id.  Entries that are not containers (hidden ones, the cache)
 * and containers deleted while we look are skipped; a root that does not
 * exist yet is an empty list.  Free with container_list_free. */
int container_list (const char *root, struct container_listing **out, size_t *count, struct ward_error **err);

void container_list_free (struct container_listing *list, size_t count);

#endif
