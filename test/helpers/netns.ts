/**
 * Throwaway "hosts" for multi-host tests: network namespaces joined to the root namespace by veth
 * pairs, each pair a /30 of one private /24 (10.231.X.0/24, X picked at random among the /24s
 * this machine does not use). Nothing is routed: a namespace reaches only the host-side end of its
 * own pair, so test traffic stays between these namespaces and this machine.
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN); `netnsSupport()` says whether it works here.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

export interface NetnsHost {
  /** Namespace name, e.g. crucible-1a2b3c-w1. */
  ns: string;
  /** Address of the host-side veth end: what the namespace dials to reach this machine. */
  hostAddress: string;
  /** Address of the namespace-side veth end. */
  nsAddress: string;
  /** Hostname the processes started with `command()` see (their own UTS namespace). */
  hostname: string;
  /** argv that runs `argv` in the namespace's network, under its own hostname, keeping its PID. */
  command(argv: string[]): string[];
}

export interface NetnsLan {
  hosts: NetnsHost[];
  /** The /24 the pairs were carved from. */
  subnet: string;
  /** Deletes the namespaces (which deletes their veth pairs); safe to call twice. */
  destroy(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();

/** Null when namespaces can be created here, else why not (for a skip message). */
export function netnsSupport(): string | null {
  const probe = `crucible-probe-${randomBytes(3).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
  } catch (err) {
    return `cannot create network namespaces here (\`ip netns add\` failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`;
  }
  try {
    ip('netns', 'del', probe);
  } catch {
    /* best effort */
  }
  return null;
}

/** A 10.231.X.0/24 that no interface or route on this machine touches yet. */
function unusedSubnet(): string {
  const used = `${ip('-4', 'addr')}\n${ip('-4', 'route', 'show', 'table', 'all')}`;
  for (let tries = 0; tries < 50; tries++) {
    const prefix = `10.231.${randomInt(1, 255)}`;
    if (!used.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.231.X.0/24 found for the test namespaces');
}

/** Creates `count` namespaces, each with a veth pair to the root namespace and lo up. */
export function createNetnsLan(count: number): NetnsLan {
  if (count < 1 || count > 60) throw new RangeError('1 to 60 namespaces');
  const tag = randomBytes(3).toString('hex');
  const prefix = unusedSubnet();
  const hosts: NetnsHost[] = [];
  const links: string[] = [];
  const lan: NetnsLan = {
    hosts,
    subnet: `${prefix}.0/24`,
    destroy() {
      // Deleting a namespace deletes the veth pairs inside it; a pair not moved there yet goes by name.
      const steps = [...hosts.splice(0).map((h) => ['netns', 'del', h.ns]), ...links.splice(0).map((l) => ['link', 'del', l])];
      for (const step of steps) {
        try {
          ip(...step);
        } catch {
          /* already gone */
        }
      }
    },
  };
  try {
    for (let i = 1; i <= count; i++) {
      const ns = `crucible-${tag}-w${i}`;
      const outside = `cr${tag}h${i}`; // interface names: at most 15 characters
      const inside = `cr${tag}n${i}`;
      const hostAddress = `${prefix}.${4 * i - 3}`;
      const nsAddress = `${prefix}.${4 * i - 2}`;
      const hostname = `crucible-w${i}-${tag}`;
      ip('netns', 'add', ns);
      hosts.push({
        ns,
        hostAddress,
        nsAddress,
        hostname,
        // nsenter rather than `ip netns exec`: the latter also remounts /sys for the namespace,
        // which hides /sys/fs/cgroup, and the sandboxes need it (a real host has its own).
        command: (argv) => ['nsenter', `--net=/run/netns/${ns}`, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', hostname, ...argv],
      });
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
      links.push(outside);
      ip('link', 'set', inside, 'netns', ns);
      ip('addr', 'add', `${hostAddress}/30`, 'dev', outside);
      ip('link', 'set', outside, 'up');
      ip('-n', ns, 'addr', 'add', `${nsAddress}/30`, 'dev', inside);
      ip('-n', ns, 'link', 'set', inside, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    lan.destroy();
    throw err;
  }
  return lan;
}
