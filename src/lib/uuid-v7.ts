import { randomFillSync } from 'node:crypto';

/** Random bytes per id: 74 random bits, rounded up (the version and variant bits overwrite the rest). */
const RANDOM_BYTES_PER_ID = 10;
/**
 * Randomness is drawn for 256 ids at once: one `randomFillSync` of 16 bytes cost more than the rest of the id
 * (and than the audit event's SHA-256). Ids are not secrets; Node's own `randomUUID` pools the same way.
 */
const POOL_BYTES = RANDOM_BYTES_PER_ID * 256;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

let pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * A UUID version 7 (RFC 9562): the Unix time in milliseconds in the first 48 bits, then 74 random bits. Ids made
 * later sort later, so an index over them grows at its right edge: for the audit trail's unique event id that cut
 * the insert's cost per row by about a third against random (v4) ids, which land on a random index page each.
 */
export function uuidV7(nowMs: number): string {
  if (offset + RANDOM_BYTES_PER_ID > POOL_BYTES) {
    pool = randomFillSync(pool);
    offset = 0;
  }
  const r = offset;
  offset += RANDOM_BYTES_PER_ID;
  const time = Math.max(0, Math.min(Math.trunc(nowMs), 2 ** 48 - 1))
    .toString(16)
    .padStart(12, '0');
  const byte = (i: number) => HEX[pool[r + i] as number] as string;
  const version = HEX[((pool[r] as number) & 0x0f) | 0x70] as string;
  const variant = HEX[((pool[r + 2] as number) & 0x3f) | 0x80] as string;
  return (
    `${time.slice(0, 8)}-${time.slice(8)}-${version}${byte(1)}-${variant}${byte(3)}-` +
    `${byte(4)}${byte(5)}${byte(6)}${byte(7)}${byte(8)}${byte(9)}`
  );
}
