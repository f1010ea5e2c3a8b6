/* linux.seccomp → a BPF program, compiled with libseccomp in ward (where
 * errors can still name config.json fields) and installed by the init with
 * the raw seccomp(2) call.  The program is kept as plain bytes so that a
 * compiled profile can later be cached and reused by content. */
#include "config.h"
/* libseccomp's header, reached through ours of the same name (see seccomp.h). */
#define WARD_WANT_LIBSECCOMP
#include <seccomp.h>
#include "seccomp.h"
#include "seccomp_program.h"
#include "unix_socket.h"
#include "cleanup.h"
#include "json_field.h"
#include "json_writer.h"
#include "log.h"
#include "spec_default.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* Older kernel headers lack the newest flags; the kernel is probed anyway. */
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define SECCOMP_PATH "linux.seccomp"
#define SYSCALL_ARGS_MAX 6

/* Strictness orders actions by how much they hold a call back: a rule on a
 * syscall libseccomp does not know can be skipped only when the default
 * action, which that call then meets, is at least as strict as the rule.
 * ALLOW and LOG let the call run; NOTIFY and TRACE hand it to someone who
 * may refuse it; ERRNO refuses it; TRAP, KILL_THREAD and KILL_PROCESS also
 * punish the caller, each harder than the last. */
struct action_kind
{
  const char *name;
  uint32_t action; /* without errno data */
  int strictness;
  uint32_t errno_max; /* largest errnoRet the action carries, 0: it takes none */
};

/* libseccomp takes errnos below the kernel's MAX_ERRNO (4095), which the
 * kernel caps them at anyway; TRACE hands its value to the tracer, in the
 * 16 data bits of the filter's return value. */
#define ERRNO_DATA_MAX 4094
#define TRACE_DATA_MAX 0xffff

static const struct action_kind action_kinds[] = {
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, 0, 0 },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG, 1, 0 },
  { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, 2, 0 },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0), 2, TRACE_DATA_MAX },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0), 3, ERRNO_DATA_MAX },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, 4, 0 },
  { "SCMP_ACT_KILL", SCMP_ACT_KILL, 5, 0 },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, 5, 0 },
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, 6, 0 },
};

struct rule_action
{
  const struct action_kind *kind;
  uint32_t value; /* with errno data, as the filter returns it */
};

struct named_value
{
  const char *name;
  uint32_t value;
};

