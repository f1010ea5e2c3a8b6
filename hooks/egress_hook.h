/* ward-hook's whole run: the `ward-hook` binary's main, and what ward runs
 * in a child of its own (no exec, nothing read twice from disk but the
 * state) when it starts the egress hook itself. */
#ifndef WARD_EGRESS_HOOK_H
#define WARD_EGRESS_HOOK_H

/* argv as ward-hook's: [--bundle B [--root R]]; the state on stdin.
 * Returns the exit status. */
int ward_hook_main (int argc, char **argv);

#endif
