/**
 * @module common/logger — one pino root per executable, child loggers per subsystem.
 *
 * JSON lines for machines; readable lines (pino-pretty, in-process) when stderr is a terminal. Logs go to stderr
 * so that executables whose stdout is a protocol (the CNI plugin) can share this module. Fixed keys:
 * `subsystem`, `op`, `event`, `err`.
 */
import pino, { type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function isLogLevel(v: string): v is LevelWithSilent {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

export interface LoggerOptions {
  name: string;
  level?: LevelWithSilent;
  /** Force readable output on or off; default: readable when stderr is a TTY. */
  pretty?: boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? (process.env.PODNET_LOG_LEVEL && isLogLevel(process.env.PODNET_LOG_LEVEL)
    ? process.env.PODNET_LOG_LEVEL : 'info');
  const readable = opts.pretty ?? Boolean(process.stderr.isTTY);
  const base = { name: opts.name, level, base: { name: opts.name }, timestamp: pino.stdTimeFunctions.isoTime };
  if (readable) {
    return pino(base, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