static const struct named_value operators[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct named_value architectures[] = {
  { "SCMP_ARCH_X86", SCMP_ARCH_X86 },
  { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
  { "SCMP_ARCH_X32", SCMP_ARCH_X32 },
  { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
  { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
  { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
  { "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
  { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
  { "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
  { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
  { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
  { "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
  { "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
  { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
  { "SCMP_ARCH_S390", SCMP_ARCH_S390 },
  { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
  { "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
  { "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
  { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
};

static const struct named_value filter_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

/* Between loading the filter and handing the listener fd to ward, the init
 * makes exactly these calls; if they waited for the agent, which gets the
 * fd only afterwards, the container would hang. */
static const char *const init_handoff_syscalls[] = { "sendmsg" };

/* What compiling one profile needs at hand. */
struct compiler
{
  const struct json_document *doc;
  scmp_filter_ctx ctx;
  struct seccomp_program *program;
  struct rule_action default_action;
  const char *const *audited; /* calls to hand to ward's own listener (seccomp_compile_audited) */
  size_t audited_count;
  bool *audited_mentioned; /* [audited_count]: the profile has a rule of its own for it */
};

static const struct named_value *
find_named (const struct named_value *table, size_t count, const char *name)
{
  for (size_t i = 0; i < count; i++)
    if (strcmp (table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

static const struct action_kind *
find_action (const char *name)
{
  for (size_t i = 0; i < WARD_ARRAY_SIZE (action_kinds); i++)
    if (strcmp (action_kinds[i].name, name) == 0)
      return &action_kinds[i];
  return NULL;
}

static const char *
action_name (const struct rule_action *action)
{
  return action->kind->name;
}

/* An array item that must be a string (syscall, architecture or flag name). */
static int
item_string (const struct json_document *doc, const struct json_value *item, const char *path,
             const char **out, struct ward_error **err)
{
  if (item->type != JSON_STRING)
    return field_type_error (doc, item, path, "a string", err);
  *out = item->u.string;
  return 0;
}

/* `action_key` and its errno companion (`errnoRet`, `defaultErrnoRet`) of
 * `object`.  The runtime spec makes an errno on any other action an error. */
static int
parse_action (const struct json_document *doc, const struct json_value *object, const char *parent,
              const char *action_key, const char *errno_key, struct rule_action *out, struct ward_error **err)
{
  char path[FIELD_PATH_MAX], errno_path[FIELD_PATH_MAX];
  cleanup_free char *name = NULL;
  uint32_t errno_ret = EPERM;
  bool has_errno = false;

  if (field_string (doc, object, parent, action_key, true, &name, err) < 0)
    return -1;
  field_path (path, parent, action_key);
  out->kind = find_action (name);
  if (out->kind == NULL)
    return field_error (doc, json_object_get (object, action_key), path, err, "unknown action \"%s\"", name);
  if (field_uint32 (doc, object, parent, errno_key, false, &errno_ret, &has_errno, err) < 0)
    return -1;
  field_path (errno_path, parent, errno_key);
  const struct json_value *errno_value = json_object_get (object, errno_key);
  if (has_errno && out->kind->errno_max == 0)
    return field_error (doc, errno_value, errno_path, err,
                        "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not %s", name);
  if (has_errno && errno_ret > out->kind->errno_max)
    return field_error (doc, errno_value, errno_path, err, "%u is out of range for %s (at most %u)",
                        errno_ret, name, out->kind->errno_max);
  out->value = out->kind->action | (out->kind->errno_max ? errno_ret : 0);
  return 0;
}

static int
set_attribute (struct compiler *c, enum scmp_filter_attr attribute, uint32_t value, const char *what,
               struct ward_error **err)
{
  int rc = seccomp_attr_set (c->ctx, attribute, value);
  if (rc < 0)
    return ward_fail (err, -rc, "%s: %s: set libseccomp attribute %s", c->doc->name, SECCOMP_PATH, what);
  return 0;
}

static int
start_filter (struct compiler *c, const struct json_value *seccomp, struct ward_error **err)
{
  if (parse_action (c->doc, seccomp, SECCOMP_PATH, "defaultAction", "defaultErrnoRet", &c->default_action,
                    err)
      < 0)
    return -1;
  /* Every call of the init after loading, the fd handoff included, would
   * wait for an agent that cannot have the fd yet. */
  if (c->default_action.kind->action == SCMP_ACT_NOTIFY)
    return field_error (c->doc, json_object_get (seccomp, "defaultAction"), SECCOMP_PATH ".defaultAction",
                        err, "SCMP_ACT_NOTIFY cannot be the default action");
  c->ctx = seccomp_init (c->default_action.value);
  if (c->ctx == NULL)
    return field_error (c->doc, json_object_get (seccomp, "defaultAction"), SECCOMP_PATH ".defaultAction",
                        err, "libseccomp cannot use %s as the default action",
                        action_name (&c->default_action));
  /* The init sets no_new_privs itself when the config asks for it; libseccomp
   * must not force it.  Raw return codes keep errno meaningful in messages.
   * The binary tree keeps long allow lists cheap on every syscall.  A call
   * through an ABI the profile does not list (i386's int 0x80, x32) kills
   * the whole process, not just the thread: that is how 32-bit socketcall
   * and friends get around filters written for the native ABI. */
  if (set_attribute (c, SCMP_FLTATR_CTL_NNP, 0, "CTL_NNP", err) < 0
      || set_attribute (c, SCMP_FLTATR_API_SYSRAWRC, 1, "API_SYSRAWRC", err) < 0
      || set_attribute (c, SCMP_FLTATR_CTL_OPTIMIZE, 2, "CTL_OPTIMIZE", err) < 0
      || set_attribute (c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS, "ACT_BADARCH", err) < 0)
    return -1;
  return 0;
}

static int
add_architectures (struct compiler *c, const struct json_value *seccomp, struct ward_error **err)
{
  const struct json_value *list = NULL;
  if (field_array (c->doc, seccomp, SECCOMP_PATH, "architectures", false, &list, err) < 0)
    return -1;
  for (size_t i = 0; list != NULL && i < list->u.array.count; i++)
    {
      char path[FIELD_PATH_MAX];
      const struct json_value *item = list->u.array.items[i];
      const char *name = NULL;
      field_index_path (path, SECCOMP_PATH ".architectures", i);
      if (item_string (c->doc, item, path, &name, err) < 0)
        return -1;
      const struct named_value *arch = find_named (architectures, WARD_ARRAY_SIZE (architectures), name);
      if (arch == NULL)
        return field_error (c->doc, item, path, err, "unknown architecture \"%s\"", name);
      /* The native architecture is there from seccomp_init: EEXIST is fine. */
      int rc = seccomp_arch_add (c->ctx, arch->value);
      if (rc == -EDOM)
        return field_error (c->doc, item, path, err,
                            "%s cannot share a filter with the native architecture (different byte order)",
                            name);
      if (rc < 0 && rc != -EEXIST)
        return field_error (c->doc, item, path, err, "add architecture %s: %s", name, strerror (-rc));
    }
  return 0;
}

/* Whether the running kernel accepts `flag`.  It checks flags before it
 * reads the program, so a NULL program yields EFAULT for known flags and
 * EINVAL for unknown ones, without installing anything. */
static bool
kernel_has_filter_flag (unsigned int flag)
{
  unsigned int probe = flag;
  /* WAIT_KILLABLE_RECV is refused on its own: it qualifies a listener. */
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long ret = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, NULL);
  return !(ret < 0 && errno == EINVAL);
}

static void
visit_named (const struct named_value *table, size_t count, void (*visit) (const char *name, void *ctx),
             void *ctx)
{
  for (size_t i = 0; i < count; i++)
    visit (table[i].name, ctx);
}

void
seccomp_each_name (enum seccomp_names which, void (*visit) (const char *name, void *ctx), void *ctx)
{
  switch (which)
    {
    case SECCOMP_NAMES_ACTIONS:
      for (size_t i = 0; i < WARD_ARRAY_SIZE (action_kinds); i++)
        visit (action_kinds[i].name, ctx);
      break;
    case SECCOMP_NAMES_OPERATORS:
      visit_named (operators, WARD_ARRAY_SIZE (operators), visit, ctx);
      break;
    case SECCOMP_NAMES_ARCHITECTURES:
      visit_named (architectures, WARD_ARRAY_SIZE (architectures), visit, ctx);
      break;
    case SECCOMP_NAMES_FLAGS:
      visit_named (filter_flags, WARD_ARRAY_SIZE (filter_flags), visit, ctx);
      break;
    case SECCOMP_NAMES_SUPPORTED_FLAGS:
      for (size_t i = 0; i < WARD_ARRAY_SIZE (filter_flags); i++)
        if (kernel_has_filter_flag (filter_flags[i].value))
          visit (filter_flags[i].name, ctx);
      break;
    }
}

static int
parse_flags (struct compiler *c, const struct json_value *seccomp, struct ward_error **err)
{
  const struct json_value *list = NULL;
  if (field_array (c->doc, seccomp, SECCOMP_PATH, "flags", false, &list, err) < 0)
    return -1;
  for (size_t i = 0; list != NULL && i < list->u.array.count; i++)
    {
      char path[FIELD_PATH_MAX];
      const struct json_value *item = list->u.array.items[i];
      const char *name = NULL;
      field_index_path (path, SECCOMP_PATH ".flags", i);
      if (item_string (c->doc, item, path, &name, err) < 0)
        return -1;
      const struct named_value *flag = find_named (filter_flags, WARD_ARRAY_SIZE (filter_flags), name);
      if (flag == NULL)
        return field_error (c->doc, item, path, err, "unknown flag \"%s\"", name);
      if (!kernel_has_filter_flag (flag->value))
        return field_error (c->doc, item, path, err, "%s is not supported by this kernel", name);
      c->program->flags |= flag->value;
    }
  /* libseccomp only applies this when it loads the filter itself; it is set
   * so the exported filter and its attributes tell one story. */
  return set_attribute (c, SCMP_FLTATR_CTL_TSYNC, (c->program->flags & SECCOMP_FILTER_FLAG_TSYNC) != 0,
                        "CTL_TSYNC", err);
}

static int
parse_listener (struct compiler *c, const struct json_value *seccomp, struct ward_error **err)
{
  struct seccomp_program *p = c->program;
  if (field_string (c->doc, seccomp, SECCOMP_PATH, "listenerPath", false, &p->listener_path, err) < 0
      || field_string (c->doc, seccomp, SECCOMP_PATH, "listenerMetadata", false, &p->listener_metadata, err)
          < 0)
    return -1;
  if (p->listener_path != NULL && p->listener_path[0] == '\0')
    return field_error (c->doc, json_object_get (seccomp, "listenerPath"), SECCOMP_PATH ".listenerPath", err,
                        "must not be empty");
  if (p->listener_metadata != NULL && p->listener_path == NULL)
    return field_error (c->doc, json_object_get (seccomp, "listenerMetadata"),
                        SECCOMP_PATH ".listenerMetadata", err, "is set without listenerPath");
  return 0;
}

static int
parse_arg (const struct json_document *doc, const struct json_value *item, const char *path,
           struct scmp_arg_cmp *out, struct ward_error **err)
{
  uint32_t index = 0;
  uint64_t value = 0, value_two = 0;
  cleanup_free char *op = NULL;
  char field[FIELD_PATH_MAX];

  if (item->type != JSON_OBJECT)
    return field_type_error (doc, item, path, "an object", err);
  if (field_uint32 (doc, item, path, "index", true, &index, NULL, err) < 0
      || field_uint64 (doc, item, path, "value", true, &value, NULL, err) < 0
      || field_uint64 (doc, item, path, "valueTwo", false, &value_two, NULL, err) < 0
      || field_string (doc, item, path, "op", true, &op, err) < 0)
    return -1;
  if (index >= SYSCALL_ARGS_MAX)
    return field_error (doc, json_object_get (item, "index"), field_path (field, path, "index"), err,
                        "%u is out of range (0 to %d)", index, SYSCALL_ARGS_MAX - 1);
  const struct named_value *cmp = find_named (operators, WARD_ARRAY_SIZE (operators), op);
  if (cmp == NULL)
    return field_error (doc, json_object_get (item, "op"), field_path (field, path, "op"), err,
                        "unknown operator \"%s\"", op);
  /* For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the datum, as in
   * libseccomp's own argument order (and runc's). */
  *out = (struct scmp_arg_cmp){ .arg = index, .op = cmp->value, .datum_a = value, .datum_b = value_two };
  return 0;
}

/* One rule's comparisons, and how libseccomp is to combine them. */
struct rule_args
{
  struct scmp_arg_cmp *cmp;
  size_t count;
  bool each_its_own_rule;
};

/* libseccomp ANDs the comparisons of one rule and refuses two on the same
 * argument (EINVAL).  Profiles written for runc/Docker list several entries
 * for one index to mean "any of these values", and runc then adds one rule
 * per entry, ORing every comparison of the entry, the ones on other indexes
 * included.  ward does the same so one profile means the same everywhere. */
static bool
repeats_an_index (const struct scmp_arg_cmp *cmp, size_t count)
{
  unsigned seen = 0;
  for (size_t i = 0; i < count; i++)
    {
      if (seen & (1u << cmp[i].arg))
        return true;
      seen |= 1u << cmp[i].arg;
    }
  return false;
}

static int
parse_args (const struct json_document *doc, const struct json_value *entry, const char *parent,
            struct rule_args *out, struct ward_error **err)
{
  const struct json_value *list = NULL;
  char path[FIELD_PATH_MAX];
  if (field_array (doc, entry, parent, "args", false, &list, err) < 0)
    return -1;
  if (list == NULL || list->u.array.count == 0)
    return 0;
  out->cmp = calloc (list->u.array.count, sizeof *out->cmp);
  if (out->cmp == NULL)
    return ward_fail (err, ENOMEM, "%s.args", parent);
  field_path (path, parent, "args");
  for (size_t i = 0; i < list->u.array.count; i++)
    {
      char item_path[FIELD_PATH_MAX];
      if (parse_arg (doc, list->u.array.items[i], field_index_path (item_path, path, i), &out->cmp[i], err)
          < 0)
        return -1;
      out->count++;
    }
  out->each_its_own_rule = repeats_an_index (out->cmp, out->count);
  return 0;
}

static int
add_rules (struct compiler *c, int nr, const struct rule_action *action, const struct rule_args *args)
{
  if (!args->each_its_own_rule)
    return seccomp_rule_add_array (c->ctx, action->value, nr, args->count, args->cmp);
  for (size_t i = 0; i < args->count; i++)
    {
      int rc = seccomp_rule_add_array (c->ctx, action->value, nr, 1, &args->cmp[i]);
      if (rc < 0)
        return rc;
    }
  return 0;
}

/* A name libseccomp does not know (newer than the library, or misspelt)
 * is skipped when the call then meets a default at least as strict as the
 * rule; otherwise skipping would let it through, and the config is refused. */
static int
skip_unknown (struct compiler *c, const struct json_value *item, const char *path, const char *name,
              const struct rule_action *action, struct ward_error **err)
{
  if (action->kind->strictness > c->default_action.kind->strictness)
    return field_error (c->doc, item, path, err,
                        "unknown syscall \"%s\": skipping its %s rule would leave it to the less strict "
                        "default action %s",
                        name, action_name (action), action_name (&c->default_action));
  log_debug ("%s: %s: skipping unknown syscall \"%s\" (the default action %s is at least as strict as %s)",
             c->doc->name, path, name, action_name (&c->default_action), action_name (action));
  return 0;
}

static bool
is_handoff_syscall (const char *name)
{
  for (size_t i = 0; i < WARD_ARRAY_SIZE (init_handoff_syscalls); i++)
    if (strcmp (init_handoff_syscalls[i], name) == 0)
      return true;
  return false;
}

static int
add_name (struct compiler *c, const struct json_value *item, const char *path,
          const struct rule_action *action, const struct rule_args *args, struct ward_error **err)
{
  const char *name = NULL;
  if (item_string (c->doc, item, path, &name, err) < 0)
    return -1;
  if (name[0] == '\0')
    return field_error (c->doc, item, path, err, "expected a syscall name, got an empty string");
  for (size_t i = 0; i < c->audited_count; i++)
    if (strcmp (c->audited[i], name) == 0)
      c->audited_mentioned[i] = true;
  if (action->kind->action == SCMP_ACT_NOTIFY && is_handoff_syscall (name))
    return field_error (
        c->doc, item, path, err,
        "SCMP_ACT_NOTIFY cannot apply to \"%s\": the init needs it to pass the listener fd on", name);
  if (action->value == c->default_action.value)
    return 0;
  int nr = seccomp_syscall_resolve_name (name);
  if (nr == __NR_SCMP_ERROR)
    return skip_unknown (c, item, path, name, action, err);
  int rc = add_rules (c, nr, action, args);
  if (rc < 0)
    return field_error (c->doc, item, path, err, "add %s rule for \"%s\": %s", action_name (action), name,
                        strerror (-rc));
  return 0;
}

static int
add_names (struct compiler *c, const struct json_value *entry, const char *parent,
           const struct rule_action *action, const struct rule_args *args, struct ward_error **err)
{
  const struct json_value *names = NULL;
  char path[FIELD_PATH_MAX];
  if (field_array (c->doc, entry, parent, "names", true, &names, err) < 0)
    return -1;
  field_path (path, parent, "names");
  if (names->u.array.count == 0)
    return field_error (c->doc, names, path, err, "expected at least one syscall name");
  for (size_t i = 0; i < names->u.array.count; i++)
    {
      char item_path[FIELD_PATH_MAX];
      if (add_name (c, names->u.array.items[i], field_index_path (item_path, path, i), action, args, err) < 0)
        return -1;
    }
  return 0;
}

static int
add_syscall_entry (struct compiler *c, const struct json_value *entry, const char *path,
                   struct ward_error **err)
{
  struct rule_action action;
  struct rule_args args = { 0 };

  if (entry->type != JSON_OBJECT)
    return field_type_error (c->doc, entry, path, "an object", err);
  if (parse_action (c->doc, entry, path, "action", "errnoRet", &action, err) < 0
      || parse_args (c->doc, entry, path, &args, err) < 0)
    {
      free (args.cmp);
      return -1;
    }
  if (action.kind->action == SCMP_ACT_NOTIFY)
    c->program->uses_notify = true;
  /* A rule that returns what the default would is a no-op, and libseccomp
   * refuses it (EACCES); add_name still checks its names. */
  if (action.value == c->default_action.value)
    log_debug ("%s: %s: same action as the default, nothing to add", c->doc->name, path);
  int ret = add_names (c, entry, path, &action, &args, err);
  free (args.cmp);
  return ret;
}

static int
add_syscalls (struct compiler *c, const struct json_value *seccomp, struct ward_error **err)
{
  const struct json_value *list = NULL;
  if (field_array (c->doc, seccomp, SECCOMP_PATH, "syscalls", false, &list, err) < 0)
    return -1;
  for (size_t i = 0; list != NULL && i < list->u.array.count; i++)
    {
      char path[FIELD_PATH_MAX];
      if (add_syscall_entry (c, list->u.array.items[i], field_index_path (path, SECCOMP_PATH ".syscalls", i),
                             err)
          < 0)
        return -1;
    }
  return 0;
}

/* Checks that need the whole profile read. */
static int
check_notify (struct compiler *c, struct ward_error **err)
{
  struct seccomp_program *p = c->program;
  if (p->uses_notify && p->listener_path == NULL)
    return field_error (c->doc, NULL, SECCOMP_PATH ".listenerPath", err,
                        "required when a rule uses SCMP_ACT_NOTIFY");
  /* The flag qualifies the listener and the kernel refuses it without one;
   * a shared profile may carry it for containers that have no notify rules. */
  if (!p->uses_notify)
    p->flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  return 0;
}

static int
read_exported (int fd, struct seccomp_program *program, struct ward_error **err)
{
  off_t size = lseek (fd, 0, SEEK_END);
  if (size < 0)
    return ward_fail (err, errno, "read the exported seccomp filter");
  if (size == 0 || size % sizeof (struct sock_filter) != 0)
    return ward_fail (err, 0, "libseccomp exported a malformed filter of %lld bytes", (long long)size);
  program->bpf = malloc (size);
  if (program->bpf == NULL)
    return ward_fail (err, ENOMEM, "read the exported seccomp filter");
  for (size_t done = 0; done < (size_t)size;)
    {
      ssize_t n = pread (fd, program->bpf + done, size - done, done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return ward_fail (err, n < 0 ? errno : EIO, "read the exported seccomp filter");
      done += n;
    }
  program->bpf_size = size;
  return 0;
}

/* libseccomp 2.5 exports only to an fd; a memfd keeps it off the disk. */
static int
export_bpf (struct compiler *c, struct ward_error **err)
{
  cleanup_close int fd = memfd_create ("ward-seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return ward_fail (err, errno, "create a memfd for the seccomp filter");
  int rc = seccomp_export_bpf (c->ctx, fd);
  if (rc < 0)
    return ward_fail (err, -rc, "%s: %s: export the filter", c->doc->name, SECCOMP_PATH);
  if (read_exported (fd, c->program, err) < 0)
    return -1;
  size_t instructions = c->program->bpf_size / sizeof (struct sock_filter);
  /* Refused here, in ward, rather than by seccomp(2) in a half-made container. */
  if (instructions > BPF_MAXINSNS)
    return ward_fail (err, 0,
                      "%s: %s: the filter compiles to %zu BPF instructions, more than the kernel's %d",
                      c->doc->name, SECCOMP_PATH, instructions, BPF_MAXINSNS);
  return 0;
}

/* The audited calls the profile leaves to an EPERM default notify
 * instead, and ward's listener answers EPERM: the same refusal, now
 * seen.  Only calls the profile has no rule for, so that nothing it
 * allows (or refuses otherwise) changes; and only after check_notify,
 * which holds the profile's own notify rules to a listenerPath. */
static int
add_audit_rules (struct compiler *c, struct ward_error **err)
{
  if (c->audited_count == 0 || c->default_action.value != SCMP_ACT_ERRNO (EPERM))
    return 0;
  for (size_t i = 0; i < c->audited_count; i++)
    {
      int nr = seccomp_syscall_resolve_name (c->audited[i]);
      if (c->audited_mentioned[i] || nr == __NR_SCMP_ERROR)
        continue;
      int rc = seccomp_rule_add (c->ctx, SCMP_ACT_NOTIFY, nr, 0);
      if (rc < 0)
        return ward_fail (err, -rc, "%s: add the audit rule for \"%s\"", c->doc->name, c->audited[i]);
      c->program->uses_notify = true;
    }
  return 0;
}

static int
compile (struct compiler *c, const struct json_value *seccomp, struct ward_error **err)
{
  /* Architectures before rules: rules are added for the architectures the
   * filter has at that moment. */
  if (start_filter (c, seccomp, err) < 0 || add_architectures (c, seccomp, err) < 0
      || parse_flags (c, seccomp, err) < 0 || parse_listener (c, seccomp, err) < 0
      || add_syscalls (c, seccomp, err) < 0 || check_notify (c, err) < 0 || add_audit_rules (c, err) < 0)
    return -1;
  return export_bpf (c, err);
}

int
seccomp_compile_audited (const struct json_document *doc, const struct json_value *seccomp,
                         const char *const *audited, size_t audited_count, struct seccomp_program **out,
                         struct ward_error **err)
{
  *out = NULL;
  if (seccomp == NULL)
    return 0;
  if (seccomp->type != JSON_OBJECT)
    return field_type_error (doc, seccomp, SECCOMP_PATH, "an object", err);
  struct compiler c = { .doc = doc, .audited = audited, .audited_count = audited_count };
  c.program = calloc (1, sizeof *c.program);
  c.audited_mentioned = calloc (audited_count + 1, sizeof (bool));
  int ret = -1;
  if (c.program == NULL || c.audited_mentioned == NULL)
    ward_fail (err, ENOMEM, "compile %s", SECCOMP_PATH);
  else
    ret = compile (&c, seccomp, err);
  if (c.ctx != NULL)
    seccomp_release (c.ctx);
  free (c.audited_mentioned);
  if (ret < 0)
    {
      seccomp_program_free (c.program);
      return -1;
    }
  *out = c.program;
  return 0;
}

int
seccomp_compile (const struct json_document *doc, const struct json_value *seccomp,
                 struct seccomp_program **out, struct ward_error **err)
{
  return seccomp_compile_audited (doc, seccomp, NULL, 0, out, err);
}

void
seccomp_program_free (struct seccomp_program *program)
{
  if (program == NULL)
    return;
  free (program->bpf);
  free (program->listener_path);
  free (program->listener_metadata);
  free (program);
}

bool
seccomp_uses_notify (const struct seccomp_program *program)
{
  return program != NULL && program->uses_notify;
}

bool
seccomp_notifies_ward (const struct seccomp_program *program)
{
  return program != NULL && program->uses_notify && program->listener_path == NULL;
}

const char *
seccomp_listener_path (const struct seccomp_program *program)
{
  return program ? program->listener_path : NULL;
}

const char *
seccomp_listener_metadata (const struct seccomp_program *program)
{
  return program ? program->listener_metadata : NULL;
}

/* Nothing here may make a syscall between seccomp(2) and the return: the
 * filter already applies, and the caller hands the listener fd on next. */
int
seccomp_program_load (const struct seccomp_program *program, int *notify_fd, struct ward_error **err)
{
  struct sock_fprog fprog = {
    .len = program->bpf_size / sizeof (struct sock_filter),
    .filter = (struct sock_filter *)program->bpf,
  };
  unsigned int flags = program->flags;
  *notify_fd = -1;
  if (program->uses_notify)
    {
      flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
      /* With a listener the return value is the fd, so the kernel takes
       * TSYNC only if a thread it cannot sync is reported as ESRCH. */
      if (flags & SECCOMP_FILTER_FLAG_TSYNC)
        flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
  long ret = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (ret < 0)
    return ward_fail (err, errno, "load the seccomp filter");
  if (program->uses_notify)
    *notify_fd = (int)ret;
  else if (ret > 0)
    return ward_fail (err, 0, "load the seccomp filter: thread %ld could not be synchronised", ret);
  return 0;
}

/* The container process state (runtime-spec config-linux.md), with the
 * container's state object spliced in as given. */
static int
listener_message (const struct seccomp_program *program, pid_t pid, const char *state_json, char **out,
                  struct ward_error **err)
{
  struct json_document *state = NULL;
  if (json_parse ("container state", state_json, strlen (state_json), &state, err) < 0)
    return -1;
  bool is_object = state->root != NULL && state->root->type == JSON_OBJECT;
  json_document_free (state);
  if (!is_object)
    return ward_fail (err, 0, "container state: expected an object");

  struct json_writer *w = jw_new (false);
  jw_begin_object (w);
  jw_key_string (w, "ociVersion", WARD_OCI_VERSION);
  jw_key (w, "fds");
  jw_begin_array (w);
  jw_string (w, "seccompFd");
  jw_end_array (w);
  jw_key_int (w, "pid", pid);
  if (program->listener_metadata != NULL)
    jw_key_string (w, "metadata", program->listener_metadata);
  jw_end_object (w);
  size_t length = 0;
  const char *head = jw_text (w, &length);
  /* Drop the writer's closing brace and append the state member. */
  int n = head ? asprintf (out, "%.*s,\"state\":%s}", (int)length - 1, head, state_json) : -1;
  jw_free (w);
  if (n < 0)
    return ward_fail (err, ENOMEM, "build the container process state");
  return 0;
}

int
seccomp_send_to_listener (const struct seccomp_program *program, int notify_fd, pid_t pid,
                          const char *state_json, struct ward_error **err)
{
  const char *path = program->listener_path;
  if (path == NULL)
    return ward_fail (err, 0, "seccomp listener: %s.listenerPath is not set", SECCOMP_PATH);
  cleanup_free char *message = NULL;
  if (listener_message (program, pid, state_json, &message, err) < 0)
    return ward_error_prefix (err, "seccomp listener %s", path);
  cleanup_close int sock = unix_connect (path, err);
  if (sock < 0)
    return ward_error_prefix (err, "seccomp listener");
  if (unix_send_with_fd (sock, message, strlen (message), notify_fd, err) < 0)
    return ward_error_prefix (err, "seccomp listener %s", path);
  return 0;
}
