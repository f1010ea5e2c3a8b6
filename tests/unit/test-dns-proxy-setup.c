/* What the supervisor does before it starts the proxy: the listening
 * sockets, made in another network namespace than the caller's, and the
 * upstream servers, from ward.conf's dns_upstream or resolv.conf.  The
 * namespace test runs in a forked child that makes two namespaces of its
 * own; its failed checks print there and come back as its exit status. */
#include "config.h"
#include "harness.h"
#include "private_network.h"
#include "dns_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum
{
  PROXY_PORT = 5300,
};

static struct sockaddr_in
loopback4 (uint16_t port)
{
  return (struct sockaddr_in){ .sin_family = AF_INET,
                               .sin_port = htons (port),
                               .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
}

static ino_t
current_netns (void)
{
  struct stat st;
  return stat ("/proc/thread-self/ns/net", &st) == 0 ? st.st_ino : 0;
}

static int
tcp_connect_errno (void)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in address = loopback4 (PROXY_PORT);
  int ret = connect (fd, (struct sockaddr *)&address, sizeof address) == 0 ? 0 : errno;
  close (fd);
  return ret;
}

NETWORK_TEST (listeners_are_made_in_the_given_namespace)
{
  int container = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  REQUIRE (container >= 0);
  /* The test now stands where the supervisor does: another namespace. */
  REQUIRE (unshare (CLONE_NEWNET) == 0 && namespaces_loopback_up (NULL) == 0);
  ino_t supervisor = current_netns ();
  struct dns_listen_fds fds;
  struct ward_error *err = NULL;
  REQUIRE (dns_proxy_listen_in_netns (container, PROXY_PORT, &fds, &err) == 0);
  CHECK_INT_EQ (current_netns (), supervisor);
  CHECK (fds.udp4 >= 0 && fds.tcp4 >= 0);
  CHECK_INT_EQ (tcp_connect_errno (), ECONNREFUSED);

  /* Taken: the same port again fails, and leaves us where we were. */
  struct dns_listen_fds again;
  CHECK_INT_EQ (dns_proxy_listen_in_netns (container, PROXY_PORT, &again, &err), -1);
  REQUIRE (err != NULL);
  printf ("  %s\n", err->message);
  CHECK_INT_EQ (err->errnum, EADDRINUSE);
  ward_error_free (&err);
  CHECK_INT_EQ (again.udp4, -1);
  CHECK_INT_EQ (current_netns (), supervisor);

  int not_a_namespace = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  CHECK_INT_EQ (dns_proxy_listen_in_netns (not_a_namespace, PROXY_PORT + 1, &again, &err), -1);
  ward_error_free (&err);
  CHECK_INT_EQ (dns_proxy_listen_in_netns (container, 0, &again, &err), -1);
  ward_error_free (&err);
  CHECK_INT_EQ (current_netns (), supervisor);

  REQUIRE (setns (container, CLONE_NEWNET) == 0);
  CHECK_INT_EQ (tcp_connect_errno (), 0);
  dns_listen_fds_close (&fds);
  CHECK_INT_EQ (fds.udp4, -1);
  close (container);
}

static const char *
upstream_text (const struct dns_upstream *upstream)
{
  static char text[INET6_ADDRSTRLEN + 16];
  dns_address_format (&upstream->address, text, sizeof text);
  return text;
}

TEST (upstream_addresses_parse_with_and_without_port)
{
  struct dns_upstream upstream;
  struct ward_error *err = NULL;
  static const char *const good[][2] = {
    { "192.0.2.53", "192.0.2.53:53" },
    { "192.0.2.53:5353", "192.0.2.53:5353" },
    { "2001:db8::53", "[2001:db8::53]:53" },
    { "[2001:db8::53]", "[2001:db8::53]:53" },
    { "[2001:db8::53]:853", "[2001:db8::53]:853" },
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    {
      REQUIRE (dns_upstream_parse (good[i][0], &upstream, &err) == 0);
      CHECK_STR_EQ (upstream_text (&upstream), good[i][1]);
    }
  static const char *const bad[] = { "resolver.example", "192.0.2.53:0",  "192.0.2.53:65536", "192.0.2.53:-1",
                                     "192.0.2.53:",      "[2001:db8::53", "[2001:db8::53]x",  "" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      CHECK_INT_EQ (dns_upstream_parse (bad[i], &upstream, &err), -1);
      CHECK (err != NULL);
      ward_error_free (&err);
    }
}

static void
write_file (const char *path, const char *content)
{
  FILE *f = fopen (path, "w");
  fputs (content, f);
  fclose (f);
}

TEST (resolv_conf_gives_its_nameservers_in_order)
{
  char path[] = "/tmp/ward-test-resolv-XXXXXX";
  int fd = mkstemp (path);
  REQUIRE (fd >= 0);
  close (fd);
  write_file (path,
              "# nameserver 192.0.2.1\n"
              "; nameserver 192.0.2.2\n"
              "search example.com\n"
              "nameserver 192.0.2.53\n"
              "nameserver\t 2001:db8::53   # comment\n"
              "nameserver resolver.example\n"
              "nameserver\n"
              "nameserver fe80::1%lo\n"
              "nameserver 198.51.100.53\n"
              "options edns0 trust-ad\n");
  struct dns_upstream upstreams[8];
  size_t count = 0;
  struct ward_error *err = NULL;
  REQUIRE (dns_upstreams_from_resolv_conf (path, upstreams, 8, &count, &err) == 0);
  REQUIRE (count == 4);
  CHECK_STR_EQ (upstream_text (&upstreams[0]), "192.0.2.53:53");
  CHECK_STR_EQ (upstream_text (&upstreams[1]), "[2001:db8::53]:53");
  CHECK_STR_EQ (upstream_text (&upstreams[2]), "[fe80::1]:53");
  CHECK_INT_EQ (((struct sockaddr_in6 *)&upstreams[2].address)->sin6_scope_id, if_nametoindex ("lo"));
  CHECK_STR_EQ (upstream_text (&upstreams[3]), "198.51.100.53:53");

  REQUIRE (dns_upstreams_from_resolv_conf (path, upstreams, 2, &count, &err) == 0);
  CHECK_INT_EQ (count, 2);

  write_file (path, "search example.com\n# nameserver 192.0.2.1\n");
  CHECK_INT_EQ (dns_upstreams_from_resolv_conf (path, upstreams, 8, &count, &err), -1);
  REQUIRE (err != NULL);
  CHECK (strstr (err->message, "no nameserver") != NULL);
  ward_error_free (&err);

  unlink (path);
  CHECK_INT_EQ (dns_upstreams_from_resolv_conf (path, upstreams, 8, &count, &err), -1);
  REQUIRE (err != NULL);
  CHECK_INT_EQ (err->errnum, ENOENT);
  ward_error_free (&err);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (listeners_are_made_in_the_given_namespace),
  TEST_ENTRY (upstream_addresses_parse_with_and_without_port),
  TEST_ENTRY (resolv_conf_gives_its_nameservers_in_order),
};

HARNESS_MAIN (tests)
