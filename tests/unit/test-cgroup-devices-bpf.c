/* linux.resources.devices → the cgroup v2 device program.  The program is
 * checked without the kernel by running it in a small interpreter (only
 * the opcodes the generator emits; anything else fails the test), against
 * a table of decisions and against a direct model of the rule semantics.
 * Where the host allows it, the kernel verifier loads every program and a
 * real cgroup beneath our own shows the filter denying /dev/null. */
#include "config.h"
#include "harness.h"
#include "cgroup_devices_bpf.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD
#define CHAR BPF_DEVCG_DEV_CHAR
#define BLOCK BPF_DEVCG_DEV_BLOCK

/* The interpreter.  Besides computing the result it checks what the
 * verifier would: registers read only after being written, the context
 * read with 32-bit loads at its three fields, jumps forward and inside the
 * program, and a return value of 0 or 1.  Returns the program's result, or
 * -1 (with a message) when the program is one the kernel would refuse. */
static int
emulate (const struct bpf_insn *prog, size_t count, int type, uint32_t major, uint32_t minor, uint32_t access)
{
  struct bpf_cgroup_dev_ctx ctx
      = { .access_type = (access << 16) | (uint32_t)type, .major = major, .minor = minor };
  uint64_t reg[MAX_BPF_REG] = { 0 };
  bool set[MAX_BPF_REG] = { false };
  set[BPF_REG_1] = true; /* the context */

  for (size_t pc = 0; pc < count; pc++)
    {
      const struct bpf_insn *in = &prog[pc];
      uint8_t dst = in->dst_reg, src = in->src_reg;
      if (dst >= MAX_BPF_REG || src >= MAX_BPF_REG)
        goto refused;
      switch (in->code)
        {
        case BPF_LDX | BPF_MEM | BPF_W:
          {
            if (src != BPF_REG_1 || in->off < 0 || in->off > 8 || in->off % 4 != 0)
              goto refused;
            uint32_t field;
            memcpy (&field, (const char *)&ctx + in->off, sizeof field);
            reg[dst] = field;
            set[dst] = true;
            break;
          }
        case BPF_ALU64 | BPF_MOV | BPF_K:
          reg[dst] = (uint64_t)(int64_t)in->imm;
          set[dst] = true;
          break;
        case BPF_ALU64 | BPF_MOV | BPF_X:
          if (!set[src])
            goto refused;
          reg[dst] = reg[src];
          set[dst] = true;
          break;
        case BPF_ALU | BPF_AND | BPF_K:
        case BPF_ALU | BPF_OR | BPF_K:
        case BPF_ALU | BPF_XOR | BPF_K:
        case BPF_ALU | BPF_RSH | BPF_K:
        case BPF_ALU | BPF_AND | BPF_X:
          {
            if (!set[dst] || (BPF_SRC (in->code) == BPF_X && !set[src]))
              goto refused;
            uint32_t a = (uint32_t)reg[dst];
            uint32_t b = BPF_SRC (in->code) == BPF_X ? (uint32_t)reg[src] : (uint32_t)in->imm;
            switch (BPF_OP (in->code))
              {
              case BPF_AND:
                a &= b;
                break;
              case BPF_OR:
                a |= b;
                break;
              case BPF_XOR:
                a ^= b;
                break;
              default:
                if (b >= 32)
                  goto refused;
                a >>= b;
              }
            reg[dst] = a; /* 32-bit operations zero the upper half */
            break;
          }
        case BPF_JMP | BPF_JNE | BPF_K:
          if (!set[dst] || in->off < 0 || pc + 1 + in->off >= count)
            goto refused;
          if (reg[dst] != (uint64_t)(int64_t)in->imm)
            pc += in->off;
          break;
        case BPF_JMP | BPF_EXIT:
          if (!set[BPF_REG_0] || reg[BPF_REG_0] > 1)
            goto refused;
          return (int)reg[BPF_REG_0];
        default:
          goto refused;
        }
    }
refused:
  printf ("  emulator: instruction refused or program ran off its end\n");
  return -1;
}

