/**
 * Session flaps and lease losses from the node agents' logs. The lab starts podnetd without --metrics, so
 * `podnet_lease_losses_total` and the BGP/BFD counters are not scrapeable there; the same events are logged
 * (JSON lines on stderr, into each agent's lab log) and counted here between two byte offsets, one window per phase:
 *   flaps: `peerDown`, an Established BGP session lost (whatever the cause: hold timer, BFD, a reset); the BFD
 *     Up → Down transitions (`bfdState`) are counted beside them, not added: a BFD down takes its session down too;
 *   lease losses: `podCidrLeaseLost`, `stoppedLeading` (a leader lease lost), `speakerLeaseLost`;
 *   `speakersChanged` is counted too: each one moves L2 announcements.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export const FLAP_EVENTS = ['peerDown'] as const;
export const LEASE_EVENTS = ['podCidrLeaseLost', 'stoppedLeading', 'speakerLeaseLost'] as const;
const COUNTED = [...FLAP_EVENTS, 'bfdDown', ...LEASE_EVENTS, 'speakersChanged'] as const;
export type CountedEvent = (typeof COUNTED)[number];
export type EventCounts = Record<CountedEvent, number>;

export function zeroCounts(): EventCounts {
  return Object.fromEntries(COUNTED.map((e) => [e, 0])) as EventCounts;
}

/** Where each log ends now: the start of a window. */
export function logOffsets(logs: string[]): Map<string, number> {
  return new Map(logs.map((l) => { try { return [l, statSync(l).size]; } catch { return [l, 0]; } }));
}

function readFrom(file: string, offset: number): string {
  let fd: number;
  try { fd = openSync(file, 'r'); } catch { return ''; }
  try {
    const size = statSync(file).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Count the events of one log's text (pure): JSON lines with an `event` field; anything else is skipped. */
export function countEvents(text: string, into: EventCounts = zeroCounts()): EventCounts {
  for (const line of text.split('\n')) {
    if (!line.includes('"event"')) continue;
    let rec: { event?: string; from?: string; to?: string };
    try { rec = JSON.parse(line) as typeof rec; } catch { continue; }
    const ev = rec.event === 'bfdState' ? (rec.from === 'Up' && rec.to === 'Down' ? 'bfdDown' : undefined) : rec.event;
    if (ev && (COUNTED as readonly string[]).includes(ev)) into[ev as CountedEvent]++;
  }
  return into;
}

/** Events logged since `from` (logOffsets), per log file. */
export function eventsSince(from: Map<string, number>): Map<string, EventCounts> {
  return new Map([...from].map(([log, off]) => [log, countEvents(readFrom(log, off))]));
}

export const flapsOf = (c: EventCounts): number => FLAP_EVENTS.reduce((a, e) => a + c[e], 0);
export const leaseLossesOf = (c: EventCounts): number => LEASE_EVENTS.reduce((a, e) => a + c[e], 0);
