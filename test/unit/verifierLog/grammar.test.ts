// The TextMate grammar of `bpf-verifier-log`: valid JSON, every regex compiles, and sample lines land on the intended
// rules. VS Code runs the grammar with Oniguruma; vscode-textmate is not a dependency here, so the regexes are
// checked as JS RegExps (the grammar sticks to the common subset, `\G` aside) and the top-level rule choice is
// emulated: at a given position, the rule matching earliest wins, ties going to the first rule listed.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { corpusLogs, repoRoot } from './paths';

interface Captures {
  [group: string]: { name?: string };
}
interface Rule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  include?: string;
  captures?: Captures;
  beginCaptures?: Captures;
  patterns?: Rule[];
}
interface Grammar {
  scopeName: string;
  patterns: Rule[];
  repository: Record<string, Rule>;
}

const GRAMMAR_PATH = path.join(repoRoot(), 'syntaxes', 'bpf-verifier-log.tmLanguage.json');
const grammar = JSON.parse(fs.readFileSync(GRAMMAR_PATH, 'utf8')) as Grammar;

/** Oniguruma → JS: `\G` (anchor at the end of the begin match) becomes `^` for testing a rule on its own. */
function jsRegExp(source: string, flags = ''): RegExp {
  return new RegExp(source.replace(/\\G/g, '^'), flags);
}

