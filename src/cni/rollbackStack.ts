/**
 * @module cni/rollbackStack — undo actions run last-in first-out unless the command commits (the reference plugins'
 * `success` flag plus defers, as one object). Every undo runs even if an earlier one fails: a half-built
 * attachment must be taken apart as far as possible.
 */
export class RollbackStack {
  readonly #undo: Array<{ what: string; fn: () => Promise<unknown> }> = [];
  #committed = false;

  push(what: string, fn: () => Promise<unknown>): void {
    this.#undo.push({ what, fn });
  }

  commit(): void {
    this.#committed = true;
  }

  /** Run the undo actions (newest first) unless committed; returns the failures as "what: message". */
  async unwind(): Promise<string[]> {
    if (this.#committed) return [];
    const failures: string[] = [];
    for (const step of this.#undo.reverse()) {
      try {
        await step.fn();
      } catch (err) {
        failures.push(`${step.what}: ${(err as Error).message}`);
      }
    }
    this.#undo.length = 0;
    return failures;
  }
}
