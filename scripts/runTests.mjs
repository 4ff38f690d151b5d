#!/usr/bin/env node
// Run ava over every test tier with the TAP reporter, echo its output, and finish with the plain summary line
// "tests: N passed, N failed[, N skipped]" that CI reads. Exit code is ava's.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const globs = process.argv.slice(2);
const files = globs.length > 0 ? globs : ['test/**/*.test.ts'];
const ava = spawn(join(root, 'node_modules', '.bin', 'ava'), ['--tap', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});

const counts = { pass: 0, fail: 0, skip: 0 };
let seen = false;
let buf = '';
ava.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buf += chunk.toString();
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const m = /^# (pass|fail|skip) (\d+)$/.exec(line.trim());
    if (m) {
      counts[m[1]] = Number(m[2]);
      seen = true;
    }
  }
});
ava.on('close', (code) => {
  if (!seen && code !== 0) counts.fail = Math.max(counts.fail, 1);
  const skipped = counts.skip ? `, ${counts.skip} skipped` : '';
  console.log(`tests: ${counts.pass} passed, ${counts.fail} failed${skipped}`);
  process.exitCode = code ?? 1;
});
