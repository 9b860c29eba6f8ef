// The test-packet builder (src/core/progtest/packet.ts) and the __sk_buff context (skbContext.ts): header bytes at
// their offsets, lengths, and checksums that verify (a one's complement sum over a header with its checksum is 0),
// against published vectors where there are some.
import * as assert from 'node:assert/strict';
import { buildPacket, describePacket, headersLength, internetChecksum, packetFromHex, PacketError, parseAddress } from '../../../src/core/progtest/packet';
import { ContextError, metaWord, SKB_CONTEXT_SIZE, skbContext } from '../../../src/core/progtest/skbContext';

/** The L4 checksum verifies: sum over pseudo-header and segment gives 0. */
function l4ChecksumVerifies(frame: Buffer): boolean {
  const v4 = frame.readUInt16BE(12) === 0x0800;
  const l4 = 14 + (v4 ? 20 : 40);
  const proto = v4 ? frame[14 + 9] : frame[14 + 6];
  const segment = frame.subarray(l4);
  if (v4 && proto === 1) return internetChecksum(segment) === 0;
  const src = v4 ? frame.subarray(26, 30) : frame.subarray(22, 38);
  const dst = v4 ? frame.subarray(30, 34) : frame.subarray(38, 54);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(segment.length);
  const pseudo = v4 ? Buffer.concat([src, dst, Buffer.from([0, proto]), len.subarray(2)]) : Buffer.concat([src, dst, len, Buffer.from([0, 0, 0, proto])]);
  return internetChecksum(Buffer.concat([pseudo, segment])) === 0;
}

