/**
 * @module lb/lbStatus — the table `podnetctl lb status` prints: every LB IP → services → the node that announces
 * it (as reported by the speakers themselves, lb/speakerReport.ts) and the interfaces, checked against the
 * election every node computes (lb/announcePlanner.ts), so a disagreement (nobody answering, two answering, a
 * stale report) is visible (metallb/metallb#637). Also: services still waiting for an address and why, the
 * allocator leader, and configuration problems. Pure.
 */
import type { Service } from '../store/types.ts';
import { objectKey } from '../store/types.ts';
import { alignColumns } from '../store/ctl/ctlTables.ts';
import { ALLOCATED_CONDITION, ingressIps } from './allocationStatus.ts';
import type { PlannedIp } from './announcePlanner.ts';
import type { ConfigProblem } from './pools.ts';
import type { ReportedAnnouncement } from './speakerReport.ts';
import { wantsLoadBalancer } from './serviceRequest.ts';

export interface LbStatusInput {
  plan: PlannedIp[];
  reports: Array<{ node: string; announcements: ReportedAnnouncement[] }>;
  services: Service[];
  alive: string[];
  allocatorLeader: string | undefined;
  problems: ConfigProblem[];
}

function stateOf(row: PlannedIp, announcers: string[]): string {
  if (announcers.length > 1) return `CONFLICT: ${announcers.length} nodes answer`;
  if (announcers.length === 0) return row.node ? `pending (${row.node} elected)` : `not announced: ${row.reason}`;
  if (row.node && announcers[0] !== row.node) return `moving to ${row.node}`;
  return 'ok';
}

export function renderLbStatus(s: LbStatusInput): string {
  const rows: string[][] = [['IP', 'SERVICES', 'POOL', 'NODE', 'INTERFACES', 'STATE']];
  for (const r of s.plan) {
    const reported = s.reports.filter((rep) => rep.announcements.some((a) => a.ip === r.ip));
    const announcers = reported.map((rep) => rep.node).sort();
    const ifaces = reported.flatMap((rep) => rep.announcements.filter((a) => a.ip === r.ip).flatMap((a) => a.interfaces));
    rows.push([r.ip, r.services.join(','), r.pool ?? '-', announcers.join(',') || '-', [...new Set(ifaces)].join(',') || '-', stateOf(r, announcers)]);
  }
  const out = [s.plan.length ? alignColumns(rows) : 'no LoadBalancer IPs allocated'];
  const pending = s.services.filter((svc) => wantsLoadBalancer(svc) && ingressIps(svc).length === 0);
  if (pending.length) {
    const p: string[][] = [['PENDING SERVICE', 'REASON', 'MESSAGE']];
    for (const svc of pending) {
      const c = ((svc.status?.conditions ?? []) as Array<{ type?: string; reason?: string; message?: string }>).find((x) => x.type === ALLOCATED_CONDITION);
      p.push([objectKey(svc), c?.reason ?? 'waiting', c?.message ?? 'no allocator has processed it yet']);
    }
    out.push('', alignColumns(p));
  }
  out.push('', `speakers alive: ${s.alive.join(', ') || 'none'}; allocator leader: ${s.allocatorLeader ?? 'none'}`);
  for (const p of s.problems) out.push(`config problem: ${p.object}: ${p.field}: ${p.message}`);
  return `${out.join('\n')}\n`;
}
