// Test files (src/core/progtest/testFile.ts) and their JSON schema (schemas/custom-test.schema.json): every bundled
// example's test file passes both; malformed files fail both, and the reader names the field.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { caseLocations, customProgLine } from '../../../src/core/progtest/caseLocations';
import { parseTestFile, readTestFile, testFileFor, TestFileError } from '../../../src/core/progtest/testFile';

const REPO = path.resolve(__dirname, '../../../..');
const EXAMPLES = path.join(REPO, 'bpf', 'examples');
const SCHEMA = JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'custom-test.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(SCHEMA);
const headers = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.h')).sort();
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'progtest', 'bytecount-wrong.test.json');

const minimal = { cases: [{ name: 'a', identity: 1 }] };
const withCase = (c: object) => ({ cases: [{ name: 'a', identity: 1, ...c }] });

describe('progtest test files and schema', () => {
  it('every bundled example has a test file', () => {
    assert.ok(headers.length >= 4);
    for (const h of headers) assert.ok(fs.existsSync(testFileFor(path.join(EXAMPLES, h))), `${h} has no ${h.replace(/\.h$/, '.test.json')}`);
  });

  for (const h of headers) {
    it(`${h.replace(/\.h$/, '.test.json')} passes the schema and the reader`, () => {
      const file = testFileFor(path.join(EXAMPLES, h));
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      assert.ok(validate(json), JSON.stringify(validate.errors, null, 2));
      const parsed = readTestFile(file);
      assert.equal(parsed.header, path.join(EXAMPLES, h));
      assert.ok(parsed.cases.length >= 3);
    });
  }

  it('bytecount has at least 6 cases: IPv4 and IPv6, several identities, a passed-through code, exact deltas', () => {
    const file = readTestFile(path.join(EXAMPLES, 'bytecount.test.json'));
    assert.ok(file.cases.length >= 6);
    const ips = new Set(file.cases.map((c) => (c.packet.kind === 'spec' ? (c.packet.spec.ip ?? 'ipv4') : 'raw')));
    assert.ok(ips.has('ipv4') && ips.has('ipv6'));
    assert.ok(new Set(file.cases.map((c) => c.identity)).size >= 4);
    assert.ok(file.cases.some((c) => c.datapathReturn !== 0 && c.expectReturn === c.datapathReturn));
    assert.ok(file.cases.some((c) => c.maps.bytecount_map?.deltas.length));
  });

  for (const fixture of [FIXTURE, FIXTURE.replace('wrong', 'seeds')]) {
    it(`the fixture ${path.basename(fixture)} is a valid file (it fails when run, not when read)`, () => {
      assert.ok(validate(JSON.parse(fs.readFileSync(fixture, 'utf8'))), JSON.stringify(validate.errors));
      assert.equal(readTestFile(fixture).header, path.join(EXAMPLES, 'bytecount.h'));
    });
  }

  it('fills in the defaults: the datapath code 0, its return expected, one run, the header by name', () => {
    const parsed = parseTestFile(minimal, '/x/prog.test.json');
    assert.equal(parsed.header, '/x/prog.h');
    const c = parsed.cases[0];
    assert.deepEqual({ datapathReturn: c.datapathReturn, expectReturn: c.expectReturn, repeat: c.repeat }, { datapathReturn: 0, expectReturn: 0, repeat: 1 });
    assert.equal(parseTestFile(withCase({ datapathReturn: 2 }), '/x/p.test.json').cases[0].expectReturn, 2, 'the datapath code is the default expectation');
    const m = parseTestFile(withCase({ expect: { maps: { m: { deltas: [{ key: 1, delta: 2 }] } } } }), '/x/p.test.json').cases[0].maps.m;
    assert.equal(m.othersUnchanged, true);
  });

  const bad: [string, unknown, RegExp][] = [
    ['no cases', { cases: [] }, /cases: expected a non-empty array/],
    ['an unknown field', withCase({ identiy: 3 }), /cases\[0\]: unknown field "identiy"/],
    ['an identity beyond 24 bits', withCase({ identity: 16777216 }), /cases\[0\]\.identity: expected an integer from 0 to 16777215/],
    ['a return code beyond 8 bits', withCase({ datapathReturn: 256 }), /cases\[0\]\.datapathReturn/],
    ['an unknown protocol', withCase({ packet: { proto: 'sctp' } }), /cases\[0\]\.packet\.proto: expected tcp, udp, icmp/],
    ['a map name with a slash', withCase({ expect: { maps: { '../x': { absent: [1] } } } }), /is not a map name/],
    ['a map expectation that expects nothing', withCase({ expect: { maps: { m: {} } } }), /expects nothing/],
    ['a seed value as a struct', withCase({ seed: { m: [{ key: 1, value: { a: 1 } }] } }), /seed\.m\[0\]\.value: expected an integer or \{"hex"/],
    ['bad hex bytes', withCase({ expect: { maps: { m: { absent: [{ hex: '3g' }] } } } }), /hex: expected bytes in hex/],
    ['a negative key', withCase({ expect: { maps: { m: { absent: [-1] } } } }), /non-negative integer/],
  ];
  for (const [what, json, message] of bad) {
    it(`refuses ${what}, in the reader and in the schema`, () => {
      assert.throws(() => parseTestFile(json, '/x/p.test.json'), message);
      assert.equal(validate(json), false, `the schema accepts ${what}`);
    });
  }

  it('refuses two cases of one name (the reader: the schema cannot say it)', () => {
    assert.throws(() => parseTestFile({ cases: [{ name: 'a', identity: 1 }, { name: 'a', identity: 2 }] }, '/x/p.test.json'), /"a" is used twice/);
  });

  it('says which file is not JSON', () => {
    const file = path.join(REPO, 'package.json');
    assert.throws(() => readTestFile(`${file}.missing`), (e: Error) => e instanceof TestFileError && /cannot read/.test(e.message));
  });
});

describe('progtest case locations', () => {
  it('finds each case on its "name" line, in order, names with quotes included', () => {
    const text = '{\n  "cases": [\n    { "name": "a" },\n    {\n      "name":  "say \\"hi\\"" },\n    { "name": "a b" }\n  ]\n}\n';
    const found = caseLocations(text, ['a', 'say "hi"', 'a b', 'missing']);
    assert.deepEqual(found.get('a'), { line: 2, character: 6 });
    assert.deepEqual(found.get('say "hi"'), { line: 4, character: 6 });
    assert.deepEqual(found.get('a b'), { line: 5, character: 6 });
    assert.equal(found.has('missing'), false);
  });

  it('finds the custom_prog() definition of every bundled example, not a mention in a comment', () => {
    for (const h of headers) {
      const text = fs.readFileSync(path.join(EXAMPLES, h), 'utf8');
      const line = customProgLine(text);
      assert.ok(line !== undefined, h);
      assert.match(text.split('\n')[line], /^void custom_prog\(/, h);
    }
  });
});
