/**
 * The one bounded wait of the test suite: poll `probe` until it returns something truthy (which is returned), or
 * fail after `timeoutMs` with a message naming what was awaited. Tests wait for state, never for a fixed time.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Wait until something listens on `port` inside network namespace `ns` (a server started in the background). */
export async function waitForListener(ns: string, port: number, proto: 'tcp' | 'udp' = 'tcp', timeoutMs = 15_000): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  const { findTool } = await import('../../src/common/systemTools.ts');
  const ipTool = findTool('ip') ?? '/usr/sbin/ip';
  const listening = () => {
    try {
      const name = ns.startsWith('/run/netns/') ? ns.slice('/run/netns/'.length) : ns;
      const out = execFileSync(ipTool, ['netns', 'exec', name, 'ss', '-H', proto === 'tcp' ? '-ltn' : '-lun', `sport = :${port}`], { encoding: 'utf8' });
      return out.trim() !== '';
    } catch {
      return false;
    }
  };
  await waitFor(`a ${proto} listener on port ${port} in ${ns}`, listening, timeoutMs);
}
