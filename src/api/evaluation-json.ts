/**
 * An evaluation as the JSON body of a read. A small one (the common case) is one string through
 * the route's serializer. One with large output is streamed: the record is checked against the
 * response schema, and `stdout` and `stderr` are written piece by piece as they come from storage.
 * An evaluation with 16 MiB streams would otherwise be held several times over (the strings, the
 * JSON string, the bytes for the socket) while a client reads it.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Evaluation } from '../domain/evaluation.js';
import type { EvaluationRead, OutputPieces } from '../app/evaluation-service.js';

/**
 * Text per JSON string piece, so no piece of a large output is ever encoded whole; also the size
 * a chunk is gathered to, so the fields around the output go out in a few chunks, not one each.
 * Small enough that the strings made on the way stay out of V8's large-object space (over 128 KiB),
 * which only a full collection frees (storage's pieces are as small: output-pieces.ts).
 */
const PIECE_CHARS = 32 * 1024;

export function sendEvaluation(reply: FastifyReply, read: EvaluationRead): FastifyReply {
  if (!read.pieces) return reply.send(read.evaluation);
  // The same check the response serializer makes; the output strings are filled in below.
  const record = Evaluation.parse(read.evaluation);
  return reply.type('application/json; charset=utf-8').send(Readable.from(evaluationJson(record, read.pieces), { highWaterMark: 2 }));
}

async function* evaluationJson(record: Evaluation, pieces: OutputPieces): AsyncGenerator<Buffer> {
  let pending = '{';
  let separator = '';
  for (const [key, value] of Object.entries(record)) {
    pending += `${separator}${JSON.stringify(key)}:`;
    separator = ',';
    if (key !== 'stdout' && key !== 'stderr') {
      pending += JSON.stringify(value);
      continue;
    }
    pending += '"';
    for await (const piece of pieces[key]) {
      for (let at = 0; at < piece.length; at += PIECE_CHARS) {
        // A surrogate pair split across pieces is escaped half by half, which JSON reads back as the pair.
        pending += JSON.stringify(piece.slice(at, at + PIECE_CHARS)).slice(1, -1);
        if (pending.length >= PIECE_CHARS) {
          yield Buffer.from(pending, 'utf8');
          pending = '';
        }
      }
    }
    pending += '"';
  }
  yield Buffer.from(`${pending}}`, 'utf8');
}
