// Test packets as real frames: Ethernet, then IPv4 or IPv6, then TCP, UDP or ICMP, with correct lengths and
// checksums, padded with a byte pattern to the requested size. The kernel's test run parses them like any packet
// (skb->protocol comes from the Ethernet type), so a program that reads headers sees what it would on the wire.
import * as net from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6';
export type L4Protocol = 'tcp' | 'udp' | 'icmp';

export interface PacketSpec {
  ip?: IpFamily;
  proto?: L4Protocol;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  /** The whole frame's length in bytes, Ethernet header included; default: the headers alone. */
  size?: number;
  /** TCP flags as letters (S, A, F, R, P, U); default "S". */
  tcpFlags?: string;
}

export class PacketError extends Error {}

const ETH_LEN = 14;
const IPV4_LEN = 20;
const IPV6_LEN = 40;
const L4_LEN: Record<L4Protocol, number> = { tcp: 20, udp: 8, icmp: 8 };
/** The largest frame a test run takes comfortably (a jumbo frame). */
export const MAX_PACKET_SIZE = 9018;

const DEFAULTS: Record<IpFamily, { src: string; dst: string }> = {
  ipv4: { src: '10.0.0.1', dst: '10.0.0.2' },
  ipv6: { src: 'fd00::1', dst: 'fd00::2' },
};

/** The frame length of `spec` without payload. */
export function headersLength(spec: Pick<PacketSpec, 'ip' | 'proto'>): number {
  return ETH_LEN + ((spec.ip ?? 'ipv4') === 'ipv4' ? IPV4_LEN : IPV6_LEN) + L4_LEN[spec.proto ?? 'udp'];
}

/** A short description for reports: "IPv4 UDP 106 B". */
export function describePacket(spec: PacketSpec): string {
  const ip = (spec.ip ?? 'ipv4') === 'ipv4' ? 'IPv4' : 'IPv6';
  return `${ip} ${(spec.proto ?? 'udp').toUpperCase()} ${spec.size ?? headersLength(spec)} B`;
}

export function buildPacket(spec: PacketSpec): Buffer {
  const ip = spec.ip ?? 'ipv4';
  const proto = spec.proto ?? 'udp';
  const src = parseAddress(spec.src ?? DEFAULTS[ip].src, ip, 'src');
  const dst = parseAddress(spec.dst ?? DEFAULTS[ip].dst, ip, 'dst');
  const minimum = headersLength({ ip, proto });
  const size = spec.size ?? minimum;
  if (!Number.isInteger(size) || size < minimum || size > MAX_PACKET_SIZE) {
    throw new PacketError(`packet size ${size}: expected ${minimum} (the headers of ${ip} ${proto}) to ${MAX_PACKET_SIZE} bytes`);
  }
  const frame = Buffer.alloc(size);
  // Payload first (a recognisable pattern), headers over it.
  for (let i = minimum; i < size; i++) frame[i] = (i - minimum) & 0xff;
  // Locally administered MACs: 02:00:00:00:00:02 <- 02:00:00:00:00:01.
  Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]).copy(frame, 0);
  frame.writeUInt16BE(ip === 'ipv4' ? 0x0800 : 0x86dd, 12);
  const l3 = ETH_LEN;
  const l4 = l3 + (ip === 'ipv4' ? IPV4_LEN : IPV6_LEN);
  const l4Length = size - l4;
  const protoNumber = proto === 'tcp' ? 6 : proto === 'udp' ? 17 : ip === 'ipv4' ? 1 : 58;
  if (ip === 'ipv4') {
    frame[l3] = 0x45;
    frame.writeUInt16BE(size - l3, l3 + 2);
    // identification 0: what Linux sends with DF set
    frame.writeUInt16BE(0x4000, l3 + 6); // don't fragment
    frame[l3 + 8] = 64;
    frame[l3 + 9] = protoNumber;
    src.copy(frame, l3 + 12);
    dst.copy(frame, l3 + 16);
    frame.writeUInt16BE(internetChecksum(frame.subarray(l3, l3 + IPV4_LEN)), l3 + 10);
  } else {
    frame.writeUInt32BE(0x60000000, l3);
    frame.writeUInt16BE(l4Length, l3 + 4);
    frame[l3 + 6] = protoNumber;
    frame[l3 + 7] = 64;
    src.copy(frame, l3 + 8);
    dst.copy(frame, l3 + 24);
  }
  let checksumAt: number;
  if (proto === 'udp') {
    frame.writeUInt16BE(port(spec.sport ?? 12345, 'sport'), l4);
    frame.writeUInt16BE(port(spec.dport ?? 80, 'dport'), l4 + 2);
    frame.writeUInt16BE(l4Length, l4 + 4);
    checksumAt = l4 + 6;
  } else if (proto === 'tcp') {
    frame.writeUInt16BE(port(spec.sport ?? 12345, 'sport'), l4);
    frame.writeUInt16BE(port(spec.dport ?? 80, 'dport'), l4 + 2);
    frame.writeUInt32BE(1, l4 + 4); // sequence number
    frame[l4 + 12] = 5 << 4; // data offset: 5 words
    frame[l4 + 13] = tcpFlags(spec.tcpFlags ?? 'S');
    frame.writeUInt16BE(65535, l4 + 14); // window
    checksumAt = l4 + 16;
  } else {
    if (spec.sport !== undefined || spec.dport !== undefined) throw new PacketError('ICMP has no ports: leave out sport and dport');
    frame[l4] = ip === 'ipv4' ? 8 : 128; // echo request
    frame.writeUInt16BE(1, l4 + 4); // identifier
    frame.writeUInt16BE(1, l4 + 6); // sequence number
    checksumAt = l4 + 2;
  }
  // ICMPv4 has no pseudo-header; UDP, TCP and ICMPv6 do.
  const pseudo = proto === 'icmp' && ip === 'ipv4' ? Buffer.alloc(0) : pseudoHeader(src, dst, protoNumber, l4Length);
  let sum = internetChecksum(Buffer.concat([pseudo, frame.subarray(l4)]));
  if (proto === 'udp' && sum === 0) sum = 0xffff; // 0 means "no checksum" in UDP
  frame.writeUInt16BE(sum, checksumAt);
  return frame;
}

