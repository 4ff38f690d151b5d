/**
 * @module store/backends/limitedAll — `Promise.all` over many files with at most `limit` in flight: a file store
 * holds 20,000 override files, and opening them all at once runs out of file descriptors (EMFILE).
 */
export async function limitedAll<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
