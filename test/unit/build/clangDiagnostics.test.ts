import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLANG_DIAGNOSTIC_PATTERN, formatDiagnostic, parseClangDiagnostics, parseToolErrors } from '../../../src/core/build/clangDiagnostics';

// Output captured from Debian clang 14 building through the SDK's Makefile.
const OUTPUT = `make: Entering directory '/opt/ext/bpf'
In file included from <built-in>:2:
/home/u/my dir/broken.h:12:5: error: use of undeclared identifier 'lenn'; did you mean 'len'?
        lenn += 1;
        ^~~~
        len
/home/u/my dir/broken.h:9:8: note: 'len' declared here
        __u64 len = ctx_full_len(ctx);
              ^
/home/u/my dir/broken.h:14:9: warning: unused variable 'unused' [-Wunused-variable]
        __u32 unused;
              ^
bpf_custom.c:20:2: fatal error: 'missing.h' file not found
1 warning and 2 errors generated.
make: *** [Makefile:40: one] Error 1
make: Leaving directory '/opt/ext/bpf'
`;

describe('clang diagnostics', () => {
  const diagnostics = parseClangDiagnostics(OUTPUT, '/opt/ext/bpf');

  it('reads errors, warnings and fatal errors with their positions', () => {
    assert.equal(diagnostics.length, 3);
    assert.deepEqual(
      diagnostics.map((d) => [d.file, d.line, d.column, d.severity]),
      [
        ['/home/u/my dir/broken.h', 12, 5, 'error'],
        ['/home/u/my dir/broken.h', 14, 9, 'warning'],
        ['/opt/ext/bpf/bpf_custom.c', 20, 2, 'error'],
      ],
    );
  });

  it('attaches notes to the diagnostic before them and splits off the warning flag', () => {
    assert.equal(diagnostics[0].notes.length, 1);
    assert.equal(diagnostics[0].notes[0].line, 9);
    assert.equal(diagnostics[1].message, "unused variable 'unused'");
    assert.equal(diagnostics[1].flag, '-Wunused-variable');
    assert.equal(formatDiagnostic(diagnostics[1]), "/home/u/my dir/broken.h:14:9: warning: unused variable 'unused' [-Wunused-variable]");
  });

  it("finds make's own errors", () => {
    assert.deepEqual(parseToolErrors(OUTPUT), ['make: *** [Makefile:40: one] Error 1']);
    assert.deepEqual(parseToolErrors("clang: error: no such file or directory: 'x.h'\n"), ["clang: error: no such file or directory: 'x.h'"]);
  });

  it('uses the same regexp as the problem matcher contributed in package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../../package.json'), 'utf8'));
    const matcher = pkg.contributes.problemMatchers.find((m: { name: string }) => m.name === 'cilium-custom-clang');
    assert.equal(matcher.pattern.regexp, CLANG_DIAGNOSTIC_PATTERN);
    const re = new RegExp(matcher.pattern.regexp);
    const m = re.exec('/home/u/my dir/broken.h:12:5: error: use of undeclared identifier');
    assert.ok(m);
    assert.equal(m[matcher.pattern.file], '/home/u/my dir/broken.h');
    assert.equal(m[matcher.pattern.line], '12');
    assert.equal(m[matcher.pattern.severity], 'error');
  });
});