struct rule_set
{
  const char *name;
  struct resources_device_rule rules[16];
  size_t count;
};

#define RULE(allow, type, major, minor, access)                                                              \
  {                                                                                                          \
    allow, type, major, minor, access                                                                        \
  }

static const struct rule_set deny_all_allow_null = {
  "deny all, allow c 1:3 rwm",
  { RULE (false, 'a', -1, -1, "rwm"), RULE (true, 'c', 1, 3, "rwm") },
  2,
};
static const struct rule_set mknod_everything = {
  "deny all, allow a *:* m",
  { RULE (false, 'a', -1, -1, "rwm"), RULE (true, 'a', -1, -1, "m") },
  2,
};
static const struct rule_set wildcards = {
  "allow c *:3 rw, allow b 8:* r",
  { RULE (true, 'c', -1, 3, "rw"), RULE (true, 'b', 8, -1, "r") },
  2,
};
static const struct rule_set read_then_write = {
  "allow c 1:3 r, allow c 1:3 w",
  { RULE (true, 'c', 1, 3, "r"), RULE (true, 'c', 1, 3, "w") },
  2,
};
static const struct rule_set allow_all_deny_write = {
  "allow all, deny c 1:3 w",
  { RULE (true, 'a', -1, -1, ""), RULE (false, 'c', 1, 3, "w") },
  2,
};
static const struct rule_set deny_then_allow = {
  "deny c 1:3, allow c 1:3",
  { RULE (false, 'c', 1, 3, "rwm"), RULE (true, 'c', 1, 3, "rwm") },
  2,
};
static const struct rule_set allow_then_deny_wildcard = {
  "allow c 1:3, deny c *:*",
  { RULE (true, 'c', 1, 3, "rwm"), RULE (false, 'c', -1, -1, "rwm") },
  2,
};
static const struct rule_set no_rules = { "no rules", { RULE (false, 'a', -1, -1, "") }, 0 };
/* What Docker and Podman send. */
static const struct rule_set engine_defaults = {
  "engine defaults",
  {
      RULE (false, 'a', -1, -1, "rwm"),
      RULE (true, 'c', -1, -1, "m"),
      RULE (true, 'b', -1, -1, "m"),
      RULE (true, 'c', 1, 3, "rwm"),
      RULE (true, 'c', 1, 8, "rwm"),
      RULE (true, 'c', 1, 7, "rwm"),
      RULE (true, 'c', 5, 0, "rwm"),
      RULE (true, 'c', 1, 5, "rwm"),
      RULE (true, 'c', 1, 9, "rwm"),
      RULE (true, 'c', 5, 1, "rwm"),
      RULE (true, 'c', 136, -1, "rwm"),
      RULE (true, 'c', 5, 2, "rwm"),
      RULE (true, 'c', 10, 200, "rwm"),
  },
  13,
};

static const struct rule_set *const all_rule_sets[] = {
  &deny_all_allow_null, &mknod_everything,         &wildcards, &read_then_write, &allow_all_deny_write,
  &deny_then_allow,     &allow_then_deny_wildcard, &no_rules,  &engine_defaults,
};

struct decision
{
  const struct rule_set *set;
  int type;
  uint32_t major, minor, access;
  int allowed;
};

