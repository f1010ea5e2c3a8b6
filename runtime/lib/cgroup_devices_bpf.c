#include "config.h"
#include "cgroup_devices_bpf.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The program's registers.  The context (struct bpf_cgroup_dev_ctx) is
 * read once into r2..r5; r0 accumulates the permissions granted so far,
 * which is also what the program must return through, so it needs no
 * final move. */
enum
{
  REG_GRANTED = BPF_REG_0,
  REG_CTX = BPF_REG_1,
  REG_TYPE = BPF_REG_2,
  REG_ACCESS = BPF_REG_3,
  REG_MAJOR = BPF_REG_4,
  REG_MINOR = BPF_REG_5,
};

#define ACCESS_ALL (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

static const struct
{
  char letter;
  int bit;
} access_letters[] = {
  { 'r', BPF_DEVCG_ACC_READ },
  { 'w', BPF_DEVCG_ACC_WRITE },
  { 'm', BPF_DEVCG_ACC_MKNOD },
};

static const struct
{
  char letter;
  int devcg_type; /* 0: matches every type */
} type_letters[] = {
  { 'a', 0 },
  { 'c', BPF_DEVCG_DEV_CHAR },
  { 'b', BPF_DEVCG_DEV_BLOCK },
};

static struct bpf_insn
insn (uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

struct rule_code
{
  bool allow;
  bool any_type, any_major, any_minor;
  int32_t type, major, minor;
  int32_t access;
};

static int
parse_access (const char *text, size_t index, int32_t *out, struct ward_error **err)
{
  *out = 0;
  for (const char *p = text; *p; p++)
    {
      size_t i = 0;
      while (i < WARD_ARRAY_SIZE (access_letters) && access_letters[i].letter != *p)
        i++;
      if (i == WARD_ARRAY_SIZE (access_letters))
        return ward_fail (err, EINVAL, "devices[%zu]: unknown access '%c' in \"%s\"", index, *p, text);
      *out |= access_letters[i].bit;
    }
  /* OCI: an absent access means all of them. */
  if (*out == 0)
    *out = ACCESS_ALL;
  return 0;
}

/* BPF immediates are signed 32-bit and the context fields are loaded
 * zero-extended, so only 0..INT32_MAX compare correctly (real majors have
 * 12 bits, minors 20). */
static int
parse_number (int64_t value, size_t index, const char *what, bool *any, int32_t *out, struct ward_error **err)
{
  *any = value == -1;
  if (value < -1 || value > INT32_MAX)
    return ward_fail (err, EINVAL, "devices[%zu]: %s %lld out of range", index, what, (long long)value);
  *out = *any ? 0 : (int32_t)value;
  return 0;
}

static int
parse_rule (const struct resources_device_rule *rule, size_t index, struct rule_code *out,
            struct ward_error **err)
{
  size_t t = 0;
  while (t < WARD_ARRAY_SIZE (type_letters) && type_letters[t].letter != rule->type)
    t++;
  if (t == WARD_ARRAY_SIZE (type_letters))
    return ward_fail (err, EINVAL, "devices[%zu]: unknown type '%c'", index, rule->type);
  out->allow = rule->allow;
  out->any_type = type_letters[t].devcg_type == 0;
  out->type = type_letters[t].devcg_type;
  char access[sizeof rule->access + 1];
  memcpy (access, rule->access, sizeof rule->access);
  access[sizeof rule->access] = '\0';
  if (parse_access (access, index, &out->access, err) < 0
      || parse_number (rule->major, index, "major", &out->any_major, &out->major, err) < 0
      || parse_number (rule->minor, index, "minor", &out->any_minor, &out->minor, err) < 0)
    return -1;
  return 0;
}

static bool
matches_everything (const struct rule_code *rule)
{
  return rule->any_type && rule->any_major && rule->any_minor && rule->access == ACCESS_ALL;
}

/* One rule: skip to its end unless the device matches, then grant or
 * revoke its permissions.  Later rules run later, so they override. */
static size_t
emit_rule (const struct rule_code *rule, struct bpf_insn *at)
{
  struct
  {
    bool any;
    uint8_t reg;
    int32_t value;
  } tests[] = {
    { rule->any_type, REG_TYPE, rule->type },
    { rule->any_major, REG_MAJOR, rule->major },
    { rule->any_minor, REG_MINOR, rule->minor },
  };
  size_t compares = 0;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (tests); i++)
    compares += !tests[i].any;
  size_t n = 0;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (tests); i++)
    if (!tests[i].any)
      {
        /* Jump over the remaining compares and the one update. */
        int16_t skip = (int16_t)(compares - n);
        at[n++] = insn (BPF_JMP | BPF_JNE | BPF_K, tests[i].reg, 0, skip, tests[i].value);
      }
  if (rule->allow)
    at[n++] = insn (BPF_ALU | BPF_OR | BPF_K, REG_GRANTED, 0, 0, rule->access);
  else
    at[n++] = insn (BPF_ALU | BPF_AND | BPF_K, REG_GRANTED, 0, 0, ~rule->access & ACCESS_ALL);
  return n;
}

