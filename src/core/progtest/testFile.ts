// The test file beside a custom-program header (`bytecount.h` → `bytecount.test.json`): packet test cases, each
// with the packet, the cb meta word (identity and the datapath's return code), the expected return and the expected
// map state. schemas/custom-test.schema.json describes the same shape for the editor; this reader checks it with
// messages that name the offending field, and fills in the defaults.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_PACKET_SIZE, type IpFamily, type L4Protocol, type PacketSpec } from './packet';
import { MAX_IDENTITY, MAX_RETURN_CODE } from './skbContext';

export const TEST_FILE_SUFFIX = '.test.json';

/** A map key or value as written: an integer (number or decimal string), raw bytes, or BTF fields (partial match). */
export type ValueSpec = number | string | { hex: string } | Record<string, unknown>;

export interface MapExpectation {
  /** Entries that must hold exactly this value after the run. */
  entries: { key: ValueSpec; value: ValueSpec }[];
  /** Entries whose value must have changed by this much (integers, or BTF fields by name). */
  deltas: { key: ValueSpec; delta: number | string | Record<string, number> }[];
  /** Keys that must not exist after the run. */
  absent: ValueSpec[];
  /** Every entry not named above must be as before the run (default true). */
  othersUnchanged: boolean;
}

export type PacketInput = { kind: 'spec'; spec: PacketSpec } | { kind: 'hex'; hex: string };

export interface TestCase {
  name: string;
  packet: PacketInput;
  identity: number;
  /** The datapath's return code, passed in the meta word (default 0, CTX_ACT_OK). */
  datapathReturn: number;
  /** The expected return code: by default the datapath's, which a custom program must hand back unchanged. */
  expectReturn: number;
  /** How many times the packet runs for the checks (map deltas scale with it). */
  repeat: number;
  seed: Record<string, { key: ValueSpec; value: ValueSpec }[]>;
  maps: Record<string, MapExpectation>;
}

export interface TestFile {
  path: string;
  /** The header the cases test (absolute). */
  header: string;
  cases: TestCase[];
}

export class TestFileError extends Error {}

const MAP_NAME = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;
export const MAX_REPEAT = 100_000_000;

/** The test file of a header, or the header of a test file. */
export function testFileFor(headerPath: string): string {
  return headerPath.replace(/\.h$/, '') + TEST_FILE_SUFFIX;
}