static const struct decision decisions[] = {
  { &deny_all_allow_null, CHAR, 1, 3, R, 1 },
  { &deny_all_allow_null, CHAR, 1, 3, R | W, 1 },
  { &deny_all_allow_null, CHAR, 1, 3, M, 1 },
  { &deny_all_allow_null, CHAR, 1, 5, R, 0 },
  { &deny_all_allow_null, BLOCK, 1, 3, R, 0 },
  { &deny_all_allow_null, CHAR, 3, 1, R, 0 },

  { &mknod_everything, CHAR, 5, 1, M, 1 },
  { &mknod_everything, BLOCK, 8, 0, M, 1 },
  { &mknod_everything, CHAR, 5, 1, R, 0 },
  { &mknod_everything, CHAR, 5, 1, R | M, 0 },

  { &wildcards, CHAR, 7, 3, R, 1 },
  { &wildcards, CHAR, 7, 3, R | W, 1 },
  { &wildcards, CHAR, 7, 3, M, 0 },
  { &wildcards, CHAR, 7, 4, R, 0 },
  { &wildcards, BLOCK, 7, 3, R, 0 },
  { &wildcards, BLOCK, 8, 17, R, 1 },
  { &wildcards, BLOCK, 8, 17, W, 0 },
  { &wildcards, BLOCK, 9, 0, R, 0 },
  { &wildcards, CHAR, 8, 0, R, 0 },

  /* Permissions add up across rules, one at a time. */
  { &read_then_write, CHAR, 1, 3, R, 1 },
  { &read_then_write, CHAR, 1, 3, W, 1 },
  { &read_then_write, CHAR, 1, 3, R | W, 1 },
  { &read_then_write, CHAR, 1, 3, R | M, 0 },

  /* A later deny takes exactly its permissions away, also from a request
   * that asks for more than it names. */
  { &allow_all_deny_write, CHAR, 1, 3, R, 1 },
  { &allow_all_deny_write, CHAR, 1, 3, W, 0 },
  { &allow_all_deny_write, CHAR, 1, 3, R | W, 0 },
  { &allow_all_deny_write, CHAR, 1, 3, M, 1 },
  { &allow_all_deny_write, CHAR, 1, 5, W, 1 },
  { &allow_all_deny_write, BLOCK, 1, 3, W, 1 },
  /* An access bit the kernel may add one day is never granted. */
  { &allow_all_deny_write, CHAR, 1, 5, R | 8, 0 },

  { &deny_then_allow, CHAR, 1, 3, R | W, 1 },
  { &allow_then_deny_wildcard, CHAR, 1, 3, R, 0 },
  { &allow_then_deny_wildcard, BLOCK, 1, 3, R, 0 },

  { &no_rules, CHAR, 1, 3, R, 0 },
  { &no_rules, BLOCK, 8, 0, M, 0 },

  { &engine_defaults, CHAR, 1, 3, R | W, 1 },
  { &engine_defaults, CHAR, 136, 4, R | W, 1 },
  { &engine_defaults, CHAR, 10, 200, R | W, 1 },
  { &engine_defaults, CHAR, 4, 1, M, 1 },
  { &engine_defaults, BLOCK, 8, 0, M, 1 },
  { &engine_defaults, BLOCK, 8, 0, R, 0 },
  { &engine_defaults, CHAR, 4, 1, R, 0 },
  { &engine_defaults, CHAR, 10, 229, R | W, 0 },
};

static struct bpf_insn *
build (const struct rule_set *set, size_t *count)
{
  struct bpf_insn *prog = NULL;
  struct ward_error *err = NULL;
  if (cgroup_devices_bpf_build (set->rules, set->count, &prog, count, &err) < 0)
    {
      printf ("  %s: %s\n", set->name, err->message);
      ward_error_free (&err);
      return NULL;
    }
  return prog;
}

TEST (decision_table)
{
  for (size_t i = 0; i < WARD_ARRAY_SIZE (decisions); i++)
    {
      const struct decision *d = &decisions[i];
      size_t count = 0;
      cleanup_free struct bpf_insn *prog = build (d->set, &count);
      REQUIRE (prog != NULL);
      int got = emulate (prog, count, d->type, d->major, d->minor, d->access);
      if (!CHECK_INT_EQ (got, d->allowed))
        printf ("    rules \"%s\", request %c %u:%u access %#x\n", d->set->name, d->type == CHAR ? 'c' : 'b',
                d->major, d->minor, d->access);
    }
}

/* The semantics, written the obvious way: per permission, the last rule
 * that matches decides; unknown bits are never granted. */
