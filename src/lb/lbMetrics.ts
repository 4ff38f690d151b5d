/**
 * @module lb/lbMetrics — the LB part's Prometheus metrics (MetalLB's stats.go shape, podnet names): requests
 * answered and dropped (labelled by DropReason), gratuitous announcements sent, ownership changes and failovers,
 * allocation results. Per-packet work is counted here, never logged above debug.
 */
import { Counter, Gauge, Registry } from 'prom-client';

export class LbMetrics {
  readonly registry: Registry;
  readonly requestsAnswered: Counter<'protocol' | 'interface'>;
  readonly requestsDropped: Counter<'protocol' | 'reason'>;
  readonly announcementsSent: Counter<'protocol' | 'interface'>;
  readonly ownershipChanges: Counter<'change'>;
  readonly failovers: Counter;
  readonly announcedIps: Gauge;
  readonly allocations: Counter<'result'>;

  constructor(registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.requestsAnswered = new Counter({ name: 'podnet_lb_requests_answered_total', help: 'ARP requests and neighbour solicitations answered for announced IPs.', labelNames: ['protocol', 'interface'], registers });
    this.requestsDropped = new Counter({ name: 'podnet_lb_requests_dropped_total', help: 'Received ARP/NDP packets not answered, by drop reason.', labelNames: ['protocol', 'reason'], registers });
    this.announcementsSent = new Counter({ name: 'podnet_lb_gratuitous_sent_total', help: 'Gratuitous ARP packets and unsolicited neighbour advertisements sent.', labelNames: ['protocol', 'interface'], registers });
    this.ownershipChanges = new Counter({ name: 'podnet_lb_ownership_changes_total', help: 'IPs this node started (acquired) or stopped (released) announcing.', labelNames: ['change'], registers });
    this.failovers = new Counter({ name: 'podnet_lb_failovers_total', help: 'IPs this node took over because their previous announcer stopped being alive.', registers });
    this.announcedIps = new Gauge({ name: 'podnet_lb_announced_ips', help: 'IPs this node announces now.', registers });
    this.allocations = new Counter({ name: 'podnet_lb_allocations_total', help: 'Allocation decisions that changed a Service, by result (allocated, released, or a failure reason).', labelNames: ['result'], registers });
  }
}
