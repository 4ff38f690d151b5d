/**
 * @module cni/iprouteDataplane — the Dataplane over iproute2 and nft, batched: an ADD costs two `ip -batch` execs
 * (pod side inside CNI_NETNS through nsenter, host side), a DEL one. `ip -n` takes only names under /run/netns,
 * while CNI_NETNS is any path (/proc/PID/ns/net too), hence nsenter --net=PATH. sysfs is not namespaced by
 * nsenter, so link facts are read with `ip -j`, never from /sys/class/net.
 *
 * The host namespace is the plugin process's own (spec: the runtime's namespace, not PID 1's), unless `hostNetns`
 * names another one — what in-process tests use so that they never touch the namespace they run in.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { findTool, runTool, type RunResult } from '../common/systemTools.ts';
import { PODNET_ROUTE_PROTO, type AttachmentPlan } from './attachmentPlan.ts';
import { CniCode, CniError } from './cniError.ts';
import type { Dataplane, LinkSnapshot, MasqSpec } from './dataplane.ts';
import { masqScript, unmasqScript } from './masqRules.ts';

export interface IprouteDataplaneOptions {
  /** Path of the host namespace; default: this process's own. */
  hostNetns?: string;
}

interface IpLinkJson {
  ifname: string; ifalias?: string; address?: string; mtu: number; flags?: string[]; master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
}
interface IpRouteJson { dst: string; gateway?: string; type?: string; table?: string }

/** Parse the output of `ip -j -batch`: one JSON array per command, concatenated. */
export function splitJsonArrays(text: string): unknown[][] {
  const out: unknown[][] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[') { if (depth++ === 0) start = i; }
    else if (c === ']' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as unknown[]);
  }
  return out;
}

function routeDst(r: IpRouteJson): string {
  if (r.dst === 'default') return r.gateway?.includes(':') ? '::/0' : '0.0.0.0/0';
  if (r.dst.includes('/')) return r.dst;
  return `${r.dst}/${r.dst.includes(':') ? 128 : 32}`;
}