static int
model (const struct resources_device_rule *rules, size_t count, int type, uint32_t major, uint32_t minor,
       uint32_t access)
{
  uint32_t granted = 0;
  for (size_t i = 0; i < count; i++)
    {
      const struct resources_device_rule *rule = &rules[i];
      char rule_type = rule->type;
      if ((rule_type == 'c' && type != CHAR) || (rule_type == 'b' && type != BLOCK))
        continue;
      if ((rule->major != -1 && rule->major != major) || (rule->minor != -1 && rule->minor != minor))
        continue;
      uint32_t bits = 0;
      bits |= strchr (rule->access, 'r') ? R : 0;
      bits |= strchr (rule->access, 'w') ? W : 0;
      bits |= strchr (rule->access, 'm') ? M : 0;
      if (bits == 0)
        bits = R | W | M;
      granted = rule->allow ? granted | bits : granted & ~bits;
    }
  return (access & ~granted) == 0;
}

TEST (agrees_with_model_on_random_rules)
{
  static const char types[] = "acb";
  static const char *const accesses[] = { "", "r", "w", "m", "rw", "rm", "wm", "rwm" };
  static const int64_t numbers[] = { -1, 1, 3, 8 };
  unsigned seed = 12345;
  unsigned disagreements = 0;
  for (int round = 0; round < 2000; round++)
    {
      struct resources_device_rule rules[6];
      size_t count = (size_t)(rand_r (&seed) % 7);
      for (size_t i = 0; i < count; i++)
        {
          rules[i].allow = rand_r (&seed) % 2;
          rules[i].type = types[rand_r (&seed) % 3];
          rules[i].major = numbers[rand_r (&seed) % 4];
          rules[i].minor = numbers[rand_r (&seed) % 4];
          strcpy (rules[i].access, accesses[rand_r (&seed) % 8]);
        }
      struct bpf_insn *prog = NULL;
      size_t n = 0;
      struct ward_error *err = NULL;
      if (!CHECK (cgroup_devices_bpf_build (rules, count, &prog, &n, &err) == 0))
        {
          ward_error_free (&err);
          return;
        }
      for (int q = 0; q < 16; q++)
        {
          int type = rand_r (&seed) % 2 ? CHAR : BLOCK;
          uint32_t major = (uint32_t)numbers[1 + rand_r (&seed) % 3];
          uint32_t minor = (uint32_t)numbers[1 + rand_r (&seed) % 3];
          uint32_t access = 1 + rand_r (&seed) % 7;
          if (emulate (prog, n, type, major, minor, access)
              != model (rules, count, type, major, minor, access))
            disagreements++;
        }
      free (prog);
    }
  CHECK_INT_EQ (disagreements, 0);
}

/* Rules before the last "a *:* rwm" cannot matter and are not emitted. */
TEST (skips_rules_before_full_wildcard)
{
  static const struct rule_set set = {
    "many, then deny all",
    { RULE (true, 'c', 1, 3, "rwm"), RULE (true, 'c', 1, 5, "rwm"), RULE (false, 'a', -1, -1, "rwm") },
    3,
  };
  size_t count = 0, baseline = 0;
  cleanup_free struct bpf_insn *prog = build (&set, &count);
  cleanup_free struct bpf_insn *empty = build (&no_rules, &baseline);
  REQUIRE (prog != NULL && empty != NULL);
  CHECK_INT_EQ (count, baseline + 1);
  CHECK_INT_EQ (emulate (prog, count, CHAR, 1, 3, R), 0);
}

static void
check_build_error_at (const char *file, int line, struct resources_device_rule rule, const char *expected)
{
  struct bpf_insn *prog = NULL;
  size_t count = 0;
  struct ward_error *err = NULL;
  int ret = cgroup_devices_bpf_build (&rule, 1, &prog, &count, &err);
  harness_check (ret == -1 && err != NULL && prog == NULL, file, line, "build fails");
  if (err)
    harness_check_str (err->message, expected, file, line, "message", "expected");
  ward_error_free (&err);
  free (prog);
}

#define CHECK_BUILD_ERROR(rule, expected) check_build_error_at (__FILE__, __LINE__, rule, expected)