/** A frame given as hex (whitespace and colons allowed). */
export function packetFromHex(hex: string): Buffer {
  const digits = hex.replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(digits)) throw new PacketError('packet hex: expected pairs of hex digits');
  const frame = Buffer.from(digits, 'hex');
  if (frame.length < ETH_LEN || frame.length > MAX_PACKET_SIZE) throw new PacketError(`packet hex: ${frame.length} bytes, expected ${ETH_LEN} to ${MAX_PACKET_SIZE}`);
  return frame;
}

/** The 16-bit one's complement of the one's complement sum (RFC 1071). */
export function internetChecksum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length % 2) sum += data[data.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudoHeader(src: Buffer, dst: Buffer, proto: number, length: number): Buffer {
  if (src.length === 4) {
    const p = Buffer.alloc(12);
    src.copy(p, 0);
    dst.copy(p, 4);
    p[9] = proto;
    p.writeUInt16BE(length, 10);
    return p;
  }
  const p = Buffer.alloc(40);
  src.copy(p, 0);
  dst.copy(p, 16);
  p.writeUInt32BE(length, 32);
  p[39] = proto;
  return p;
}

function port(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new PacketError(`${name} ${value}: expected 0 to 65535`);
  return value;
}

function tcpFlags(letters: string): number {
  const bits: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20 };
  let flags = 0;
  for (const letter of letters.toUpperCase()) {
    if (!(letter in bits)) throw new PacketError(`tcpFlags ${JSON.stringify(letters)}: expected letters of F, S, R, P, A, U`);
    flags |= bits[letter];
  }
  return flags;
}

/** An address of the given family as its bytes. */
export function parseAddress(text: string, family: IpFamily, name: string): Buffer {
  if (family === 'ipv4') {
    if (!net.isIPv4(text)) throw new PacketError(`${name} ${JSON.stringify(text)}: not an IPv4 address`);
    return Buffer.from(text.split('.').map(Number));
  }
  if (!net.isIPv6(text) || text.includes('%')) throw new PacketError(`${name} ${JSON.stringify(text)}: not an IPv6 address`);
  let groups = text;
  // An embedded IPv4 address (::ffff:10.0.0.1) is two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    groups = `${groups.slice(0, -v4[1].length)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = groups.split('::');
  const words = (s: string | undefined) => (s ? s.split(':') : []);
  const left = words(head);
  const right = words(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((w, i) => bytes.writeUInt16BE(parseInt(w, 16), i * 2));
  return bytes;
}
