/**
 * The real DNS clients of the DNS end-to-end tests, run inside lab pod namespaces: `dig` (BIND) and `kdig` (Knot)
 * against a server address (10.96.0.10 through the proxy), their text output parsed into one shape so a test can
 * hold both tools to the same expectation; and the glibc resolver through `getent`.
 */
import type { ExecutionContext } from 'ava';
import { primaryAddress } from '../../../../src/lab/addressPlan.ts';
import type { Lab } from '../../../../src/lab/lab.ts';
import { waitFor } from '../../../helpers/waitFor.ts';

export type DnsTool = 'dig' | 'kdig';
export const TOOLS: readonly DnsTool[] = ['dig', 'kdig'];

export interface DnsRecord { name: string; ttl: number; type: string; data: string }

export interface DnsReply {
  tool: DnsTool;
  status: string;
  flags: string[];
  answer: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
  /** The transport of the reply shown (after a TC fallback: TCP). */
  transport?: 'UDP' | 'TCP';
  raw: string;
}

const SECTION = /^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:$/;

/**
 * One dig or kdig reply in text form; undefined when the output holds no reply header (timeout, no server).
 * kdig prints the truncated UDP reply before retrying over TCP: the last reply is the one that counts.
 */
export function parseReply(tool: DnsTool, all: string): DnsReply | undefined {
  const out = all.slice(Math.max(0, all.lastIndexOf(';; ->>HEADER<<-')));
  const status = /->>HEADER<<- opcode: \w+[,;] status: (\w+)/.exec(out)?.[1];
  if (!status) return undefined;
  const flags = (/;; flags: ([a-z ]*);/i.exec(out)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const sections: Record<'answer' | 'authority' | 'additional', DnsRecord[]> = { answer: [], authority: [], additional: [] };
  let current: DnsRecord[] | undefined;
  for (const line of out.split('\n')) {
    const head = SECTION.exec(line.trim());
    if (head) { current = sections[head[1]!.toLowerCase() as keyof typeof sections]; continue; }
    if (!line.trim()) { current = undefined; continue; }
    if (!current || line.startsWith(';')) continue;
    const [name, ttl, klass, type, ...data] = line.trim().split(/\s+/);
    if (klass !== 'IN' || !type) continue;
    current.push({ name: name!, ttl: Number(ttl), type, data: data.join(' ') });
  }
  const transport = /(?:SERVER: |From )\S+\s*\((UDP|TCP)\)/.exec(out)?.[1] as DnsReply['transport'];
  return { tool, status, flags, ...sections, ...(transport ? { transport } : {}), raw: all };
}

export interface DnsAsker {
  /** One query with one tool from `from` (a pod name as `lab exec` takes it); retried only while no reply comes. */
  ask(tool: DnsTool, args: string[], from?: string): Promise<DnsReply>;
  /** The same query with dig and kdig. */
  both(args: string[], from?: string): Promise<DnsReply[]>;
}

/** Options both tools share (`+tcp`, `+bufsize=N`, `+ignore`, `+notcp`, `-x`) pass through unchanged. */
export function dnsAsker(lab: Lab, server: string, defaultFrom: string): DnsAsker {
  const ask = async (tool: DnsTool, args: string[], from = defaultFrom): Promise<DnsReply> => {
    const timing = tool === 'dig' ? ['+time=2', '+tries=1'] : ['+time=2', '+retry=0'];
    // A lost UDP datagram or a proxy still syncing shows as no reply at all: ask again, never on an answer.
    return waitFor(`${tool} @${server} ${args.join(' ')} from ${from}`, async () => {
      const r = await lab.exec(from, [tool, `@${server}`, ...timing, ...args], { allowFailure: true, timeoutMs: 15_000 });
      return parseReply(tool, r.stdout);
    }, 20_000, 250);
  };
  return { ask, both: (args, from) => Promise.all(TOOLS.map((tool) => ask(tool, args, from))) };
}

/**
 * Wait until every node's server, asked directly at its own address (not through the proxy), gives an answer
 * that satisfies `ok`: after a store change, the answers through 10.96.0.10 are then the same whichever node
 * the proxy picks.
 */
export async function waitForEveryServer(lab: Lab, from: string, args: string[], ok: (r: DnsReply) => boolean, timeoutMs = 30_000): Promise<void> {
  for (const node of lab.nodes) {
    const direct = dnsAsker(lab, primaryAddress(node), from);
    await waitFor(`${node.id}'s server: ${args.join(' ')}`, async () => ok(await direct.ask('dig', args)), timeoutMs, 100);
  }
}

export interface Expectation {
  status: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
  /** Records of `type` expected in the answer, any order (`[]` with NOERROR = NODATA). */
  data?: string[];
  type?: string;
  /** Every answer record's TTL. */
  ttl?: number;
}

export const dataOf = (records: DnsRecord[], type?: string) =>
  records.filter((r) => !type || r.type === type).map((r) => r.data).sort();

/**
 * Hold every reply to the expectation. In-zone answers are authoritative; a negative one (NXDOMAIN, or NOERROR
 * without records) carries the zone's SOA in the authority section, as RFC 2308 wants for negative caching.
 */
export function expectReply(t: ExecutionContext, replies: DnsReply[], want: Expectation, what: string): void {
  for (const r of replies) {
    const label = `${r.tool}: ${what}`;
    t.is(r.status, want.status, `${label}\n${r.raw}`);
    if (want.data) t.deepEqual(dataOf(r.answer, want.type), [...want.data].sort(), label);
    if (want.ttl !== undefined) t.deepEqual([...new Set(r.answer.map((a) => a.ttl))], [want.ttl], `${label}: TTLs`);
    if (want.status === 'REFUSED') continue;
    t.true(r.flags.includes('aa'), `${label}: authoritative (flags ${r.flags.join(' ')})`);
    const negative = want.status === 'NXDOMAIN' || (want.status === 'NOERROR' && want.data?.length === 0);
    if (negative) t.deepEqual(r.authority.map((a) => `${a.name} ${a.type}`), ['cluster.local. SOA'], `${label}: SOA in authority`);
  }
}

/** `getent ARGS` in a pod namespace (glibc's resolver reading the /etc/netns resolv.conf): its lines, split. */
export async function getent(lab: Lab, from: string, args: string[]): Promise<{ code: number; lines: string[][] }> {
  const r = await lab.exec(from, ['getent', ...args], { allowFailure: true, timeoutMs: 30_000 });
  return { code: r.code, lines: r.stdout.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)) };
}
