/**
 * Decodes an OTLP ExportTraceServiceRequest from protobuf's wire format into the shape of OTLP's
 * JSON encoding (ids as hex, attributes as `{ key, value: { stringValue | intValue | ... } }`), so
 * the test receiver reads both encodings the same way. Only the fields the tests look at are
 * mapped (field numbers from opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto);
 * the others are skipped by their wire type, as any protobuf reader does.
 */
import type { OtlpKeyValue, OtlpTraceRequest } from './otlp-receiver.js';

type Field = { n: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let value = 0n;
  for (let shift = 0n; ; shift += 7n) {
    if (at >= buf.length) throw new Error('truncated varint');
    const byte = buf[at++]!;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, at];
  }
}

/** The fields of one message, in order (repeated fields appear once each). */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = readVarint(buf, at);
    at = next;
    const n = Number(tag >> 3n);
    switch (Number(tag & 7n)) {
      case 0: {
        const [varint, after] = readVarint(buf, at);
        out.push({ n, varint });
        at = after;
        break;
      }
      case 1:
        out.push({ n, fixed: buf.subarray(at, at + 8) });
        at += 8;
        break;
      case 2: {
        const [length, after] = readVarint(buf, at);
        const end = after + Number(length);
        if (end > buf.length) throw new Error('truncated length-delimited field');
        out.push({ n, bytes: buf.subarray(after, end) });
        at = end;
        break;
      }
      case 5:
        out.push({ n, fixed: buf.subarray(at, at + 4) });
        at += 4;
        break;
      default:
        throw new Error(`wire type ${Number(tag & 7n)} is not protobuf`);
    }
  }
  return out;
}

const all = (fs: Field[], n: number) => fs.filter((f) => f.n === n);
const one = (fs: Field[], n: number) => fs.find((f) => f.n === n);

function anyValue(buf: Buffer): Record<string, unknown> {
  const f = fields(buf)[0];
  if (!f) return {};
  if (f.n === 1) return { stringValue: f.bytes!.toString('utf8') };
  if (f.n === 2) return { boolValue: f.varint !== 0n };
  if (f.n === 3) return { intValue: Number(BigInt.asIntN(64, f.varint!)) };
  if (f.n === 4) return { doubleValue: f.fixed!.readDoubleLE(0) };
  return { unmapped: f.n };
}

function keyValues(fs: Field[], n: number): OtlpKeyValue[] {
  return all(fs, n).map((kv) => {
    const parts = fields(kv.bytes!);
    return { key: one(parts, 1)?.bytes?.toString('utf8') ?? '', value: anyValue(one(parts, 2)?.bytes ?? Buffer.alloc(0)) };
  });
}

function span(buf: Buffer): Record<string, unknown> {
  const fs = fields(buf);
  return {
    traceId: one(fs, 1)?.bytes?.toString('hex') ?? '',
    spanId: one(fs, 2)?.bytes?.toString('hex') ?? '',
    parentSpanId: one(fs, 4)?.bytes?.toString('hex') ?? '',
    name: one(fs, 5)?.bytes?.toString('utf8') ?? '',
    kind: Number(one(fs, 6)?.varint ?? 0n),
    attributes: keyValues(fs, 9),
  };
}

export function decodeOtlpProtobuf(body: Buffer): OtlpTraceRequest {
  return {
    resourceSpans: all(fields(body), 1).map((rs) => {
      const rsFields = fields(rs.bytes!);
      const resource = one(rsFields, 1);
      return {
        resource: { attributes: resource ? keyValues(fields(resource.bytes!), 1) : [] },
        scopeSpans: all(rsFields, 2).map((ss) => ({ spans: all(fields(ss.bytes!), 2).map((s) => span(s.bytes!)) })),
      };
    }),
  };
}
