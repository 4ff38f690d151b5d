/**
 * @module bgp/kernelApplier — installs the speaker's kernel view (prefix → next hops) with netlink, tagged with
 * podnet's BGP route protocol number so it only ever touches its own routes (cilium#23464: learned routes that
 * never reach the FIB). ECMP sets become multipath routes. `resync` dumps our routes and converges to a full
 * desired set (restart: adopt, never flush); `apply` handles incremental KernelChange batches.
 *
 * IPv6 link-local next hops need the interface the peer is reachable on, which the speaker does not know;
 * such routes are reported as skipped rather than installed wrong.
 */
import type { KernelRoute } from './rib.ts';
import type { KernelChange } from './speaker.ts';
import type { RouteSpec, Route as NetlinkRoute } from '../netlink/index.ts';
import { describeError } from '../common/errors.ts';
import { ROUTE_PROTO } from '../common/routeProtocols.ts';

/** rtm_protocol for BGP-learned routes: see common/routeProtocols.ts. */
export const BGP_ROUTE_PROTO = ROUTE_PROTO.bgp;

/** The slice of src/netlink's Routes this applier needs: the seam tests can fake. */
export interface RouteTable {
  replace(spec: RouteSpec): Promise<void>;
  delete(spec: RouteSpec): Promise<void>;
  list(filter: { protocol?: number }): Promise<NetlinkRoute[]>;
}

export interface ApplyResult {
  installed: number;
  removed: number;
  skipped: Array<{ prefix: string; reason: string }>;
  failed: Array<{ prefix: string; error: string }>;
}

export function routeSpec(r: KernelRoute, protocol: number = BGP_ROUTE_PROTO): RouteSpec | { skip: string } {
  const usable = r.nextHops.filter((n) => !n.toLowerCase().startsWith('fe80:'));
  if (!usable.length) return { skip: 'only IPv6 link-local next hops (interface unknown)' };
  if (usable.length === 1) return { dst: r.prefix, gateway: usable[0], protocol };
  return { dst: r.prefix, nexthops: usable.map((gateway) => ({ gateway })), protocol };
}

export class KernelApplier {
  readonly #routes: RouteTable;
  readonly #protocol: number;

  constructor(routes: RouteTable, protocol: number = BGP_ROUTE_PROTO) {
    this.#routes = routes;
    this.#protocol = protocol;
  }

  /** Apply a batch of changes; requests go out together (the netlink layer pipelines them). */
  async apply(changes: KernelChange[]): Promise<ApplyResult> {
    const res: ApplyResult = { installed: 0, removed: 0, skipped: [], failed: [] };
    await Promise.all(changes.map(async (c) => {
      try {
        if (!c.route) {
          await this.#routes.delete({ dst: c.prefix, protocol: this.#protocol }).catch((err: unknown) => {
            if (!/ESRCH|ENOENT/.test(describeError(err))) throw err; // already gone is fine
          });
          res.removed++;
          return;
        }
        const spec = routeSpec(c.route, this.#protocol);
        if ('skip' in spec) { res.skipped.push({ prefix: c.prefix, reason: spec.skip }); return; }
        await this.#routes.replace(spec);
        res.installed++;
      } catch (err) {
        res.failed.push({ prefix: c.prefix, error: describeError(err) });
      }
    }));
    return res;
  }

  /** Converge the kernel to exactly `desired` among routes carrying our protocol number. */
  async resync(desired: KernelRoute[]): Promise<ApplyResult> {
    const present = await this.#routes.list({ protocol: this.#protocol });
    const want = new Set(desired.map((d) => d.prefix));
    const stale = present.filter((r) => !want.has(r.dst)).map((r): KernelChange => ({ prefix: r.dst, route: undefined }));
    return this.apply([...stale, ...desired.map((route): KernelChange => ({ prefix: route.prefix, route }))]);
  }
}