/** A repository rule flattened into the match/begin rules it stands for, in order. */
function leafRules(rule: Rule): Rule[] {
  if (rule.include) {
    const target = grammar.repository[rule.include.replace(/^#/, '')];
    assert.ok(target, `unknown include ${rule.include}`);
    return leafRules(target);
  }
  if (rule.match !== undefined || rule.begin !== undefined) return [rule];
  return (rule.patterns ?? []).flatMap(leafRules);
}

interface Hit {
  rule: Rule;
  index: number;
  groups: Record<string, string>;
}

/** The rule VS Code would pick first on `line` among `rules`, with the text of each named capture. */
function firstHit(line: string, rules: Rule[]): Hit | null {
  let best: Hit | null = null;
  for (const rule of rules.flatMap(leafRules)) {
    const m = jsRegExp(rule.match ?? rule.begin!, 'd').exec(line);
    if (!m || (best && m.index >= best.index)) continue;
    const groups: Record<string, string> = {};
    const captures = rule.captures ?? rule.beginCaptures ?? {};
    for (const [group, capture] of Object.entries(captures)) {
      const text = m[Number(group)];
      if (text !== undefined && capture.name) groups[capture.name.replace(/\.bpf-verifier-log$/, '')] = text;
    }
    best = { rule, index: m.index, groups };
  }
  return best;
}

/** The repository key of the top-level rule that claims `line` at column 0. */
function topRule(line: string): string | null {
  for (const include of grammar.patterns) {
    const key = include.include!.replace(/^#/, '');
    const hit = firstHit(line, [include]);
    if (hit && hit.index === 0) {
      // Earlier keys already failed at 0: this is the first listed rule matching at 0.
      return key;
    }
  }
  return null;
}

function scopesOf(rule: Rule): string[] {
  const names = [rule.name ?? ''];
  for (const c of [rule.captures, rule.beginCaptures]) for (const v of Object.values(c ?? {})) names.push(v.name ?? '');
  return names.flatMap((n) => n.split(/\s+/)).filter((n) => n !== '');
}

describe('verifierLog: TextMate grammar', () => {
  it('is a JSON grammar with scopeName source.bpf-verifier-log and resolvable includes', () => {
    assert.equal(grammar.scopeName, 'source.bpf-verifier-log');
    assert.ok(grammar.patterns.length > 5);
    for (const rule of grammar.patterns) leafRules(rule);
    for (const rule of Object.values(grammar.repository)) leafRules(rule);
  });

  it('compiles every regex, and every scope name ends in .bpf-verifier-log', () => {
    let count = 0;
    const visit = (rule: Rule, where: string) => {
      for (const key of ['match', 'begin', 'end'] as const) {
        const source = rule[key];
        if (source === undefined) continue;
        assert.doesNotThrow(() => jsRegExp(source), `${where}.${key}: ${source}`);
        count++;
      }
      for (const scope of scopesOf(rule)) assert.match(scope, /^[a-z][\w-]*(?:\.[\w-]+)*\.bpf-verifier-log$/, where);
      (rule.patterns ?? []).forEach((child, i) => visit(child, `${where}.patterns[${i}]`));
    };
    for (const [key, rule] of Object.entries(grammar.repository)) visit(rule, key);
    assert.ok(count > 40, `only ${count} regexes`);
  });

  it('uses standard scope roots that themes color', () => {
    const roots = new Set<string>();
    const visit = (rule: Rule) => {
      for (const scope of scopesOf(rule)) roots.add(scope.split('.').slice(0, 2).join('.'));
      (rule.patterns ?? []).forEach(visit);
    };
    Object.values(grammar.repository).forEach(visit);
    for (const root of ['keyword.control', 'variable.other', 'constant.numeric', 'comment.line', 'invalid.illegal', 'entity.name', 'string.unquoted']) {
      assert.ok(roots.has(root), `no ${root} scope`);
    }
  });

  it('classifies each kind of line', () => {
    const cases: [string, string][] = [
      ["libbpf: prog 'null_deref': -- BEGIN PROG LOAD LOG --", 'framing'],
      ['-- END PROG LOAD LOG --', 'framing'],
      ['libbpf: -- BEGIN DUMP LOG ---', 'framing'],
      ['libbpf: loading 01-map-value-or-null-deref-k6.18.44.o', 'libbpf'],
      ["libbpf: map 'counts': created successfully, fd=4", 'libbpf'],
      ["libbpf: prog 'null_deref': BPF program load failed: Permission denied", 'loader-error'],
      ["libbpf: failed to load object '01-x.o'", 'loader-error'],
      ["libbpf: extern (func ksym) 'bpf_frobnicate_skb': not found in kernel or module BTFs", 'loader-error'],
      ['Error: failed to load object file', 'loader-error'],
      ["Prog section 'tc' rejected: Permission denied (13)!", 'loader-error'],
      ['bpf: Failed to load program: Permission denied', 'loader-error'],
      ['Warning: bpftool is now running in libbpf strict mode', 'loader-info'],
      ["libbpf: prog 'custom_hook': unrecognized ELF section name 'bytecount'", 'loader-info'],
      ['libbpf: elf: skipping unrecognized data section(7) .rodata.str1.1', 'loader-info'],
      ["If it used to work for this object file but now doesn't, see --legacy option for more details.", 'loader-info'],
      ['libbpf: Error in bpf_create_map_xattr(tail_context_progs):Invalid argument(-22). Retrying without BTF.', 'loader-warning'],
      ["libbpf: map 'tail_context_progs': failed to create map with BTF: -22. Retrying without BTF.", 'loader-warning'],
      ['libbpf: Error loading .BTF into kernel: -22. BTF is optional, ignoring.', 'loader-warning'],
      ['Warning: something the loader could live with', 'loader-warning'],
      ['WARN[0003] Program rewritten', 'loader-warning'],
      ['PROCESSING x.bpf.o/prog, DURATION US: 120, VERDICT: failure, VERIFIER LOG:', 'veristat'],
      ['func#0 @0', 'func-header'],
      ['Validating parse_byte() func#1...', 'func-header'],
      ['Live regs before insn:', 'live-regs'],
      ['      6: .12....... (85) call bpf_map_lookup_elem#1', 'live-regs'],
      ['; *val += 1; @ 01-x.c:16', 'source-comment'],
      ['; data->submit_p->buf[i] = index;', 'source-comment'],
      ['12: (85) call bpf_map_lookup_elem#1   ; R0=map_value_or_null(id=1,map=counts,ks=4,vs=8)', 'instruction'],
      ['1: <invalid CO-RE relocation>', 'instruction'],
      ['0: R1=ctx() R10=fp0', 'state-line'],
      ['8: frame1: R1=0 R10=fp0 fp-8=0000????', 'state-line'],
      [' R0=map_value_or_null(ks=8,vs=8),min_value=0,max_value=0 R7=inv R10=fp', 'bare-state'],
      ['from 17 to 20: R0=0 R10=fp0 fp-8=mmmm????', 'branch'],
      ['caller:', 'call-frames'],
      ['to caller at 5:', 'call-frames'],
      ['cur state: R1=0 R10=fp0 fp-8=0000????', 'call-frames'],
      ['mark_precise: frame0: regs=r1 stack= before 3: (b7) r1 = 0', 'precision'],
      ['regs=4 stack=0 before 5: (bf) r2 = r10', 'precision'],
      ['(4,7) frame 1 insn 12 +live -8 ', 'precision'],
      ["R0 invalid mem access 'map_value_or_null'", 'verifier-error'],
      ['R1 offset is outside of the packet', 'verifier-error'],
      ['R2 !read_ok', 'verifier-error'],
      ['BPF program is too large. Processed 1000001 insn', 'verifier-error'],
      ['Unreleased reference id=2 alloc_insn=15', 'verifier-error'],
      ['BPF_EXIT instruction in main prog would lead to reference leak', 'verifier-error'],
      ['infinite loop detected at insn 3', 'verifier-error'],
      ['combined stack size of 3 calls is 624. Too large', 'verifier-error'],
      ['expected prog array map for tail callprocessed 4 insns (limit 1000000) max_states_per_insn 0', 'verifier-error'],
      ['back-edge from insn 65 to 36', 'verifier-error'],
      ['processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0', 'statistics'],
      ['verification time 78 usec', 'statistics'],
      ['stack depth 0+8', 'statistics'],
      ['(truncated, 12 line(s) omitted)', 'truncation'],
    ];
    for (const [line, key] of cases) assert.equal(topRule(line), key, line);
  });

  it('captures the parts of a line-info comment, with the file:line token', () => {
    const hit = firstHit('; x = a ? b : c; /* @ host:25 */ @ prog.c:42', [{ include: '#source-comment' }]);
    assert.deepEqual(hit?.groups, {
      'punctuation.definition.comment': ';',
      'string.unquoted.source-text': ' x = a ? b : c; /* @ host:25 */',
      'keyword.operator.at': ' @ ',
      'markup.underline.link.source-file': 'prog.c',
      'punctuation.separator': ':',
      'constant.numeric.line-number': '42',
    });
  });

  it('tokenizes instruction parts: index, opcode, helper call, registers, immediates, jump state', () => {
    const instruction = grammar.repository['instruction']!.patterns!.find((r) => r.begin)!;
    const inner = instruction.patterns!;
    const line = '12: (85) call bpf_map_lookup_elem#1   ; R0=map_value_or_null(id=1,map=counts,ks=4,vs=8)';
    const begin = jsRegExp(instruction.begin!).exec(line)!;
    assert.equal(begin[1], '12');
    const rest = line.slice(begin[0].length);
    assert.deepEqual(firstHit(rest, inner)?.groups, {
      'punctuation.definition.opcode': ')',
      'constant.other.opcode': '85',
    });
    assert.deepEqual(firstHit(rest.slice(5), inner)?.groups, {
      'keyword.control.call': 'call',
      'entity.name.function.helper': 'bpf_map_lookup_elem',
      'punctuation.separator': '#',
      'constant.numeric.helper-id': '1',
    });
    const state = firstHit(rest.slice(rest.indexOf(' ;')), inner);
    assert.equal(state?.rule.name, 'meta.register-state.bpf-verifier-log');

    const scopeAt = (text: string) => {
      const hit = firstHit(text, inner);
      return hit && hit.index === 0 ? hit.rule.name : undefined;
    };
    assert.equal(scopeAt('r1 = *(u64 *)(r0 +0)'), 'variable.other.register.bpf-verifier-log');
    assert.equal(scopeAt('w0 = 1'), 'variable.other.register.bpf-verifier-log');
    assert.equal(scopeAt('r10 -4)'), 'variable.language.frame-pointer.bpf-verifier-log');
    assert.equal(scopeAt('0xffff8881043f0000'), 'constant.numeric.bpf-verifier-log');
    assert.equal(scopeAt('-4)'), 'constant.numeric.bpf-verifier-log');
    assert.equal(scopeAt('(u32 *)(r1 +0)'), 'storage.type.size.bpf-verifier-log');
    assert.equal(scopeAt('s>>= 32'), 'keyword.operator.bpf-verifier-log');
    assert.equal(scopeAt('exit'), 'keyword.control.bpf-verifier-log');
    assert.deepEqual(firstHit('goto pc+3 24: R0=sock(ref_obj_id=2)', inner)?.groups, {
      'keyword.control.goto': 'goto',
      'variable.language.pc': 'pc',
      'constant.numeric.offset': '+3',
    });
    assert.deepEqual(firstHit(' 24: R0=sock(ref_obj_id=2)', inner)?.groups, {
      'constant.numeric.insn-index': '24',
      'punctuation.separator': ':',
    });
  });

  it('tokenizes register state annotations', () => {
    const state = [{ include: '#state' }];
    assert.deepEqual(firstHit('R1_w=scalar()', state)?.groups, {
      'variable.other.register': 'R1',
      'storage.modifier.liveness': '_w',
      'keyword.operator.assignment': '=',
    });
    assert.deepEqual(firstHit('=map_value_or_null(id=1', state)?.groups, { 'support.type.register-type': 'map_value_or_null' });
    assert.deepEqual(firstHit('=invP(id=0)', state)?.groups, {
      'support.type.register-type': 'inv',
      'storage.modifier.precise': 'P',
    });
    assert.deepEqual(firstHit('fp-8=mmmm????', state)?.groups, {
      'variable.other.stack-slot': 'fp-8',
      'keyword.operator.assignment': '=',
      'constant.character.slot-types': 'mmmm????',
    });
    assert.equal(firstHit('(map=counts,ks=4', state)?.groups['entity.other.attribute-name'], 'map');
    assert.equal(firstHit('counts,ks=4', state)?.rule.name, undefined); // plain text outside `map=`
    assert.equal(firstHit('=counts,ks=4', state)?.groups['support.type.register-type'], 'counts');
    assert.equal(firstHit('frame1: R0=0', state)?.groups['keyword.other.frame'], 'frame1');
  });

  it('splits the glued `…tail callprocessed N insns` line into the error and the stats', () => {
    const line = 'expected prog array map for tail callprocessed 4 insns (limit 1000000) max_states_per_insn 0';
    const error = firstHit(line, [{ include: '#verifier-error' }]);
    assert.equal(error?.groups['invalid.illegal.verifier-error'], 'expected prog array map for tail call');
    const stats = firstHit(line, [{ include: '#statistics' }]);
    assert.equal(stats?.index, 'expected prog array map for tail call'.length);
    assert.equal(stats?.groups['constant.numeric'], '4');
  });

  it('marks the final error line of every corpus log as an error', () => {
    for (const log of corpusLogs()) {
      if (!log.finalErrorLine) continue;
      const line = log.lines.find((l) => l.includes(log.finalErrorLine!));
      assert.ok(line !== undefined, `${log.name}: error line not found`);
      const key = topRule(line);
      assert.ok(key === 'verifier-error' || key === 'loader-error', `${log.name}: ${JSON.stringify(line)} → ${key}`);
    }
  });

  it('never classifies a corpus line that starts with an instruction index as an error', () => {
    for (const log of corpusLogs()) {
      for (const line of log.lines) {
        if (!/^\s*\d+: /.test(line)) continue;
        const key = topRule(line);
        assert.ok(key === 'instruction' || key === 'state-line' || key === 'live-regs', `${log.name}: ${JSON.stringify(line)} → ${key}`);
      }
    }
  });

  it('colours no line of an accepted load as an error (libbpf informational lines included)', () => {
    const dir = path.join(repoRoot(), 'test', 'fixtures', 'verifier-logs-accepted');
    const logs = fs.readdirSync(dir).filter((name) => name.endsWith('.log'));
    assert.ok(logs.length >= 2, `no accepted logs in ${dir}`);
    for (const name of logs) {
      const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n');
      assert.ok(lines.some((l) => /unrecognized ELF section name/.test(l)), `${name}: the informational libbpf line is in the fixture`);
      for (const line of lines) {
        const key = topRule(line);
        assert.ok(key !== 'loader-error' && key !== 'verifier-error', `${name}: ${JSON.stringify(line)} → ${key}`);
      }
    }
  });

  it('in a rejected load, colours as errors only the lines that say it failed', () => {
    const dir = path.join(repoRoot(), 'test', 'fixtures', 'verifier-logs');
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.log'))) {
      const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n');
      // Everything libbpf says before the failure is informational in these loads.
      const failed = lines.findIndex((l) => /load failed/.test(l));
      assert.ok(failed > 0, `${name}: no "load failed" line`);
      for (const line of lines.slice(0, failed)) assert.notEqual(topRule(line), 'loader-error', `${name}: ${JSON.stringify(line)}`);
      const red = lines.filter((l) => topRule(l) === 'loader-error');
      assert.ok(red.length > 0, `${name}: the failure is coloured`);
      for (const line of red) assert.match(line, /load failed|failed to load|^Error: /, `${name}: ${JSON.stringify(line)}`);
    }
  });

  it('scopes warnings as warnings and informational loader lines as comments, never invalid', () => {
    const warning = firstHit('Warning: something', [{ include: '#loader-warning' }]);
    assert.equal(warning?.rule.name, 'markup.deleted.warning.bpf-verifier-log');
    const retry = firstHit('libbpf: Error in bpf_create_map_xattr(p):Invalid argument(-22). Retrying without BTF.', [{ include: '#loader-warning' }]);
    assert.equal(retry?.groups['markup.deleted.warning'], 'Error in bpf_create_map_xattr(p):Invalid argument(-22). Retrying without BTF.');
    for (const key of ['loader-info', 'loader-warning']) {
      const scopes = leafRules({ include: `#${key}` }).flatMap(scopesOf);
      assert.ok(scopes.length > 0);
      for (const scope of scopes) assert.doesNotMatch(scope, /^invalid\./, `${key}: ${scope}`);
    }
  });

  it('is contributed in package.json for *.bpflog, *.verifier.log, *-verifier.log and by first line', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as {
      contributes: {
        languages: { id: string; extensions?: string[]; filenamePatterns?: string[]; firstLine?: string; configuration?: string }[];
        grammars: { language: string; scopeName: string; path: string }[];
      };
    };
    const language = pkg.contributes.languages.find((l) => l.id === 'bpf-verifier-log');
    assert.ok(language, 'no bpf-verifier-log language');
    assert.deepEqual(language.extensions, ['.bpflog']);
    assert.deepEqual(language.filenamePatterns, ['*.verifier.log', '*-verifier.log']);
    assert.ok(language.configuration && fs.existsSync(path.join(repoRoot(), language.configuration)));
    JSON.parse(fs.readFileSync(path.join(repoRoot(), language.configuration), 'utf8'));
    const contributed = pkg.contributes.grammars.find((g) => g.language === 'bpf-verifier-log');
    assert.equal(contributed?.scopeName, grammar.scopeName);
    assert.equal(path.resolve(repoRoot(), contributed.path), GRAMMAR_PATH);

    const firstLine = new RegExp(language.firstLine!);
    for (const line of [
      'libbpf: loading 01-map-value-or-null-deref-k6.18.44.o',
      "libbpf: prog 'spin': BPF program load failed: Invalid argument",
      'func#0 @0',
      '0: R1=ctx() R10=fp0',
      '0: R1=ctx(id=0,off=0,imm=0) R10=fp0',
      'processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
      'verification time 42 usec',
      'PROCESSING x.bpf.o/handler, DURATION US: 120, VERDICT: failure, VERIFIER LOG:',
      '-- BEGIN PROG LOAD LOG --',
      "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --",
      'Validating parse_byte() func#1...',
    ]) {
      assert.match(line, firstLine);
    }
    for (const line of ['#include <linux/bpf.h>', '// processed 3 insns', 'int main(void) {', 'libbpf: ']) {
      assert.doesNotMatch(line, firstLine);
    }
    // Every corpus log but the one whose head the kernel cut off mid-line is recognised by its first line.
    for (const log of corpusLogs()) {
      if (log.name.startsWith('07-')) continue;
      assert.match(log.lines[0]!, firstLine, log.name);
    }
  });
});
