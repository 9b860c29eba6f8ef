// (f) custom_prog's signature against the landing program's call `custom_prog(ctx, identity)` with
// `const struct __ctx_buff *ctx` and a __u32 identity: two parameters, the first a pointer to struct __ctx_buff or
// struct __sk_buff (const, since the landing program's ctx is const; non-const is a warning), the second a 32-bit
// unsigned integer (__u32, u32, uint32_t, unsigned int); the return type should be void (the result is ignored).
import type { Node } from 'web-tree-sitter';
import { DiagnosticCodes } from '../../shared/protocol';
import { declaredName, type FileModel, isPointerDeclarator, rangeOf } from '../syntax';
import type { Finding } from './types';

const U32 = new Set(['__u32', 'u32', 'uint32_t', 'unsigned int', 'unsigned', '__be32']);

function functionDeclarator(decl: Node | null): Node | undefined {
  let d = decl;
  while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
  return d ?? undefined;
}

export function checkCustomProgSignature(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  const candidates = model.tree.rootNode.namedChildren.filter((n): n is Node => !!n && (n.type === 'function_definition' || n.type === 'declaration'));
  for (const def of candidates) {
    const declarator = def.childForFieldName('declarator');
    const fnDecl = functionDeclarator(declarator);
    const name = declaredName(fnDecl ?? null);
    if (!fnDecl || name?.text !== 'custom_prog') continue;
    const params = (fnDecl.childForFieldName('parameters')?.namedChildren ?? []).filter((p): p is Node => !!p && p.type === 'parameter_declaration');
    const problems: string[] = [];
    let severity: Finding['severity'] = 'warning';
    const expected = 'void custom_prog(const struct __ctx_buff *ctx, __u32 identity)';
    if (params.length !== 2) {
      problems.push(`takes ${params.length} parameter${params.length === 1 ? '' : 's'}, the landing program passes 2 (ctx, identity)`);
      severity = 'error';
    } else {
      const [ctx, identity] = params as [Node, Node];
      const ctxType = ctx.childForFieldName('type');
      const struct = ctxType?.type === 'struct_specifier' ? ctxType.childForFieldName('name')?.text : undefined;
      if (!struct || !['__ctx_buff', '__sk_buff'].includes(struct) || !isPointerDeclarator(ctx.childForFieldName('declarator'))) {
        problems.push(`its first parameter is \`${ctx.text}\`, not a \`const struct __ctx_buff *\``);
        severity = 'error';
      } else if (!ctx.children.some((c) => c?.type === 'type_qualifier' && c.text === 'const')) {
        problems.push(`its first parameter is not const: the landing program passes a \`const struct ${struct} *\``);
      }
      const idType = identity.childForFieldName('type')?.text.replace(/\s+/g, ' ');
      if (!idType || !U32.has(idType) || isPointerDeclarator(identity.childForFieldName('declarator'))) {
        problems.push(`its second parameter is \`${identity.text}\`, not the __u32 security identity`);
        severity = 'error';
      }
    }
    const type = def.childForFieldName('type')?.text;
    if (type !== 'void' || isPointerDeclarator(declarator)) problems.push(`it returns \`${type}\`: the landing program ignores the result (Cilium declares it void)`);
    if (problems.length === 0) continue;
    findings.push({
      code: DiagnosticCodes.customProgSignature,
      severity,
      message: `custom_prog does not match what the landing program calls (${expected}): ${problems.join('; ')}`,
      range: rangeOf(fnDecl),
    });
  }
  return findings;
}
