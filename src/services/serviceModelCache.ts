/**
 * Incremental compilation: a Service whose object, EndpointSlices and node view are the same as last time keeps
 * its compiled views (same objects), so the nftables planner's per-view cache skips it too. Informers replace an
 * object on every change, so reference equality is exact and free.
 */
import type { Service, EndpointSlice } from '../store/types.ts';
import { compileService, slicesByService, isLoopback, familyOf, type ServiceModel, type ServicePortView, type ProxyNodeInfo, type ModelOptions, type SkipReason } from './serviceModel.ts';

interface Entry {
  svc: Service;
  slices: EndpointSlice[];
  result: ServicePortView[] | SkipReason;
}

export class ServiceModelCache {
  #entries = new Map<string, Entry>();
  #nodeKey = '';

  compile(input: { services: readonly Service[]; slices: readonly EndpointSlice[]; node: ProxyNodeInfo; options?: ModelOptions }): ServiceModel {
    const nodeKey = JSON.stringify([input.node, input.options ?? {}]);
    if (nodeKey !== this.#nodeKey) {
      this.#entries.clear(); // node zone / addresses / proxy name changed: everything may change
      this.#nodeKey = nodeKey;
    }
    const byService = slicesByService(input.slices);
    const next = new Map<string, Entry>();
    const ports: ServicePortView[] = [];
    const skipped: ServiceModel['skipped'] = [];
    for (const svc of input.services) {
      const key = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
      const slices = byService.get(key) ?? [];
      const old = this.#entries.get(key);
      const same = old && old.svc === svc && old.slices.length === slices.length && old.slices.every((s, i) => s === slices[i]);
      const result = same ? old.result : compileService(svc, slices, input.node, input.options);
      next.set(key, { svc, slices, result });
      if (typeof result === 'string') skipped.push({ service: key, reason: result });
      else ports.push(...result);
    }
    this.#entries = next;
    ports.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.family < b.family ? -1 : 1));
    const ips = input.node.nodePortIPs.filter((ip) => !isLoopback(ip));
    return { ports, skipped, nodePortIPs: { IPv4: ips.filter((ip) => familyOf(ip) === 'IPv4'), IPv6: ips.filter((ip) => familyOf(ip) === 'IPv6') } };
  }
}
