/**
 * An evaluation as a streamed JSON body: the record is checked against the response schema and
 * written field by field in its order, with `stdout` and `stderr` written piece by piece as they
 * come from storage. An evaluation with 16 MiB streams would otherwise be held several times
 * over (the strings, the JSON string, the bytes for the socket) while a client reads it.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Evaluation } from '../domain/evaluation.js';
import type { EvaluationRead } from '../app/evaluation-service.js';

/** Text per JSON string piece, so no piece of a large output is ever encoded whole. */
const PIECE_CHARS = 256 * 1024;

export function sendEvaluationJson(reply: FastifyReply, read: EvaluationRead): FastifyReply {
  // The same check the response serializer makes; the output strings are filled in below.
  const record = Evaluation.parse(read.evaluation);
  return reply.type('application/json; charset=utf-8').send(Readable.from(evaluationJson(record, read), { highWaterMark: 2 }));
}

async function* evaluationJson(record: Evaluation, read: EvaluationRead): AsyncGenerator<Buffer> {
  let separator = '{';
  for (const [key, value] of Object.entries(record)) {
    const name = `${separator}${JSON.stringify(key)}:`;
    separator = ',';
    if (key === 'stdout' || key === 'stderr') {
      yield Buffer.from(`${name}"`, 'utf8');
      for await (const piece of read[key]) yield* jsonStringBody(piece);
      yield Buffer.from('"', 'utf8');
    } else {
      yield Buffer.from(name + JSON.stringify(value), 'utf8');
    }
  }
  yield Buffer.from('}', 'utf8');
}

/** A piece of text escaped as the inside of a JSON string (a surrogate pair split across pieces is escaped half by half, which JSON reads back as the pair). */
function* jsonStringBody(text: string): Generator<Buffer> {
  for (let at = 0; at < text.length; at += PIECE_CHARS) {
    const quoted = JSON.stringify(text.slice(at, at + PIECE_CHARS));
    yield Buffer.from(quoted.slice(1, -1), 'utf8');
  }
}
