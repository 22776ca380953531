/**
 * A real OTLP/HTTP trace receiver on 127.0.0.1 for tests: accepts `POST /v1/traces` in both
 * encodings Crucible's exporters send (OTLP's JSON, ids in hex; or protobuf, decoded here from the
 * wire format) and keeps every span with its resource's attributes, so a test can read a whole
 * trace back across processes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeOtlpProtobuf } from './otlp-protobuf.js';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  /** The exporting process's resource (service.name, crucible.role...). */
  resource: Record<string, unknown>;
}

export interface OtlpKeyValue {
  key: string;
  value: Record<string, unknown>;
}

/** OTLP's ExportTraceServiceRequest as JSON (the protobuf decoder produces the same shape). */
export interface OtlpTraceRequest {
  resourceSpans?: Array<{ resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>;
}

const ENCODINGS: Record<string, (body: Buffer) => OtlpTraceRequest> = {
  'application/json': (body) => JSON.parse(body.toString('utf8')) as OtlpTraceRequest,
  'application/x-protobuf': decodeOtlpProtobuf,
};

function flatten(attributes: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of attributes ?? []) out[key] = Object.values(value)[0];
  return out;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests that were not a well-formed OTLP export. */
  readonly rejected: string[] = [];
  /** The content type of every export accepted, in arrival order. */
  readonly contentTypes: string[] = [];
  private constructor(
    private readonly server: http.Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | null = null;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const contentType = String(req.headers['content-type']).split(';')[0]!.trim();
        const decode = ENCODINGS[contentType];
        if (req.method !== 'POST' || req.url !== '/v1/traces' || !decode) {
          receiver!.rejected.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
          res.writeHead(404).end();
          return;
        }
        receiver!.contentTypes.push(contentType);
        receiver!.accept(decode(Buffer.concat(chunks)));
        // An empty ExportTraceServiceResponse, in the request's encoding.
        res.writeHead(200, { 'content-type': contentType }).end(contentType === 'application/json' ? '{}' : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  private accept(request: OtlpTraceRequest): void {
    for (const rs of request.resourceSpans ?? []) {
      const resource = flatten(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: String(s.traceId),
            spanId: String(s.spanId),
            parentSpanId: String(s.parentSpanId ?? ''),
            name: String(s.name),
            kind: Number(s.kind),
            attributes: flatten(s.attributes as OtlpKeyValue[] | undefined),
            resource,
          });
        }
      }
    }
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
