/**
 * Random sources: the crypto-backed one real contexts use, and the helpers that turn any
 * `next()` into UUIDs and trace ids.
 *
 * @module
 */

/** A source of randomness: numbers in [0, 1) and RFC 4122 version 4 UUIDs. */
export interface Random {
  /** A number in [0, 1). */
  next(): number;
  /** A UUID in RFC 4122 version 4 format (`xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx`, N in 8..b). */
  uuid(): string;
}

interface CryptoLike {
  getRandomValues<T extends Uint8Array | Uint32Array>(array: T): T;
  randomUUID?: () => string;
}

function webCrypto(): CryptoLike {
  const crypto = (globalThis as { crypto?: CryptoLike }).crypto;
  if (!crypto || typeof crypto.getRandomValues !== "function") {
    throw new Error("@krepis/core: globalThis.crypto.getRandomValues is not available");
  }
  return crypto;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += HEX[bytes[i]!];
  return out;
}

/** Formats 16 bytes as a version 4 UUID, setting the version and variant bits. */
function formatUuid(bytes: Uint8Array): string {
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return `${hex(bytes, 0, 4)}-${hex(bytes, 4, 6)}-${hex(bytes, 6, 8)}-${hex(bytes, 8, 10)}-${
    hex(bytes, 10, 16)
  }`;
}

/** Fills `bytes` from `next()`, four bytes per call (a 32-bit draw). */
function fillFrom(next: () => number, bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i += 4) {
    const word = Math.floor(next() * 4294967296) >>> 0;
    for (let j = 0; j < 4 && i + j < bytes.length; j++) bytes[i + j] = (word >>> (24 - 8 * j)) & 0xff;
  }
  return bytes;
}

/**
 * A version 4 UUID built from `next()` (four calls): with a seeded `next` the UUIDs are
 * reproducible.
 */
export function uuidFrom(next: () => number): string {
  return formatUuid(fillFrom(next, new Uint8Array(16)));
}

/** A W3C trace-context trace id (32 lowercase hex digits, never all zeros) drawn from `next()`. */
export function traceIdFrom(next: () => number): string {
  for (;;) {
    const id = hex(fillFrom(next, new Uint8Array(16)), 0, 16);
    if (id !== "00000000000000000000000000000000") return id;
  }
}

/**
 * The random source of real contexts: `crypto.getRandomValues` for numbers (53 random bits each),
 * `crypto.randomUUID` for UUIDs where the runtime has it.
 */
export function cryptoRandom(): Random {
  const pool = new Uint32Array(64);
  let index = pool.length;
  const word = (): number => {
    if (index === pool.length) {
      webCrypto().getRandomValues(pool);
      index = 0;
    }
    return pool[index++]!;
  };
  const next = (): number => ((word() >>> 5) * 67108864 + (word() >>> 6)) / 9007199254740992;
  return Object.freeze({
    next,
    uuid(): string {
      const crypto = webCrypto();
      if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
      return formatUuid(crypto.getRandomValues(new Uint8Array(16)));
    },
  });
}