TEST (refuses_what_it_cannot_express)
{
  CHECK_BUILD_ERROR (((struct resources_device_rule)RULE (true, 'x', 1, 3, "rwm")),
                     "devices[0]: unknown type 'x': Invalid argument");
  CHECK_BUILD_ERROR (((struct resources_device_rule)RULE (true, 'c', 1, 3, "rz")),
                     "devices[0]: unknown access 'z' in \"rz\": Invalid argument");
  CHECK_BUILD_ERROR (((struct resources_device_rule)RULE (true, 'c', -2, 3, "r")),
                     "devices[0]: major -2 out of range: Invalid argument");
  CHECK_BUILD_ERROR (((struct resources_device_rule)RULE (true, 'c', 1, 4294967296LL, "r")),
                     "devices[0]: minor 4294967296 out of range: Invalid argument");
}

/* The kernel parts: skipped, with the reason, where the host refuses. */

static bool
can_load (void)
{
  size_t count = 0;
  cleanup_free struct bpf_insn *prog = build (&no_rules, &count);
  struct ward_error *err = NULL;
  int fd = prog ? cgroup_devices_bpf_load (prog, count, &err) : -1;
  if (fd >= 0)
    {
      close (fd);
      return true;
    }
  printf ("  SKIP: cannot load BPF programs here: %s\n", err ? err->message : "build failed");
  ward_error_free (&err);
  return false;
}

TEST (kernel_verifier_accepts_every_program)
{
  if (!can_load ())
    return;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (all_rule_sets); i++)
    {
      size_t count = 0;
      cleanup_free struct bpf_insn *prog = build (all_rule_sets[i], &count);
      REQUIRE (prog != NULL);
      struct ward_error *err = NULL;
      int fd = cgroup_devices_bpf_load (prog, count, &err);
      if (!CHECK (fd >= 0))
        printf ("    %s: %s\n", all_rule_sets[i]->name, err->message);
      ward_error_free (&err);
      if (fd >= 0)
        close (fd);
    }
}

TEST (verifier_refusal_is_explained)
{
  if (!can_load ())
    return;
  /* Exits without setting r0. */
  static const struct bpf_insn broken[] = { { .code = BPF_JMP | BPF_EXIT } };
  struct ward_error *err = NULL;
  int fd = cgroup_devices_bpf_load (broken, 1, &err);
  CHECK (fd < 0);
  REQUIRE (err != NULL);
  CHECK_STR_EQ (err->message,
                "load the cgroup device program (1 instructions): verifier: R0 !read_ok: "
                "Permission denied");
  ward_error_free (&err);
  if (fd >= 0)
    close (fd);
}

/* Our own directory in the unified hierarchy (mount point + the "0::"
 * path of /proc/self/cgroup); NULL when there is none. */
static char *
own_unified_dir (void)
{
  cleanup_fclose FILE *mounts = fopen ("/proc/self/mounts", "re");
  cleanup_fclose FILE *self = fopen ("/proc/self/cgroup", "re");
  char line[4096], mount_point[4096] = "", own[4096] = "";
  char type[64];
  bool found = false;
  while (!found && mounts && fgets (line, sizeof line, mounts))
    found = sscanf (line, "%*s %4095s %63s", mount_point, type) == 2 && strcmp (type, "cgroup2") == 0;
  if (!found)
    mount_point[0] = '\0';
  while (self && fgets (line, sizeof line, self))
    if (strncmp (line, "0::", 3) == 0)
      {
        snprintf (own, sizeof own, "%s", line + 3);
        own[strcspn (own, "\n")] = '\0';
      }
  if (mount_point[0] == '\0' || own[0] == '\0')
    return NULL;
  char *dir = NULL;
  if (asprintf (&dir, "%s%s", mount_point, strcmp (own, "/") == 0 ? "" : own) < 0)
    return NULL;
  return dir;
}

static int
attach_rules (int dir_fd, const struct rule_set *set, struct ward_error **err)
{
  size_t count = 0;
  cleanup_free struct bpf_insn *prog = build (set, &count);
  if (prog == NULL)
    return ward_fail (err, 0, "build %s", set->name);
  cleanup_close int fd = cgroup_devices_bpf_load (prog, count, err);
  if (fd < 0)
    return -1;
  return cgroup_devices_bpf_attach (dir_fd, fd, err);
}

