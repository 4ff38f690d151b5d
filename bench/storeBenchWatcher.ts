/**
 * bench/store helper: a second process watching a file store while another applies to it. Prints, as JSON,
 * the add/update events its informers got, how many were duplicates, and the CPU time it used after its
 * initial sync (what learning about 20,000 changes cost it). Usage: storeBenchWatcher.ts MODULE DIR EXPECTED.
 */
const [modulePath, dir, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);
const { FileStore } = (await import(modulePath!)) as typeof import('../src/store/backends/fileStore.ts');
const { Informer } = await import('../src/store/informer.ts');
const store = await FileStore.open(dir!);
const seen = new Map<string, number>();
let updates = 0;
const count = (o: { kind: string; metadata: { namespace?: string; name: string } }) => {
  const k = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
  seen.set(k, (seen.get(k) ?? 0) + 1);
};
const informers = (['Service', 'EndpointSlice'] as const).map((kind) => new Informer(store, kind).start());
for (const i of informers) i.on({ add: count, update: (o, n) => { if (o !== n) updates += 1; } });
await Promise.all(informers.map((i) => i.synced()));
const cpu0 = process.cpuUsage();
process.stdout.write('ready\n');
const deadline = Date.now() + 120_000;
while (seen.size < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 1000)); // duplicates would arrive now
const cpu = process.cpuUsage(cpu0);
const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
process.stdout.write(`${JSON.stringify({ objects: seen.size, duplicates, updates, cpuMs: (cpu.user + cpu.system) / 1000, fullScans: (store as { fullScans?: number }).fullScans ?? -1 })}\n`);
for (const i of informers) i.stop();
await store.close();
process.exit(0);
