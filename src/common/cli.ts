/**
 * @module common/cli — what every executable does at its edges: report an error as one clear line (never a stack
 * trace) and exit non-zero; print usage.
 */
import { describeError } from './errors.ts';

/** Exit codes: 1 runtime failure, 2 usage error (like most Unix tools). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

/** Run `main`; print any error as `prog: message` on stderr and exit with the matching code. */
export function runMain(prog: string, main: () => Promise<number | void>): void {
  main().then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  }, (err: unknown) => {
    process.stderr.write(`${prog}: ${describeError(err)}\n`);
    if (process.env.PODNET_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  });
}
