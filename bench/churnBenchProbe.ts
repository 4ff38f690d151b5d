/**
 * The new-Service probe: from the client pod, curl the probe's ClusterIP over and over (connect timeout 0.3 s,
 * 0.1 s between tries, so a rule programmed mid-try is seen within about 0.4 s) until the test server behind it
 * answers with its name; the pod's shell prints the wall-clock time of that first answer. Started before the
 * probe's apply, so the loop is already spinning when the objects land.
 */
import { readFileSync } from 'node:fs';
import { labExec, type BenchLab } from './churnBenchLab.ts';
import type { Started } from './churnBenchShell.ts';

export interface ProbeLoop { started: Started; outFile: string }

export function startProbe(lab: BenchLab, pod: string, url: string, expect: string, limitS: number, outFile: string): ProbeLoop {
  const script = 'end=$(( $(date +%s) + $0 )); while [ "$(date +%s)" -lt "$end" ]; do ' +
    'if [ "$(/usr/bin/curl -s --connect-timeout 0.3 --max-time 1 "$1")" = "$2" ]; then echo "answered $(date +%s.%N)"; exit 0; fi; ' +
    'sleep 0.1; done; echo "no answer within $0 s"; exit 1';
  return { started: labExec(lab, pod, ['/bin/sh', '-c', script, String(limitS), url, expect], outFile, (limitS + 30) * 1000), outFile };
}

/** The epoch (ms) of the first answer, or null when the loop ran out of time. */
export async function probeAnsweredAt(p: ProbeLoop): Promise<number | null> {
  await p.started.done;
  const m = /^answered ([\d.]+)$/m.exec(readFileSync(p.outFile, 'utf8'));
  return m ? Math.round(Number(m[1]) * 1000) : null;
}
