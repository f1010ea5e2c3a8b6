/* A DNS A-record lookup of the probe's own: a static binary has no NSS,
 * and the probe must see the answer's code (NXDOMAIN from ward's DNS
 * proxy) rather than getaddrinfo's summary of it. */
#define _GNU_SOURCE
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DNS_TIMEOUT_MS 2500
#define RCODE_NXDOMAIN 3

static bool
nameserver (struct sockaddr_storage *addr, socklen_t *len)
{
  FILE *f = fopen ("/etc/resolv.conf", "re");
  if (f == NULL)
    return false;
  char line[256], value[128];
  bool found = false;
  while (!found && fgets (line, sizeof line, f))
    if (sscanf (line, " nameserver %127s", value) == 1)
      {
        struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
        memset (addr, 0, sizeof *addr);
        if (inet_pton (AF_INET, value, &v4->sin_addr) == 1)
          v4->sin_family = AF_INET, v4->sin_port = htons (53), *len = sizeof *v4, found = true;
        else if (inet_pton (AF_INET6, value, &v6->sin6_addr) == 1)
          v6->sin6_family = AF_INET6, v6->sin6_port = htons (53), *len = sizeof *v6, found = true;
      }
  fclose (f);
  return found;
}

/* Header, QNAME, QTYPE A, QCLASS IN. */
static size_t
build_query (const char *name, uint16_t id, unsigned char *buf, size_t size)
{
  unsigned char header[12] = { id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
  memcpy (buf, header, sizeof header);
  size_t n = sizeof header;
  for (const char *label = name; *label;)
    {
      size_t len = strcspn (label, ".");
      if (len == 0 || len > 63 || n + len + 6 > size)
        return 0;
      buf[n++] = (unsigned char)len;
      memcpy (buf + n, label, len);
      n += len;
      label += len + (label[len] == '.');
    }
  buf[n++] = 0;
  memcpy (buf + n, "\0\1\0\1", 4);
  return n + 4;
}

/* Past a (possibly compressed) name; 0 when malformed. */
static size_t
skip_name (const unsigned char *msg, size_t len, size_t at)
{
  while (at < len)
    {
      if ((msg[at] & 0xc0) == 0xc0)
        return at + 2;
      if (msg[at] == 0)
        return at + 1;
      at += msg[at] + 1;
    }
  return 0;
}

int
probe_dns_lookup (const char *name, char *address, size_t size, char *why, size_t why_size)
{
  struct sockaddr_storage server;
  socklen_t server_len;
  if (!nameserver (&server, &server_len))
    return snprintf (why, why_size, "no nameserver in /etc/resolv.conf"), -1;
  unsigned char query[512], answer[1500];
  uint16_t id = (uint16_t)(time (NULL) ^ getpid ());
  size_t query_len = build_query (name, id, query, sizeof query);
  if (query_len == 0)
    return snprintf (why, why_size, "not a valid name"), -1;
  int fd = socket (server.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return snprintf (why, why_size, "socket: %s", strerrorname_np (errno)), -1;
  if (sendto (fd, query, query_len, 0, (struct sockaddr *)&server, server_len) < 0)
    {
      snprintf (why, why_size, "send: %s", strerrorname_np (errno));
      close (fd);
      return -1;
    }
  struct pollfd p = { fd, POLLIN, 0 };
  int ready = poll (&p, 1, DNS_TIMEOUT_MS);
  ssize_t len = ready > 0 ? recv (fd, answer, sizeof answer, 0) : -1;
  int saved = errno;
  close (fd);
  if (ready == 0)
    return snprintf (why, why_size, "no answer (timed out)"), -1;
  if (len < 12)
    return snprintf (why, why_size, "receive: %s", len < 0 ? strerrorname_np (saved) : "short answer"), -1;
  int rcode = answer[3] & 0x0f;
  if (rcode == RCODE_NXDOMAIN)
    return snprintf (why, why_size, "NXDOMAIN"), -1;
  if (rcode != 0)
    return snprintf (why, why_size, "rcode %d", rcode), -1;
  unsigned count = (unsigned)answer[6] << 8 | answer[7];
  size_t at = skip_name (answer, (size_t)len, 12);
  at = at ? at + 4 : 0;
  for (unsigned i = 0; at && i < count; i++)
    {
      at = skip_name (answer, (size_t)len, at);
      if (at == 0 || at + 10 > (size_t)len)
        break;
      unsigned type = (unsigned)answer[at] << 8 | answer[at + 1];
      unsigned rdlength = (unsigned)answer[at + 8] << 8 | answer[at + 9];
      at += 10;
      if (at + rdlength > (size_t)len)
        break;
      if (type == 1 && rdlength == 4)
        {
          inet_ntop (AF_INET, answer + at, address, (socklen_t)size);
          return 0;
        }
      at += rdlength;
    }
  return snprintf (why, why_size, "no address in the answer"), -1;
}