int
cgroup_devices_bpf_build (const struct resources_device_rule *rules, size_t rules_count,
                          struct bpf_insn **out, size_t *count, struct ward_error **err)
{
  cleanup_free struct rule_code *parsed = calloc (rules_count ? rules_count : 1, sizeof *parsed);
  if (parsed == NULL)
    return ward_fail (err, ENOMEM, "devices");
  size_t first = 0;
  for (size_t i = 0; i < rules_count; i++)
    {
      if (parse_rule (&rules[i], i, &parsed[i], err) < 0)
        return -1;
      /* "a *:* rwm" decides every permission of every device: nothing
       * before it can matter. */
      if (matches_everything (&parsed[i]))
        first = i;
    }

  enum
  {
    PROLOGUE = 7,
    PER_RULE = 4,
    EPILOGUE = 7,
  };
  cleanup_free struct bpf_insn *code = calloc (PROLOGUE + PER_RULE * rules_count + EPILOGUE, sizeof *code);
  if (code == NULL)
    return ward_fail (err, ENOMEM, "devices");
  size_t n = 0;
  /* access_type: device type in the low 16 bits, requested access in the
   * high 16. */
  code[n++] = insn (BPF_LDX | BPF_MEM | BPF_W, REG_TYPE, REG_CTX,
                    offsetof (struct bpf_cgroup_dev_ctx, access_type), 0);
  code[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_X, REG_ACCESS, REG_TYPE, 0, 0);
  code[n++] = insn (BPF_ALU | BPF_AND | BPF_K, REG_TYPE, 0, 0, 0xffff);
  code[n++] = insn (BPF_ALU | BPF_RSH | BPF_K, REG_ACCESS, 0, 0, 16);
  code[n++]
      = insn (BPF_LDX | BPF_MEM | BPF_W, REG_MAJOR, REG_CTX, offsetof (struct bpf_cgroup_dev_ctx, major), 0);
  code[n++]
      = insn (BPF_LDX | BPF_MEM | BPF_W, REG_MINOR, REG_CTX, offsetof (struct bpf_cgroup_dev_ctx, minor), 0);
  /* Default deny: nothing granted until a rule grants it. */
  code[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_K, REG_GRANTED, 0, 0, 0);

  for (size_t i = first; i < rules_count; i++)
    n += emit_rule (&parsed[i], code + n);

