/* What the supervisor does before dns_proxy_new: the listening sockets in
 * the container's network namespace, and the list of upstream servers. */
#include "config.h"
#include "dns_proxy.h"
#include "namespaces.h"
#include "cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum
{
  LISTEN_BACKLOG = 64,
};

void
dns_address_format (const struct sockaddr_storage *address, char *text, size_t size)
{
  char host[INET6_ADDRSTRLEN] = "?";
  if (address->ss_family == AF_INET)
    {
      const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
      inet_ntop (AF_INET, &v4->sin_addr, host, sizeof host);
      snprintf (text, size, "%s:%u", host, ntohs (v4->sin_port));
      return;
    }
  const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
  inet_ntop (AF_INET6, &v6->sin6_addr, host, sizeof host);
  snprintf (text, size, "[%s]:%u", host, ntohs (v6->sin6_port));
}

static int
listen_socket (int family, int type, uint16_t port, struct ward_error **err)
{
  struct sockaddr_storage address = { 0 };
  socklen_t length;
  if (family == AF_INET)
    {
      struct sockaddr_in *v4 = (struct sockaddr_in *)&address;
      *v4 = (struct sockaddr_in){ .sin_family = AF_INET,
                                  .sin_port = htons (port),
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      length = sizeof *v4;
    }
  else
    {
      struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address;
      *v6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
                                   .sin6_port = htons (port),
                                   .sin6_addr = in6addr_loopback };
      length = sizeof *v6;
    }
  char text[INET6_ADDRSTRLEN + 16];
  dns_address_format (&address, text, sizeof text);
  const char *protocol = type == SOCK_STREAM ? "tcp" : "udp";

  cleanup_close int fd = socket (family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ward_fail (err, errno, "%s socket for %s", protocol, text);
  int one = 1;
  if (family == AF_INET6 && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
    return ward_fail (err, errno, "IPV6_V6ONLY on %s", text);
  if (type == SOCK_STREAM && setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    return ward_fail (err, errno, "SO_REUSEADDR on %s", text);
  if (bind (fd, (struct sockaddr *)&address, length) < 0)
    return ward_fail (err, errno, "bind %s %s", protocol, text);
  if (type == SOCK_STREAM && listen (fd, LISTEN_BACKLOG) < 0)
    return ward_fail (err, errno, "listen on %s", text);
  return steal_fd (&fd);
}

static int
open_listeners (uint16_t port, struct dns_listen_fds *fds, struct ward_error **err)
{
  fds->udp4 = listen_socket (AF_INET, SOCK_DGRAM, port, err);
  if (fds->udp4 < 0)
    return -1;
  fds->tcp4 = listen_socket (AF_INET, SOCK_STREAM, port, err);
  if (fds->tcp4 < 0)
    return -1;
  int *v6[] = { &fds->udp6, &fds->tcp6 };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (v6); i++)
    {
      struct ward_error *v6_err = NULL;
      *v6[i] = listen_socket (AF_INET6, i == 0 ? SOCK_DGRAM : SOCK_STREAM, port, &v6_err);
      if (*v6[i] >= 0)
        continue;
      /* A kernel without IPv6, or a namespace where it is disabled. */
      int errnum = v6_err->errnum;
      if (errnum == EAFNOSUPPORT || errnum == EADDRNOTAVAIL)
        {
          ward_error_free (&v6_err);
          continue;
        }
      if (err != NULL && *err == NULL)
        *err = v6_err;
      else
        ward_error_free (&v6_err);
      return -1;
    }
  return 0;
}

int
dns_proxy_listen_in_netns (int netns_fd, uint16_t port, struct dns_listen_fds *out, struct ward_error **err)
{
  *out = (struct dns_listen_fds){ -1, -1, -1, -1 };
  if (port == 0)
    return ward_fail (err, EINVAL, "dns proxy: port 0");
  /* setns moves the calling thread only, hence thread-self. */
  cleanup_close int original = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0)
    return ward_fail (err, errno, "open /proc/thread-self/ns/net");
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    return ward_fail (err, errno, "enter the container's network namespace");

  /* A namespace ward has just made has lo still down (its init brings it
   * up too, maybe later than this): up before binding to it. */
  struct dns_listen_fds fds = { -1, -1, -1, -1 };
  int ret = namespaces_loopback_up (err);
  if (ret == 0)
    ret = open_listeners (port, &fds, err);

  /* Back at once: every socket made from here on (the upstream ones) must
   * be on the engine's side.  Staying in the container's namespace would
   * send them through its firewall to itself; nothing sane can follow. */
  if (setns (original, CLONE_NEWNET) < 0)
    {
      perror ("ward-hook: cannot return to the original network namespace");
      abort ();
    }
  if (ret < 0)
    {
      dns_listen_fds_close (&fds);
      return ward_error_prefix (err, "dns proxy in the container's network namespace");
    }
  *out = fds;
  return 0;
}

void
dns_listen_fds_close (struct dns_listen_fds *fds)
{
  int *all[] = { &fds->udp4, &fds->tcp4, &fds->udp6, &fds->tcp6 };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (all); i++)
    if (*all[i] >= 0)
      {
        close (*all[i]);
        *all[i] = -1;
      }
}

