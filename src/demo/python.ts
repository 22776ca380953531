/**
 * Python shared by the attack programs: `attempt` runs one attack and prints BLOCKED or ESCAPED
 * with what happened, `observe` prints what the program can see. The output is the evidence
 * quoted in SECURITY.md, so it says what was tried and the exact error the sandbox produced.
 */
export const ATTACK_PRELUDE = String.raw`
import os, sys

def attempt(what, fn):
    try:
        result = fn()
    except BaseException as e:
        print(f"BLOCKED {what}: {type(e).__name__}: {e}", flush=True)
    else:
        print(f"ESCAPED {what}: {result!r}"[:400], flush=True)

def observe(what, fn):
    try:
        print(f"SEEN    {what}: {fn()}"[:400], flush=True)
    except BaseException as e:
        print(f"SEEN    {what}: {type(e).__name__}: {e}", flush=True)
`;

/** Python source literal for a string (JSON string syntax is valid Python for these values). */
export const py = (s: string | number): string => (typeof s === 'number' ? String(s) : JSON.stringify(s));
