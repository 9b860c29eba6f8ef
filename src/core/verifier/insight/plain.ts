// A register or stack value as the verifier printed it, in plain words: `map_value_or_null(...)` is "may be NULL:
// check it before use", `scalar(umax=255,...)` is "a number between 0 and 255".

function field(text: string, name: string): string | null {
  const m = new RegExp(`(?:[(,]|^)(?:[a-z0-9_]+=)*${name}=(?:[a-z0-9_]+=)*(-?(?:0x[0-9a-f]+|\\d+))`).exec(text);
  return m ? m[1]! : null;
}

function num(v: string | null): string | null {
  if (v === null) return null;
  const n = v.startsWith('0x') || v.startsWith('-0x') ? Number(BigInt(v.replace('-0x', '0x')) * (v.startsWith('-') ? -1n : 1n)) : Number(v);
  return Number.isSafeInteger(n) ? String(n) : v;
}

export function describeValue(value: string): string {
  const v = value.replace(/^P(?=[a-z\-0-9])/, '');
  if (/^-?(?:\d+|0x[0-9a-f]+)$/.test(v)) return `the number ${num(v)}`;
  if (v === 'fp0' || v === 'fp') return 'the stack frame pointer (r10)';
  if (/^fp-?\d+$/.test(v)) return `a pointer to the stack at ${v}`;
  if (v === 'fp0' || v === 'fp') return 'the stack frame pointer (r10)';
  if (/^fp-?\d+$/.test(v)) return `a pointer to the stack at ${v}`;
  const type = /^[a-z_]+/.exec(v)?.[0] ?? '';
  const map = /map=([\w.]+)/.exec(v)?.[1];
  const off = field(v, 'off');
  const range = /[(,]r=(\d+)/.exec(v)?.[1];
  const mapName = map ? ` of map ${map}` : '';
  if (type.endsWith('_or_null')) return `may be NULL: check it before use (${type.replace(/_or_null$/, '').replace(/_/g, ' ')}${mapName})`;
  switch (type) {
    case 'scalar':
    case 'inv': {
      const umin = num(field(v, 'umin')) ?? num(field(v, 'umin_value'));
      const umax = num(field(v, 'umax')) ?? num(field(v, 'umax_value'));
      const smin = num(field(v, 'smin')) ?? num(field(v, 'smin_value'));
      const smax = num(field(v, 'smax')) ?? num(field(v, 'smax_value'));
      if (umax !== null) return `a number between ${umin ?? (smin !== null && !smin.startsWith('-') ? smin : '0')} and ${umax}`;
      if (smin !== null && smax !== null) return `a number between ${smin} and ${smax}`;
      if (smin !== null && !smin.startsWith('-')) return `a number of at least ${smin}`;
      return 'a number the verifier knows nothing about (any value)';
    }
    case 'map_value':
      return `a pointer into a value${mapName}${off ? `, ${num(off)} bytes in` : ''}: checked, safe to use within the value's size`;
    case 'map_ptr':
      return `the map ${map ?? ''} itself (pass it to a helper)`.replace('  ', ' ');
    case 'ctx':
      return `the context (the packet's __sk_buff)${off && off !== '0' ? `, ${num(off)} bytes in` : ''}`;
    case 'pkt':
      return range !== undefined && range !== '0'
        ? `a pointer into the packet${off ? ` at offset ${num(off)}` : ''}, checked for ${range} bytes from its start`
        : `a pointer into the packet${off ? ` at offset ${num(off)}` : ''}: not checked against data_end yet`;
    case 'pkt_end':
      return 'the end of the packet (data_end)';
    case 'pkt_meta':
      return 'a pointer to the packet metadata';
    case 'fp':
      return 'the stack frame pointer';
    case 'mem':
    case 'rdonly_mem':
      return 'a pointer to memory a helper returned';
    case 'sock':
    case 'sock_common':
    case 'tcp_sock':
      return `a socket pointer (${type})`;
    case 'ptr_':
    case 'ptr':
      return 'a pointer to a kernel object';
    default:
      break;
  }
  if (/^fp-?\d+$/.test(v)) return `a pointer to the stack at ${v}`;
  if (/^[m0?rfi]+$/.test(v)) {
    if (/^0+$/.test(v)) return 'stack bytes: zero';
    if (/^m+$/.test(v)) return 'stack bytes: written (some data)';
    if (v.includes('?')) return 'stack bytes: partly written (the ? bytes are not initialised)';
  }
  return v;
}