describe('progtest packet builder', () => {
  it('computes the RFC 1071 example checksum', () => {
    // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2, whose complement is 220d.
    assert.equal(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex')), 0x220d);
    // An odd length pads with a zero byte.
    assert.equal(internetChecksum(Buffer.from('01', 'hex')), 0xfeff);
  });

  it('writes the IPv4 header of the well-known example with checksum b861', () => {
    // The IPv4 header from Wikipedia's "Internet checksum" article: 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7.
    const frame = buildPacket({ ip: 'ipv4', proto: 'udp', src: '192.168.0.1', dst: '192.168.0.199', size: 14 + 0x73 });
    assert.equal(frame.subarray(14, 34).toString('hex'), '450000730000400040' + '11b861c0a80001c0a800c7');
  });

  it('builds Ethernet/IPv4/UDP of the requested size with the ports and a valid UDP checksum', () => {
    const frame = buildPacket({ ip: 'ipv4', proto: 'udp', src: '10.0.1.5', dst: '10.0.2.7', sport: 40000, dport: 53, size: 106 });
    assert.equal(frame.length, 106);
    assert.equal(frame.subarray(0, 12).toString('hex'), '020000000002020000000001');
    assert.equal(frame.readUInt16BE(12), 0x0800);
    assert.equal(frame.readUInt16BE(16), 92, 'IPv4 total length: the frame without Ethernet');
    assert.equal(internetChecksum(frame.subarray(14, 34)), 0, 'the IPv4 header checksum verifies');
    assert.deepEqual([...frame.subarray(26, 34)], [10, 0, 1, 5, 10, 0, 2, 7]);
    assert.equal(frame.readUInt16BE(34), 40000);
    assert.equal(frame.readUInt16BE(36), 53);
    assert.equal(frame.readUInt16BE(38), 72, 'UDP length: header and payload');
    assert.notEqual(frame.readUInt16BE(40), 0, 'a UDP checksum is present');
    assert.ok(l4ChecksumVerifies(frame));
    assert.equal(frame[42], 0, 'the payload pattern starts after the headers');
    assert.equal(frame[43], 1);
  });

  it('builds IPv6 TCP with the payload length, next header and a valid checksum', () => {
    const frame = buildPacket({ ip: 'ipv6', proto: 'tcp', src: 'fd00::10', dst: '2001:db8::1:2', sport: 34567, dport: 8080, size: 150, tcpFlags: 'PA' });
    assert.equal(frame.length, 150);
    assert.equal(frame.readUInt16BE(12), 0x86dd);
    assert.equal(frame[14] >> 4, 6);
    assert.equal(frame.readUInt16BE(18), 150 - 54, 'payload length');
    assert.equal(frame[20], 6, 'next header: TCP');
    assert.equal(frame.subarray(22, 38).toString('hex'), 'fd000000000000000000000000000010');
    assert.equal(frame.subarray(38, 54).toString('hex'), '20010db8000000000000000000010002');
    assert.equal(frame[54 + 12] >> 4, 5, 'TCP data offset: 5 words');
    assert.equal(frame[54 + 13], 0x18, 'PSH|ACK');
    assert.ok(l4ChecksumVerifies(frame));
  });

  it('builds ICMP echo requests for both families with valid checksums', () => {
    const v4 = buildPacket({ ip: 'ipv4', proto: 'icmp', size: 98 });
    assert.equal(v4[23], 1, 'protocol ICMP');
    assert.equal(v4[34], 8, 'echo request');
    assert.ok(l4ChecksumVerifies(v4));
    const v6 = buildPacket({ ip: 'ipv6', proto: 'icmp' });
    assert.equal(v6.length, 62, 'default size: the headers alone');
    assert.equal(v6[20], 58, 'next header ICMPv6');
    assert.equal(v6[54], 128, 'ICMPv6 echo request');
    assert.ok(l4ChecksumVerifies(v6), 'ICMPv6 sums over a pseudo-header');
  });

  it('has defaults for everything, and describes a packet', () => {
    const frame = buildPacket({});
    assert.equal(frame.length, headersLength({}));
    assert.equal(frame.length, 42);
    assert.equal(describePacket({ ip: 'ipv6', proto: 'tcp', size: 150 }), 'IPv6 TCP 150 B');
    assert.equal(describePacket({}), 'IPv4 UDP 42 B');
  });

  it('refuses what it cannot build, naming the field', () => {
    assert.throws(() => buildPacket({ size: 20 }), (e: Error) => e instanceof PacketError && /42/.test(e.message));
    assert.throws(() => buildPacket({ ip: 'ipv4', src: 'fd00::1' }), /src "fd00::1": not an IPv4 address/);
    assert.throws(() => buildPacket({ ip: 'ipv6', dst: '10.0.0.1' }), /dst "10.0.0.1": not an IPv6 address/);
    assert.throws(() => buildPacket({ proto: 'icmp', dport: 80 }), /ICMP has no ports/);
    assert.throws(() => buildPacket({ proto: 'tcp', tcpFlags: 'SX' }), /tcpFlags/);
    assert.throws(() => buildPacket({ sport: 70000 }), /sport 70000/);
  });

  it('parses IPv6 addresses with :: and an embedded IPv4 address', () => {
    assert.equal(parseAddress('::', 'ipv6', 'a').toString('hex'), '0'.repeat(32));
    assert.equal(parseAddress('fe80::1:2', 'ipv6', 'a').toString('hex'), 'fe800000000000000000000000010002');
    assert.equal(parseAddress('::ffff:10.0.0.1', 'ipv6', 'a').toString('hex'), '00000000000000000000ffff0a000001');
    assert.equal(parseAddress('1:2:3:4:5:6:7:8', 'ipv6', 'a').toString('hex'), '00010002000300040005000600070008');
  });

  it('takes raw frames in hex, with spaces and colons', () => {
    assert.equal(packetFromHex('ffffffffffff 02:00:00:00:00:01 0806 0001').length, 16);
    assert.throws(() => packetFromHex('abc'), /pairs of hex digits/);
    assert.throws(() => packetFromHex('0001'), /2 bytes/);
  });
});

describe('progtest __sk_buff context', () => {
  it('puts identity | return code << 24 into cb[4] (byte 64) of a 192-byte context, little-endian', () => {
    const ctx = skbContext(12345, 2);
    assert.equal(ctx.length, SKB_CONTEXT_SIZE);
    assert.equal(ctx.readUInt32LE(64), 12345 | (2 << 24));
    assert.equal(ctx.readUInt32LE(64), 0x02003039);
    assert.equal(Buffer.concat([ctx.subarray(0, 64), ctx.subarray(68)]).every((b) => b === 0), true, 'every other field stays zero');
    assert.equal(metaWord(0xffffff, 0xff), 0xffffffff);
  });

  it('refuses identities beyond 24 bits and return codes beyond 8', () => {
    assert.throws(() => metaWord(0x1000000, 0), (e: Error) => e instanceof ContextError && /24 bits/.test(e.message));
    assert.throws(() => metaWord(1, 256), /8 bits/);
    assert.throws(() => metaWord(-1, 0), /identity -1/);
  });
});
