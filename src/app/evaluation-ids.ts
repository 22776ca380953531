/**
 * Time-sortable evaluation ids: `ev_` + a 26-character ULID (48-bit millisecond timestamp and 80
 * random bits, Crockford base32). Sorting ids as strings sorts them by creation time, which is the
 * tie-breaker of the newest-first listing. Ids made in the same millisecond by this process
 * increase monotonically (the random part is incremented), so they keep their creation order too.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

let lastTime = -1;
let lastRandom: number[] = [];

function randomDigits(): number[] {
  const bytes = randomBytes(RANDOM_CHARS);
  return Array.from(bytes, (b) => b & 31);
}

/** Adds one to a base-32 digit array; false on overflow (2^80 ids in one millisecond). */
function increment(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

export function ulid(now: number = Date.now()): string {
  let time = now;
  if (time <= lastTime) {
    // Same millisecond (or the clock stepped back): stay on the last time, bump the random part.
    time = lastTime;
    if (!increment(lastRandom)) {
      time = lastTime + 1;
      lastRandom = randomDigits();
    }
  } else {
    lastRandom = randomDigits();
  }
  lastTime = time;

  let timePart = '';
  let t = time;
  for (let i = 0; i < TIME_CHARS; i++) {
    timePart = ALPHABET[t % 32]! + timePart;
    t = Math.floor(t / 32);
  }
  return timePart + lastRandom.map((d) => ALPHABET[d]!).join('');
}

export function newEvaluationId(now?: number): string {
  return `ev_${ulid(now)}`;
}