  /* Allow only when nothing requested is outside what was granted; an
   * access bit this program does not know is never granted, so a future
   * kind of access is denied rather than let through. */
  code[n++] = insn (BPF_ALU | BPF_XOR | BPF_K, REG_GRANTED, 0, 0, -1);
  code[n++] = insn (BPF_ALU | BPF_AND | BPF_X, REG_GRANTED, REG_ACCESS, 0, 0);
  code[n++] = insn (BPF_JMP | BPF_JNE | BPF_K, REG_GRANTED, 0, 2, 0);
  code[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
  code[n++] = insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  code[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
  code[n++] = insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

  *out = steal_pointer (&code);
  *count = n;
  return 0;
}

static int
bpf (int cmd, union bpf_attr *attr)
{
  return (int)syscall (__NR_bpf, cmd, attr, sizeof *attr);
}

static uint64_t
pointer_to_u64 (const void *p)
{
  return (uint64_t)(uintptr_t)p;
}

/* The verifier's log ends with its reason and then a statistics line
 * ("processed N insns ..."); the reason alone makes a one-line message. */
static const char *
verifier_reason (char *log)
{
  char *reason = NULL;
  char *save = NULL;
  for (char *line = strtok_r (log, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (strncmp (line, "processed ", 10) != 0)
      reason = line;
  return reason ? reason : "no log";
}

int
cgroup_devices_bpf_load (const struct bpf_insn *insns, size_t count, struct ward_error **err)
{
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = pointer_to_u64 (insns);
  attr.insn_cnt = (uint32_t)count;
  /* The program calls no helper, so no GPL-only one either. */
  attr.license = pointer_to_u64 ("Apache");
  int fd = bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  int saved = errno;
  if (saved != EACCES && saved != EINVAL)
    return ward_fail (err, saved, "load the cgroup device program");

  /* Refused by the verifier: load again asking why, for the message. */
  char log[8192] = "";
  attr.log_buf = pointer_to_u64 (log);
  attr.log_size = sizeof log;
  attr.log_level = 1;
  fd = bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  log_debug ("cgroup device program refused by the verifier:\n%s", log);
  return ward_fail (err, saved, "load the cgroup device program (%zu instructions): verifier: %s", count,
                    verifier_reason (log));
}

/* The programs attached to the cgroup now, so they can be detached once
 * the new one is in place.  Sets errno, no message. */
static int
query_attached (int dir_fd, uint32_t **ids, uint32_t *count)
{
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.query.target_fd = dir_fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  /* Without a buffer the kernel only says how many there are. */
  if (bpf (BPF_PROG_QUERY, &attr) < 0)
    return -1;
  *count = attr.query.prog_cnt;
  if (*count == 0)
    return 0;
  *ids = calloc (*count, sizeof **ids);
  if (*ids == NULL)
    return -1;
  attr.query.prog_ids = pointer_to_u64 (*ids);
  if (bpf (BPF_PROG_QUERY, &attr) < 0)
    return -1;
  *count = attr.query.prog_cnt;
  return 0;
}

static int
detach (int dir_fd, uint32_t id, struct ward_error **err)
{
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.prog_id = id;
  cleanup_close int prog_fd = bpf (BPF_PROG_GET_FD_BY_ID, &attr);
  if (prog_fd < 0)
    {
      /* Detached and freed meanwhile: nothing left to do. */
      if (errno == ENOENT)
        return 0;
      return ward_fail (err, errno, "open the earlier device program %u", id);
    }
  memset (&attr, 0, sizeof attr);
  attr.target_fd = dir_fd;
  attr.attach_bpf_fd = prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (bpf (BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
    return ward_fail (err, errno, "detach the earlier device program %u", id);
  return 0;
}

int
cgroup_devices_bpf_attach (int dir_fd, int prog_fd, struct ward_error **err)
{
  cleanup_free uint32_t *old = NULL;
  uint32_t old_count = 0;
  if (query_attached (dir_fd, &old, &old_count) < 0)
    {
      /* Kernels before 4.19 cannot list them.  At create there are none;
       * at update the old rules stay attached too, which only denies
       * more. */
      if (errno != EINVAL)
        return ward_fail (err, errno, "list the cgroup's device programs");
      log_debug ("cannot list the cgroup's device programs: earlier ones stay attached");
      old_count = 0;
    }

  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.target_fd = dir_fd;
  attr.attach_bpf_fd = prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf (BPF_PROG_ATTACH, &attr) < 0)
    return ward_fail (err, errno, "attach the device program to the cgroup");

  for (uint32_t i = 0; i < old_count; i++)
    if (detach (dir_fd, old[i], err) < 0)
      return -1;
  return 0;
}