export function readTestFile(file: string): TestFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new TestFileError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TestFileError(`${file}: not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return parseTestFile(json, path.resolve(file));
  } catch (error) {
    if (error instanceof FieldError) throw new TestFileError(`${file}: ${error.message}`);
    throw error;
  }
}

class FieldError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(where: string, message: string): never {
  throw new FieldError(`${where}: ${message}`);
}

function only(value: Record<string, unknown>, where: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(where, `unknown field ${JSON.stringify(key)} (allowed: ${allowed.join(', ')})`);
}

function integer(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(where, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return value;
}

export function parseTestFile(json: unknown, file: string): TestFile {
  if (!isObject(json)) fail('(top level)', 'expected an object with "cases"');
  only(json, '(top level)', ['$schema', 'header', 'cases']);
  const headerName = json.header ?? path.basename(file).replace(/\.test\.json$/, '.h');
  if (typeof headerName !== 'string' || !headerName.endsWith('.h')) fail('header', 'expected the path of a .h file, relative to the test file');
  if (!Array.isArray(json.cases) || json.cases.length === 0) fail('cases', 'expected a non-empty array of cases');
  const cases = json.cases.map((c, i) => parseCase(c, `cases[${i}]`));
  const names = new Set<string>();
  cases.forEach((c, i) => {
    if (names.has(c.name)) fail(`cases[${i}].name`, `${JSON.stringify(c.name)} is used twice`);
    names.add(c.name);
  });
  return { path: file, header: path.resolve(path.dirname(file), headerName), cases };
}

function parseCase(value: unknown, where: string): TestCase {
  if (!isObject(value)) fail(where, 'expected an object');
  only(value, where, ['name', 'packet', 'identity', 'datapathReturn', 'repeat', 'seed', 'expect']);
  if (typeof value.name !== 'string' || value.name.trim() === '' || /[\x00-\x1f]/.test(value.name)) fail(`${where}.name`, 'expected a non-empty one-line name');
  const identity = integer(value.identity, `${where}.identity`, 0, MAX_IDENTITY);
  const datapathReturn = value.datapathReturn === undefined ? 0 : integer(value.datapathReturn, `${where}.datapathReturn`, 0, MAX_RETURN_CODE);
  const repeat = value.repeat === undefined ? 1 : integer(value.repeat, `${where}.repeat`, 1, MAX_REPEAT);
  const expect = value.expect ?? {};
  if (!isObject(expect)) fail(`${where}.expect`, 'expected an object');
  only(expect, `${where}.expect`, ['return', 'maps']);
  const expectReturn = expect.return === undefined ? datapathReturn : integer(expect.return, `${where}.expect.return`, -0x80000000, 0xffffffff);
  const seed = parseMapRecord(value.seed, `${where}.seed`, (entries, at) => {
    if (!Array.isArray(entries)) fail(at, 'expected an array of {key, value}');
    return entries.map((e, i) => {
      if (!isObject(e)) fail(`${at}[${i}]`, 'expected {key, value}');
      only(e, `${at}[${i}]`, ['key', 'value']);
      return { key: valueSpec(e.key, `${at}[${i}].key`, false), value: valueSpec(e.value, `${at}[${i}].value`, false) };
    });
  });
  const maps = parseMapRecord(expect.maps, `${where}.expect.maps`, parseMapExpectation);
  return { name: value.name, packet: parsePacket(value.packet, `${where}.packet`), identity, datapathReturn, expectReturn, repeat, seed, maps };
}

function parseMapRecord<T>(value: unknown, where: string, parse: (v: unknown, at: string) => T): Record<string, T> {
  if (value === undefined) return {};
  if (!isObject(value)) fail(where, 'expected an object keyed by map name');
  const out: Record<string, T> = {};
  for (const [name, v] of Object.entries(value)) {
    if (!MAP_NAME.test(name)) fail(where, `${JSON.stringify(name)} is not a map name`);
    out[name] = parse(v, `${where}.${name}`);
  }
  return out;
}

function parseMapExpectation(value: unknown, where: string): MapExpectation {
  if (!isObject(value)) fail(where, 'expected {entries, deltas, absent, othersUnchanged}');
  only(value, where, ['entries', 'deltas', 'absent', 'othersUnchanged']);
  const list = (v: unknown, at: string): unknown[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail(at, 'expected an array');
    return v;
  };
  const entries = list(value.entries, `${where}.entries`).map((e, i) => {
    const at = `${where}.entries[${i}]`;
    if (!isObject(e)) fail(at, 'expected {key, value}');
    only(e, at, ['key', 'value']);
    return { key: valueSpec(e.key, `${at}.key`, true), value: valueSpec(e.value, `${at}.value`, true) };
  });
  const deltas = list(value.deltas, `${where}.deltas`).map((e, i) => {
    const at = `${where}.deltas[${i}]`;
    if (!isObject(e)) fail(at, 'expected {key, delta}');
    only(e, at, ['key', 'delta']);
    const d = e.delta;
    const ok = (typeof d === 'number' && Number.isSafeInteger(d)) || (typeof d === 'string' && /^-?[0-9]+$/.test(d)) || (isObject(d) && Object.values(d).every((x) => typeof x === 'number' && Number.isSafeInteger(x)));
    if (!ok) fail(`${at}.delta`, 'expected an integer, or an object of integer deltas by BTF field name');
    return { key: valueSpec(e.key, `${at}.key`, true), delta: d as MapExpectation['deltas'][number]['delta'] };
  });
  const absent = list(value.absent, `${where}.absent`).map((k, i) => valueSpec(k, `${where}.absent[${i}]`, true));
  if (value.othersUnchanged !== undefined && typeof value.othersUnchanged !== 'boolean') fail(`${where}.othersUnchanged`, 'expected true or false');
  if (!entries.length && !deltas.length && !absent.length && value.othersUnchanged === undefined) fail(where, 'expects nothing: give entries, deltas, absent or othersUnchanged');
  return { entries, deltas, absent, othersUnchanged: value.othersUnchanged !== false };
}

/** `btf`: BTF field objects are allowed (expectations); seeds need bytes or integers. */
function valueSpec(value: unknown, where: string, btf: boolean): ValueSpec {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) fail(where, 'expected a non-negative integer (larger ones as a decimal string)');
    return value;
  }
  if (typeof value === 'string') {
    if (!/^[0-9]+$/.test(value) || BigInt(value) >= 2n ** 128n) fail(where, 'expected a decimal integer string (bytes go in {"hex": "..."})');
    return value;
  }
  if (isObject(value) && 'hex' in value) {
    only(value, where, ['hex']);
    if (typeof value.hex !== 'string' || !/^([0-9a-fA-F]{2})( ?[0-9a-fA-F]{2})*$/.test(value.hex.trim())) fail(`${where}.hex`, 'expected bytes in hex, e.g. "39 30 00 00"');
    return { hex: value.hex.trim() };
  }
  if (btf && isObject(value) && Object.keys(value).length) return value;
  fail(where, btf ? 'expected an integer, {"hex": "..."} or an object of BTF fields' : 'expected an integer or {"hex": "..."}');
}

const IP: readonly IpFamily[] = ['ipv4', 'ipv6'];
const PROTO: readonly L4Protocol[] = ['tcp', 'udp', 'icmp'];

function parsePacket(value: unknown, where: string): PacketInput {
  if (value === undefined) return { kind: 'spec', spec: {} };
  if (!isObject(value)) fail(where, 'expected an object');
  if ('hex' in value) {
    only(value, where, ['hex']);
    if (typeof value.hex !== 'string') fail(`${where}.hex`, 'expected the frame in hex');
    return { kind: 'hex', hex: value.hex };
  }
  only(value, where, ['ip', 'proto', 'src', 'dst', 'sport', 'dport', 'size', 'tcpFlags']);
  const spec: PacketSpec = {};
  if (value.ip !== undefined) {
    if (!IP.includes(value.ip as IpFamily)) fail(`${where}.ip`, `expected ${IP.join(' or ')}`);
    spec.ip = value.ip as IpFamily;
  }
  if (value.proto !== undefined) {
    if (!PROTO.includes(value.proto as L4Protocol)) fail(`${where}.proto`, `expected ${PROTO.join(', ')}`);
    spec.proto = value.proto as L4Protocol;
  }
  for (const key of ['src', 'dst', 'tcpFlags'] as const) {
    if (value[key] === undefined) continue;
    if (typeof value[key] !== 'string') fail(`${where}.${key}`, 'expected a string');
    spec[key] = value[key];
  }
  if (value.sport !== undefined) spec.sport = integer(value.sport, `${where}.sport`, 0, 65535);
  if (value.dport !== undefined) spec.dport = integer(value.dport, `${where}.dport`, 0, 65535);
  if (value.size !== undefined) spec.size = integer(value.size, `${where}.size`, 14, MAX_PACKET_SIZE);
  return { kind: 'spec', spec };
}
