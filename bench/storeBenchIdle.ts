/**
 * bench/store helper: the idle cost of an open file store, as the LB speaker uses it: `list('Lease')` every
 * 200 ms over a directory of 10,000 Services, for SECONDS. Prints `{cpuMs, seconds, pct}` (CPU % of one core).
 * MODULE is the fileStore.ts to measure, so the code before this change can be measured the same way.
 * Usage: storeBenchIdle.ts MODULE DIR SECONDS.
 */
const [modulePath, dir, secondsText] = process.argv.slice(2);
const seconds = Number(secondsText ?? 20);
const { FileStore } = (await import(modulePath!)) as typeof import('../src/store/backends/fileStore.ts');
const store = await FileStore.open(dir!);
await store.list('Service');
await new Promise((r) => setTimeout(r, 3000)); // let the open's own work settle
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const timer = setInterval(() => { void store.list('Lease'); }, 200);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(timer);
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const wall = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ cpuMs, seconds: wall / 1000, pct: (100 * cpuMs) / wall })}\n`);
await store.close();
process.exit(0);