export function snapshotOf(link: IpLinkJson, routes: IpRouteJson[]): LinkSnapshot {
  return {
    name: link.ifname,
    mac: link.address ?? '',
    mtu: link.mtu,
    kind: link.linkinfo?.info_kind ?? '',
    up: (link.flags ?? []).includes('UP'),
    ...(link.master ? { master: link.master } : {}),
    addresses: (link.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`),
    routes: routes.filter((r) => (r.type ?? 'unicast') === 'unicast')
      .map((r) => ({ dst: routeDst(r), ...(r.gateway ? { gw: r.gateway } : {}) })),
  };
}

function failedLine(res: RunResult): number {
  const m = /Command failed -:(\d+)/.exec(res.stderr);
  return m ? Number(m[1]) : 0;
}

export class IprouteDataplane implements Dataplane {
  readonly #hostNetns: string | undefined;

  constructor(opts: IprouteDataplaneOptions = {}) {
    this.#hostNetns = opts.hostNetns;
  }

  protected get hostNetns(): string | undefined {
    return this.#hostNetns;
  }

  #inNetns(netns: string | undefined, tool: string, args: string[], input?: string): Promise<RunResult> {
    const opts = { allowFailure: true, ...(input !== undefined ? { input } : {}) };
    if (netns === undefined) return runTool(tool, args, opts);
    const path = findTool(tool);
    if (!path) return Promise.reject(new CniError(CniCode.systemFailure, `${tool} is not installed`));
    return runTool('nsenter', [`--net=${netns}`, '--', path, ...args], opts);
  }

  #host(tool: string, args: string[], input?: string): Promise<RunResult> {
    return this.#inNetns(this.#hostNetns, tool, args, input);
  }

  async createPodSide(plan: AttachmentPlan): Promise<void> {
    const hostRef = this.#hostNetns ?? `/proc/${process.pid}/ns/net`;
    const dev = plan.podIfname;
    const lines = [
      `link add ${dev} address ${plan.podMac} mtu ${plan.mtu} type veth peer name ${plan.hostIfname} ` +
        `address ${plan.hostMac} mtu ${plan.mtu} netns ${hostRef}`,
      ...plan.podAddresses.map((a) => `addr add ${a} dev ${dev}${a.includes(':') ? ' nodad' : ''}`),
      `link set ${dev} up`,
      ...plan.podNeighbours.map((n) => `neigh replace ${n.ip} lladdr ${n.mac} dev ${dev} nud permanent`),
      ...plan.podRoutes.map((r) => `route add ${r.dst} ${r.via ? `via ${r.via} ` : ''}dev ${dev}${r.scopeLink ? ' scope link' : ''}`),
    ];
    const res = await this.#inNetns(plan.podNetns, 'ip', ['-batch', '-'], `${lines.join('\n')}\n`);
    if (res.code === 0) return;
    const line = failedLine(res);
    const why = res.stderr.trim().split('\n')[0] ?? 'failed';
    if (line === 1 && /File exists/.test(res.stderr)) {
      if (await this.inspectPod(plan.podNetns, dev)) {
        throw new CniError(CniCode.interfaceExists, `interface ${dev} already exists in ${plan.podNetns}`);
      }
      throw new CniError(CniCode.interfaceExists, `host interface ${plan.hostIfname} already exists ` +
        `(left by an earlier ADD of this container and ifname? DEL removes it)`);
    }
    if (line > 1) await this.deleteHostLink(plan.hostIfname);
    if (/No such file|Invalid argument.*netns|Cannot open network namespace/i.test(why) && line <= 1) {
      throw new CniError(CniCode.invalidEnv, `CNI_NETNS ${plan.podNetns}: cannot use the network namespace: ${why}`);
    }
    throw new CniError(CniCode.systemFailure, `creating ${dev} in ${plan.podNetns}: "${lines[line - 1] ?? ''}": ${why}`);
  }

  async configureHostSide(plan: AttachmentPlan): Promise<void> {
    const dev = plan.hostIfname;
    const lines: string[] = [];
    if (plan.bridge) {
      const br = plan.bridge;
      const made = await this.#host('ip', ['link', 'add', 'name', br.name, 'address', br.mac, 'mtu', String(plan.mtu), 'type', 'bridge']);
      if (made.code !== 0 && !/File exists/.test(made.stderr)) {
        throw new CniError(CniCode.systemFailure, `creating bridge ${br.name}: ${made.stderr.trim()}`);
      }
      lines.push(`link set ${br.name} up`,
        ...br.gatewayCidrs.map((c) => `addr replace ${c} dev ${br.name}${c.includes(':') ? ' nodad' : ''}`),
        `link set ${dev} master ${br.name}`);
      if (br.hairpin) lines.push(`link set ${dev} type bridge_slave hairpin on`);
    }
    lines.push(`link set ${dev} alias ${plan.hostAlias}`, `link set ${dev} up`,
      ...plan.hostAddresses.map((a) => `addr replace ${a} dev ${dev}${a.includes(':') ? ' nodad' : ''}`),
      ...plan.hostRoutes.map((r) => `route replace ${r} dev ${dev} scope link proto ${PODNET_ROUTE_PROTO}`));
    await this.setHostSysctls(plan.hostSysctls);
    const res = await this.#host('ip', ['-batch', '-'], `${lines.join('\n')}\n`);
    if (res.code !== 0) {
      throw new CniError(CniCode.systemFailure, `configuring host side ${dev}: "${lines[failedLine(res) - 1] ?? ''}": ${res.stderr.trim().split('\n')[0]}`);
    }
  }

  protected async setHostSysctls(sysctls: Record<string, string>): Promise<void> {
    const entries = Object.entries(sysctls);
    if (entries.length === 0) return;
    if (this.#hostNetns === undefined) {
      for (const [k, v] of entries) {
        const path = `/proc/sys/${k.replaceAll('.', '/')}`;
        if (readFileSync(path, 'utf8').trim() !== v) writeFileSync(path, v);
      }
      return;
    }
    const res = await this.#host('sysctl', ['-q', '-w', ...entries.map(([k, v]) => `${k}=${v}`)]);
    if (res.code !== 0) throw new CniError(CniCode.systemFailure, `setting host sysctls: ${res.stderr.trim()}`);
  }

  async setPodSysctls(netns: string, sysctls: Record<string, string>): Promise<void> {
    const entries = Object.entries(sysctls);
    if (entries.length === 0) return;
    const res = await this.#inNetns(netns, 'sysctl', ['-q', '-w', ...entries.map(([k, v]) => `${k}=${v}`)]);
    if (res.code !== 0) throw new CniError(CniCode.systemFailure, `setting sysctls in ${netns}: ${res.stderr.trim()}`);
  }

  async deleteHostLink(name: string): Promise<boolean> {
    const res = await this.#host('ip', ['link', 'del', 'dev', name]);
    if (res.code === 0) return true;
    if (/Cannot find device|does not exist/.test(res.stderr)) return false;
    throw new CniError(CniCode.systemFailure, `deleting ${name}: ${res.stderr.trim()}`);
  }

  async applyMasq(spec: MasqSpec): Promise<void> {
    const res = await this.#host('nft', ['-f', '-'], masqScript(spec));
    if (res.code !== 0) throw new CniError(CniCode.systemFailure, `installing ipMasq rules: ${res.stderr.trim()}`);
  }

  async removeMasq(podIps: string[]): Promise<void> {
    if (podIps.length === 0) return;
    const res = await this.#host('nft', ['-f', '-'], unmasqScript(podIps));
    if (res.code !== 0) throw new CniError(CniCode.systemFailure, `removing ipMasq rules: ${res.stderr.trim()}`);
  }

  async #inspect(netns: string | undefined, name: string): Promise<LinkSnapshot | null> {
    const res = await this.#inNetns(netns, 'ip', ['-j', '-d', '-batch', '-'], `addr show dev ${name}\nroute show table all dev ${name}\n`);
    if (res.code !== 0) return null;
    const [links, routes] = splitJsonArrays(res.stdout);
    const link = (links as IpLinkJson[] | undefined)?.[0];
    return link ? snapshotOf(link, (routes ?? []) as IpRouteJson[]) : null;
  }

  inspectPod(netns: string, ifname: string): Promise<LinkSnapshot | null> {
    return this.#inspect(netns, ifname);
  }

  inspectHost(name: string): Promise<LinkSnapshot | null> {
    return this.#inspect(this.#hostNetns, name);
  }

  async listHostLinks(aliasPrefix: string): Promise<Array<{ name: string; alias: string }>> {
    const res = await this.#host('ip', ['-j', 'link', 'show']);
    if (res.code !== 0) throw new CniError(CniCode.systemFailure, `listing host links: ${res.stderr.trim()}`);
    return (JSON.parse(res.stdout || '[]') as IpLinkJson[])
      .filter((l) => l.ifalias?.startsWith(aliasPrefix)).map((l) => ({ name: l.ifname, alias: l.ifalias! }));
  }

  async uplinkMtu(): Promise<number | null> {
    const res = await this.#host('ip', ['-j', '-batch', '-'], 'route show default\nlink show\n');
    const [routes, links] = splitJsonArrays(res.stdout);
    const dev = (routes as Array<{ dev?: string }> | undefined)?.[0]?.dev;
    return (links as IpLinkJson[] | undefined)?.find((l) => l.ifname === dev)?.mtu ?? null;
  }
}
