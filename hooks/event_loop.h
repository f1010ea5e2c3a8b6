/* The supervisor's one epoll loop: each thing it waits on (the container's
 * pidfd, the DNS sockets, the NFLOG socket, timers) registers an
 * event_source whose ready() runs when its fd is ready.  A source is
 * registered with epoll_event.data.ptr pointing at it. */
#ifndef WARD_EVENT_LOOP_H
#define WARD_EVENT_LOOP_H

#include <stdint.h>

struct event_source
{
  int fd;
  /* `events` is the epoll event mask that fired. */
  void (*ready) (struct event_source *source, uint32_t events);
};

#endif
