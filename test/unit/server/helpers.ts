// Shared by the language-server unit tests: the repository root, fixtures, and applying a quick fix's edits.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TextEdit } from '../../../src/server/rules/types';

function findRepo(dir: string): string {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'bpf'))) return d;
  throw new Error(`no repository above ${dir}`);
}

export const REPO = findRepo(__dirname);
export const SERVER_FIXTURES = path.join(REPO, 'test', 'fixtures', 'server');
export const readFixture = (name: string): string => fs.readFileSync(path.join(SERVER_FIXTURES, name), 'utf8');

/** 1-based line of the line containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(marker));
  if (index < 0) throw new Error(`marker ${marker} not found`);
  return index + 1;
}

function offsetOf(text: string, row: number, column: number): number {
  let offset = 0;
  for (let r = 0; r < row; r++) offset = text.indexOf('\n', offset) + 1;
  return offset + column;
}

export function applyEdits(text: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.range.start.row - a.range.start.row || b.range.start.column - a.range.start.column);
  let out = text;
  for (const e of sorted) {
    out = out.slice(0, offsetOf(out, e.range.start.row, e.range.start.column)) + e.newText + out.slice(offsetOf(out, e.range.end.row, e.range.end.column));
  }
  return out;
}
