// A minimal protobuf reader/writer for the bridge's messages (proto3: varints, strings, bytes,
// nested messages). The schema is crates/krepis-bridge/proto/krepis_bridge.proto.

export type Field = { number: number; wire: number; varint?: bigint; bytes?: Uint8Array };

export class Writer {
  #bytes: number[] = [];
  #varint(value: bigint) {
    let v = value;
    while (v >= 0x80n) {
      this.#bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#bytes.push(Number(v));
  }
  uint(number: number, value: number | bigint | boolean): this {
    const v = typeof value === "boolean" ? (value ? 1n : 0n) : BigInt(value);
    if (v !== 0n) {
      this.#varint(BigInt(number << 3));
      this.#varint(v);
    }
    return this;
  }
  string(number: number, value: string): this {
    if (value.length > 0) this.bytes(number, new TextEncoder().encode(value));
    return this;
  }
  bytes(number: number, value: Uint8Array): this {
    this.#varint(BigInt((number << 3) | 2));
    this.#varint(BigInt(value.length));
    for (const b of value) this.#bytes.push(b);
    return this;
  }
  finish(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }
}

/** Reads every field of a message, in order. */
export function readFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= bytes.length) throw new Error("truncated protobuf varint");
      const b = bytes[i++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < bytes.length) {
    const key = Number(varint());
    const number = key >> 3;
    const wire = key & 7;
    if (wire === 0) fields.push({ number, wire, varint: varint() });
    else if (wire === 2) {
      const length = Number(varint());
      if (i + length > bytes.length) throw new Error("truncated protobuf field");
      fields.push({ number, wire, bytes: bytes.subarray(i, i + length) });
      i += length;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return fields;
}

const text = (f?: Field) => (f?.bytes ? new TextDecoder().decode(f.bytes) : "");
const num = (f?: Field) => Number(f?.varint ?? 0n);

/** A message's fields by number (the last occurrence wins, as protobuf says). */
export function fieldMap(bytes: Uint8Array): Map<number, Field> {
  return new Map(readFields(bytes).map((f) => [f.number, f]));
}

export const decode = { text, num };