static int
parse_host (const char *host, uint16_t port, struct dns_upstream *out, struct ward_error **err)
{
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST };
  struct addrinfo *found = NULL;
  int ret = getaddrinfo (host, NULL, &hints, &found);
  if (ret != 0)
    return ward_fail (err, 0, "dns upstream %s: not an IP address (%s)", host, gai_strerror (ret));
  memset (out, 0, sizeof *out);
  memcpy (&out->address, found->ai_addr, found->ai_addrlen);
  out->length = found->ai_addrlen;
  freeaddrinfo (found);
  if (out->address.ss_family == AF_INET)
    ((struct sockaddr_in *)&out->address)->sin_port = htons (port);
  else
    ((struct sockaddr_in6 *)&out->address)->sin6_port = htons (port);
  return 0;
}

int
dns_upstream_parse (const char *text, struct dns_upstream *out, struct ward_error **err)
{
  cleanup_free char *copy = strdup (text);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "dns upstream %s", text);
  char *host = copy, *port_text = NULL;
  if (copy[0] == '[')
    {
      char *end = strchr (copy, ']');
      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        return ward_fail (err, 0, "dns upstream %s: expected [address] or [address]:port", text);
      *end = '\0';
      host = copy + 1;
      if (end[1] == ':')
        port_text = end + 2;
    }
  else
    {
      /* One colon is address:port; more make a bare IPv6 address. */
      char *colon = strchr (copy, ':');
      if (colon != NULL && strchr (colon + 1, ':') == NULL)
        {
          *colon = '\0';
          port_text = colon + 1;
        }
    }
  unsigned long port = DNS_PORT;
  if (port_text != NULL)
    {
      char *end = NULL;
      errno = 0;
      port = strtoul (port_text, &end, 10);
      if (errno != 0 || end == port_text || *end != '\0' || port == 0 || port > 65535 || port_text[0] == '-')
        return ward_fail (err, 0, "dns upstream %s: invalid port", text);
    }
  return parse_host (host, (uint16_t)port, out, err);
}

int
dns_upstreams_from_resolv_conf (const char *path, struct dns_upstream *out, size_t capacity, size_t *count,
                                struct ward_error **err)
{
  *count = 0;
  cleanup_fclose FILE *file = fopen (path, "re");
  if (file == NULL)
    return ward_fail (err, errno, "open %s", path);
  cleanup_free char *line = NULL;
  size_t size = 0;
  while (*count < capacity && getline (&line, &size, file) >= 0)
    {
      char *save = NULL;
      const char *keyword = strtok_r (line, " \t\r\n", &save);
      const char *address = keyword ? strtok_r (NULL, " \t\r\n", &save) : NULL;
      /* Comments start with '#' or ';' and so never match; glibc skips
       * what it cannot parse, and so do we, to use the servers it uses. */
      if (address == NULL || strcmp (keyword, "nameserver") != 0
          || parse_host (address, DNS_PORT, &out[*count], NULL) < 0)
        continue;
      (*count)++;
    }
  if (ferror (file))
    return ward_fail (err, EIO, "read %s", path);
  if (*count == 0)
    return ward_fail (err, 0, "%s: no nameserver", path);
  return 0;
}
