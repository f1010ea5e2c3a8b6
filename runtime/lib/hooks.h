/* OCI hooks: run a hook point's hooks in order, each with path, args, env,
 * timeout, and the container's state JSON on its stdin.  Where a hook runs
 * (runtime or container namespace) is the caller's choice: ward calls this
 * for prestart, createRuntime, poststart and poststop; the init for
 * createContainer and startContainer. */
#ifndef WARD_HOOKS_H
#define WARD_HOOKS_H

#include "error.h"
#include "spec.h"

/* Run every hook of `point`; the first failure (non-zero exit, signal,
 * timeout — the hook is then killed) stops and fails with
 * `createRuntime hook /path/x: exited with status 3` (and the hook's
 * first non-empty line of its stderr, when it printed one). */
int hooks_run (const struct spec *spec, enum spec_hook_point point, const char *state_json,
               struct ward_error **err);

/* The same, but failures are only logged (poststart, poststop: the spec
 * says they do not change the outcome). */
void hooks_run_logged (const struct spec *spec, enum spec_hook_point point, const char *state_json);

/* One hook started in the background (ward-hook, while the init builds
 * the container): hooks_finish() waits for it and fails as hooks_run()
 * would; hooks_abandon() kills it, for a create that failed meanwhile. */
struct hook_running;
int hooks_start (enum spec_hook_point point, const struct spec_hook *hook, const char *state_json,
                 struct hook_running **out, struct ward_error **err);
/* The same, but the child runs `builtin (args_count, args)` where it would
 * exec hook->path (whose name still labels messages): ward's own hook. */
int hooks_start_builtin (enum spec_hook_point point, const struct spec_hook *hook,
                         int (*builtin) (int, char **), const char *state_json, struct hook_running **out,
                         struct ward_error **err);

/* With a NULL state_json the hook is started with an empty stdin still
 * open, and hooks_send_state() writes the state once it is known. */
int hooks_send_state (struct hook_running *running, const char *state_json, struct ward_error **err);
int hooks_finish (struct hook_running *running, struct ward_error **err);
void hooks_abandon (struct hook_running *running);

#endif