enum
{
  CHILD_CANNOT_ENTER = 1 << 0,
  CHILD_NULL_NOT_EPERM = 1 << 1,
  CHILD_ZERO_DENIED = 1 << 2,
  CHILD_NULL_DENIED = 1 << 3,
};

/* In a child that moves itself into `dir` (beneath our own cgroup, which
 * the host allows; nothing ever moves out), try /dev/null and /dev/zero.
 * Returns the CHILD_ bits of what went other than `null_allowed` says. */
static int
probe_in (const char *dir, bool null_allowed)
{
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    return CHILD_CANNOT_ENTER;
  if (pid == 0)
    {
      char procs[4096];
      snprintf (procs, sizeof procs, "%s/cgroup.procs", dir);
      int fd = open (procs, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, "0", 1) != 1)
        _exit (CHILD_CANNOT_ENTER);
      close (fd);
      int result = 0;
      int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null_allowed && null_fd < 0)
        result |= CHILD_NULL_DENIED;
      if (!null_allowed && !(null_fd < 0 && errno == EPERM))
        result |= CHILD_NULL_NOT_EPERM;
      if (open ("/dev/zero", O_RDONLY | O_CLOEXEC) < 0)
        result |= CHILD_ZERO_DENIED;
      _exit (result);
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED (status) ? WEXITSTATUS (status) : CHILD_CANNOT_ENTER;
}

static int
attached_count (int dir_fd)
{
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.query.target_fd = dir_fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  if (syscall (__NR_bpf, BPF_PROG_QUERY, &attr, sizeof attr) < 0)
    return -1;
  return (int)attr.query.prog_cnt;
}

TEST (real_cgroup_denies_dev_null)
{
  static const struct rule_set deny_null = {
    "allow all, deny c 1:3",
    { RULE (true, 'a', -1, -1, "rwm"), RULE (false, 'c', 1, 3, "rwm") },
    2,
  };
  static const struct rule_set allow_all = { "allow all", { RULE (true, 'a', -1, -1, "rwm") }, 1 };
  if (!can_load ())
    return;
  cleanup_free char *own = own_unified_dir ();
  if (own == NULL)
    {
      printf ("  SKIP: no cgroup2 hierarchy here\n");
      return;
    }
  char dir[4096];
  snprintf (dir, sizeof dir, "%s/ward-test-devices-%d", own, (int)getpid ());
  if (mkdir (dir, 0755) < 0)
    {
      printf ("  SKIP: mkdir %s: %s\n", dir, strerror (errno));
      return;
    }
  int dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct ward_error *err = NULL;
  if (dir_fd < 0 || attach_rules (dir_fd, &deny_null, &err) < 0)
    printf ("  SKIP: attach a device program to %s: %s\n", dir, err ? err->message : strerror (errno));
  else
    {
      CHECK_INT_EQ (probe_in (dir, false), 0);
      /* An update replaces the rules: the deny must be gone with the old
       * program, not kept alongside the new one. */
      CHECK (attach_rules (dir_fd, &allow_all, &err) == 0);
      CHECK_INT_EQ (attached_count (dir_fd), 1);
      CHECK_INT_EQ (probe_in (dir, true), 0);
    }
  if (err)
    printf ("  %s\n", err->message);
  ward_error_free (&err);
  if (dir_fd >= 0)
    close (dir_fd);
  /* The children have been reaped, so the cgroup is empty. */
  CHECK (rmdir (dir) == 0);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (decision_table),
  TEST_ENTRY (agrees_with_model_on_random_rules),
  TEST_ENTRY (skips_rules_before_full_wildcard),
  TEST_ENTRY (refuses_what_it_cannot_express),
  TEST_ENTRY (kernel_verifier_accepts_every_program),
  TEST_ENTRY (verifier_refusal_is_explained),
  TEST_ENTRY (real_cgroup_denies_dev_null),
};

HARNESS_MAIN (tests)
