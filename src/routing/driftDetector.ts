/**
 * @module routing/driftDetector — decides, per netlink event, whether the kernel now contradicts the desired
 * state (then the applier re-reads and repairs) or the event is just the echo of podnet's own change (ignored,
 * so programming 1,000 nodes does not trigger 3,000 re-reads). Pure apart from the maps it keeps.
 */
import type { Link, Neighbour, Route, RtnlAction } from '../netlink/index.ts';
import type { DesiredFdb, DesiredNeighbour, DesiredRoute, DesiredState } from './routingModel.ts';
import { OWNED_DEVICES, ROUTING_ROUTE_PROTO } from './routingModel.ts';

const OWNED = new Set<string>(OWNED_DEVICES);

export class DriftDetector {
  #desired: DesiredState | undefined;
  #routes = new Map<string, DesiredRoute>();
  #neigh = new Map<string, DesiredNeighbour>();
  #fdb = new Map<string, DesiredFdb>();
  /** Index of the tunnel device, learnt from link events (the applier's device). */
  #tunnelIndex: number | undefined;

  setDesired(d: DesiredState): void {
    this.#desired = d;
    this.#routes = new Map(d.routes.map((r) => [r.dst, r]));
    this.#neigh = new Map(d.neighbours.map((n) => [n.address, n]));
    this.#fdb = new Map(d.fdb.map((f) => [f.lladdr, f]));
  }

  /** The applier's tunnel device after a pass (events before any link event need it). */
  setTunnelIndex(index: number | undefined): void {
    this.#tunnelIndex = index;
  }

  /** A reason to re-check, or undefined. */
  link(action: RtnlAction, link: Link): string | undefined {
    if (!this.#desired || !OWNED.has(link.name)) return undefined;
    const want = this.#desired.link;
    if (want?.name === link.name) this.#tunnelIndex = action === 'new' ? link.index : undefined;
    if (want?.name !== link.name) return action === 'new' ? `unexpected device ${link.name} appeared` : undefined;
    if (action === 'del') return `device ${link.name} was deleted`;
    if (!link.up) return `device ${link.name} is down`;
    if (link.mtu !== want.mtu) return `device ${link.name} has MTU ${link.mtu ?? '?'} instead of ${want.mtu}`;
    return undefined;
  }

  route(action: RtnlAction, r: Route): string | undefined {
    if (!this.#desired) return undefined;
    const want = this.#routes.get(r.dst);
    const ours = r.protocol === ROUTING_ROUTE_PROTO && r.table === 254;
    if (!ours && !want) return undefined;
    if (action === 'del') return ours && want && this.#routeMatches(want, r) ? `route ${r.dst} was deleted` : undefined;
    if (!ours) return `route ${r.dst} was replaced by protocol ${String(r.protocol)}`;
    if (!want) return `unexpected podnet route ${r.dst}`;
    return this.#routeMatches(want, r) ? undefined : `route ${r.dst} was changed`;
  }

  #routeMatches(want: DesiredRoute, r: Route): boolean {
    if (r.gateway !== want.gateway || r.onlink !== want.onlink) return false;
    return want.dev === 'tunnel' ? this.#tunnelIndex === undefined || r.dev === this.#tunnelIndex : r.dev === want.dev;
  }

  neighbour(action: RtnlAction, n: Neighbour): string | undefined {
    if (!this.#desired?.link || this.#tunnelIndex === undefined || n.index !== this.#tunnelIndex) return undefined;
    if (!n.state.includes('permanent') && action === 'new') return undefined;
    if (n.family === 'bridge') {
      const want = n.lladdr ? this.#fdb.get(n.lladdr) : undefined;
      if (action === 'del') return want && want.dst === n.dst ? `FDB entry ${n.lladdr} was deleted` : undefined;
      return want && want.dst === n.dst ? undefined : `unexpected FDB entry ${n.lladdr ?? '?'} → ${n.dst ?? '?'}`;
    }
    const want = n.address ? this.#neigh.get(n.address) : undefined;
    // A deleted entry is reported with whatever state it had last (not necessarily PERMANENT).
    if (action === 'del') return want ? `neighbour ${n.address} was deleted` : undefined;
    return want && want.lladdr === n.lladdr ? undefined : `unexpected neighbour ${n.address ?? '?'} → ${n.lladdr ?? '?'}`;
  }
}
