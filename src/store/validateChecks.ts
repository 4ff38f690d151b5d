/**
 * @module store/validateChecks — small typed readers for untrusted manifest fields. Each check records a problem
 * as `path: message` and returns a safe value, so one pass reports every problem of a document.
 * Unlike common/config's FieldReader, unknown fields are kept (manifests carry many fields podnet ignores and
 * objects must round-trip unchanged).
 */
import { isIP } from 'node:net';
import { describeValue } from '../common/config.ts';

export type Raw = Record<string, unknown>;

export class Checker {
  readonly problems: string[] = [];

  add(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  isMap(v: unknown): v is Raw {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  }

  /** A mapping at `path`; undefined when absent (or reported when of the wrong type). */
  map(v: unknown, path: string, required = false): Raw | undefined {
    if (v === undefined || v === null) {
      if (required) this.add(path, 'is required');
      return undefined;
    }
    if (!this.isMap(v)) {
      this.add(path, `must be a mapping, got ${describeValue(v)}`);
      return undefined;
    }
    return v;
  }

  list(v: unknown, path: string, required = false): unknown[] {
    if (v === undefined || v === null) {
      if (required) this.add(path, 'is required');
      return [];
    }
    if (!Array.isArray(v)) {
      this.add(path, `must be a list, got ${describeValue(v)}`);
      return [];
    }
    return v;
  }

  string(v: unknown, path: string, required = false): string | undefined {
    if (v === undefined || v === null) {
      if (required) this.add(path, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(path, `must be a string, got ${describeValue(v)}`);
      return undefined;
    }
    if (required && v === '') this.add(path, 'must not be empty');
    return v;
  }

  bool(v: unknown, path: string): void {
    if (v !== undefined && v !== null && typeof v !== 'boolean') this.add(path, `must be true or false, got ${describeValue(v)}`);
  }

  int(v: unknown, path: string, min: number, max: number, required = false): number | undefined {
    if (v === undefined || v === null) {
      if (required) this.add(path, 'is required');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.add(path, `must be an integer ${min}-${max}, got ${describeValue(v)}`);
      return undefined;
    }
    return v;
  }

  port(v: unknown, path: string, required = false): number | undefined {
    return this.int(v, path, 1, 65535, required);
  }

  oneOf(v: unknown, path: string, allowed: readonly string[]): void {
    if (v === undefined || v === null) return;
    if (typeof v !== 'string' || !allowed.includes(v)) {
      this.add(path, `must be one of ${allowed.join(', ')}, got ${describeValue(v)}`);
    }
  }

  stringMap(v: unknown, path: string): void {
    const m = this.map(v, path);
    if (!m) return;
    for (const [k, val] of Object.entries(m)) {
      if (typeof val !== 'string') this.add(`${path}.${k}`, `must be a string, got ${describeValue(val)}`);
    }
  }

  ip(v: unknown, path: string, required = false): void {
    const s = this.string(v, path, required);
    if (s !== undefined && s !== '' && isIP(s) === 0) this.add(path, `must be an IP address, got "${s}"`);
  }

  ipList(v: unknown, path: string, required = false): void {
    this.list(v, path, required).forEach((x, i) => this.ip(x, `${path}[${i}]`, true));
  }

  cidr(v: unknown, path: string, required = false): void {
    const s = this.string(v, path, required);
    if (s !== undefined && s !== '' && !isCidr(s)) this.add(path, `must be a CIDR such as 10.244.1.0/24, got "${s}"`);
  }

  /** A port given as a number or an IANA service name (as Service targetPort). */
  portOrName(v: unknown, path: string): void {
    if (v === undefined || v === null) return;
    if (typeof v === 'number') {
      this.port(v, path);
      return;
    }
    if (typeof v !== 'string' || !IANA_NAME.test(v) || !/[a-z]/.test(v)) {
      this.add(path, `must be a port number 1-65535 or a port name (lowercase, at most 15 characters), got ${describeValue(v)}`);
    }
  }
}

const IANA_NAME = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isCidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const family = isIP(m[1]!);
  const bits = Number(m[2]);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}
