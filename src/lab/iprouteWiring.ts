/**
 * @module lab/iprouteWiring — `LabWiring` through iproute2: one `ip -n NS -batch -` per namespace (a 3-node lab is
 * 6 `ip` processes, not 40), sysctls through `ip netns exec NS sysctl`. Every namespace passes the lab's guard
 * before any command is built, and every command names its namespace explicitly: nothing here can run against the
 * root namespace.
 */
import { runTool } from '../common/systemTools.ts';
import { guardNamespace } from './labNames.ts';
import type { LabWiring, NamespaceWiring } from './labWiring.ts';

/** The `ip -batch` lines that build one namespace's wiring (pure, for tests and for `--dry-run` style output). */
export function batchLines(w: NamespaceWiring): string[] {
  const lines: string[] = [];
  for (const b of w.bridges) lines.push(`link add ${b.name} type bridge`);
  for (const v of w.veths) {
    lines.push(`link add ${v.name} type veth peer name ${v.peer.name} netns ${v.peer.ns}`);
    lines.push(`link set ${v.name} master ${v.master}`);
  }
  for (const a of w.addresses) lines.push(`address add ${a.cidr} dev ${a.dev}${a.nodad ? ' nodad' : ''}`);
  for (const l of w.linksUp) lines.push(`link set ${l} up`);
  for (const r of w.routes) lines.push(`route add ${r.dst} via ${r.via}`);
  return lines;
}

interface IpAddrJson {
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

export class IprouteWiring implements LabWiring {
  readonly #lab: string;

  constructor(lab: string) {
    this.#lab = lab;
  }

  #guard(ns: string): string {
    return guardNamespace(this.#lab, ns);
  }

  async addNamespaces(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const lines = names.map((n) => `netns add ${this.#guard(n)}`);
    await runTool('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n` });
  }

  async wire(w: NamespaceWiring): Promise<void> {
    const ns = this.#guard(w.ns);
    for (const v of w.veths) this.#guard(v.peer.ns);
    const sysctls = Object.entries(w.sysctls).map(([k, v]) => `${k}=${v}`);
    // -e: a kernel without IPv6 lacks the ipv6 keys; that must not fail the lab.
    if (sysctls.length > 0) await runTool('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-e', '-w', ...sysctls]);
    const lines = batchLines(w);
    if (lines.length > 0) {
      try {
        await runTool('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
      } catch (err) {
        throw new Error(`wiring namespace ${ns}: ${(err as Error).message}`);
      }
    }
  }

  async deleteNamespaces(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const lines = names.map((n) => `netns del ${this.#guard(n)}`);
    // -force: keep going past a namespace that is already gone; then check nothing of ours is left.
    await runTool('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, allowFailure: true });
    const left = (await this.listNamespaces()).filter((n) => names.includes(n));
    if (left.length > 0) throw new Error(`deleting namespaces: still present: ${left.join(', ')}`);
  }

  async listNamespaces(): Promise<string[]> {
    const { stdout } = await runTool('ip', ['netns', 'list']);
    return stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  }

  async pidsIn(ns: string): Promise<number[]> {
    const { stdout } = await runTool('ip', ['netns', 'pids', this.#guard(ns)], { allowFailure: true });
    return stdout.split('\n').filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 0);
  }

  async addressesOf(ns: string, dev: string): Promise<string[]> {
    const r = await runTool('ip', ['-n', this.#guard(ns), '-j', 'address', 'show', 'dev', dev, 'scope', 'global'],
      { allowFailure: true });
    if (r.code !== 0 || !r.stdout.trim()) return [];
    const links = JSON.parse(r.stdout) as IpAddrJson[];
    return links.flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
  }
}
