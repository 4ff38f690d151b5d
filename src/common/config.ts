/**
 * @module common/config — load YAML/JSON configuration and validate it field by field.
 *
 * Every problem names the file, the field (as a dotted path, e.g. `proxy.mode`) and what is wrong, and all problems
 * are reported together, so an operator fixes a file in one pass. Unknown fields are errors: a typo must not be
 * silently ignored.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ConfigError } from './errors.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Parse a YAML or JSON document; syntax errors name the file and line. */
export function parseConfigText(text: string, file: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0];
    throw new ConfigError(`cannot parse: ${e.code}${line ? ` at line ${line.line}, column ${line.col}` : ''}`, { file });
  }
  return doc.toJS();
}

export function loadConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`cannot read configuration (${code})`, { file: path });
  }
  return parseConfigText(text, path);
}

/** Thrown once with every problem found; `problems` lists them one per line. */
export class ConfigProblems extends ConfigError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], file?: string) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.join('\n  ')}`,
      file ? { file } : {});
    this.problems = problems;
  }
}

/**
 * Reads typed fields out of a parsed object, collecting problems instead of throwing at the first one.
 * `where` is the dotted path of this object inside the file.
 */
export class FieldReader {
  readonly problems: string[];
  readonly #obj: Record<string, unknown>;
  readonly #where: string;
  readonly #seen = new Set<string>();

  constructor(value: unknown, where = '', problems: string[] = []) {
    this.problems = problems;
    this.#where = where;
    if (value === undefined || value === null) {
      this.#obj = {};
    } else if (typeof value !== 'object' || Array.isArray(value)) {
      this.#obj = {};
      problems.push(`${where || '(top level)'}: must be a mapping, got ${describeValue(value)}`);
    } else {
      this.#obj = value as Record<string, unknown>;
    }
  }

  #path(field: string): string {
    return this.#where ? `${this.#where}.${field}` : field;
  }

  #get(field: string): unknown {
    this.#seen.add(field);
    return this.#obj[field];
  }

  problem(field: string, message: string): void {
    this.problems.push(`${this.#path(field)}: ${message}`);
  }

  has(field: string): boolean {
    return this.#obj[field] !== undefined;
  }

  string(field: string, def: string): string;
  string(field: string): string | undefined;
  string(field: string, def?: string): string | undefined {
    const v = this.#get(field);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'string') {
      this.problem(field, `must be a string, got ${describeValue(v)}`);
      return def;
    }
    return v;
  }

  requiredString(field: string): string {
    const v = this.string(field);
    if (v === undefined) {
      if (!this.has(field)) this.problem(field, 'is required');
      return '';
    }
    return v;
  }

  int(field: string, def: number, range?: { min?: number; max?: number }): number {
    const v = this.#get(field);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.problem(field, `must be an integer, got ${describeValue(v)}`);
      return def;
    }
    if (range?.min !== undefined && v < range.min) this.problem(field, `must be at least ${range.min}, got ${v}`);
    if (range?.max !== undefined && v > range.max) this.problem(field, `must be at most ${range.max}, got ${v}`);
    return v;
  }

  bool(field: string, def: boolean): boolean {
    const v = this.#get(field);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') {
      this.problem(field, `must be true or false, got ${describeValue(v)}`);
      return def;
    }
    return v;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], def: T): T {
    const v = this.string(field);
    if (v === undefined) return def;
    if (!(allowed as readonly string[]).includes(v)) {
      this.problem(field, `must be one of ${allowed.join(', ')}, got "${v}"`);
      return def;
    }
    return v as T;
  }

  stringList(field: string, def: string[] = []): string[] {
    const v = this.#get(field);
    if (v === undefined || v === null) return def;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      this.problem(field, `must be a list of strings, got ${describeValue(v)}`);
      return def;
    }
    return v as string[];
  }

  /** A nested mapping, read with the same problem list. */
  child(field: string): FieldReader {
    return new FieldReader(this.#get(field), this.#path(field), this.problems);
  }

  /** A list of mappings. */
  children(field: string): FieldReader[] {
    const v = this.#get(field);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.problem(field, `must be a list, got ${describeValue(v)}`);
      return [];
    }
    return v.map((item, i) => new FieldReader(item, `${this.#path(field)}[${i}]`, this.problems));
  }

  /** Report fields present in the input that no reader asked for. Call after reading everything. */
  rejectUnknown(): void {
    for (const k of Object.keys(this.#obj)) {
      if (!this.#seen.has(k)) this.problem(k, 'is not a known field');
    }
  }

  /** Throw all collected problems as one ConfigProblems naming `file`. */
  throwIfProblems(file?: string): void {
    if (this.problems.length > 0) throw new ConfigProblems(this.problems, file);
  }
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
  return String(v);
}
