/**
 * W3C trace-context (`traceparent`) parsing.
 *
 * @module
 */

/** The fields of a valid `traceparent` header. */
export interface Traceparent {
  /** Two hex digits; `00` today. */
  readonly version: string;
  /** 32 lowercase hex digits, not all zeros. */
  readonly trace_id: string;
  /** 16 lowercase hex digits, not all zeros: the caller's span. */
  readonly parent_id: string;
  /** Two hex digits; bit 0 is "sampled". */
  readonly flags: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Parses a `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header).
 * Returns `undefined` for a missing or invalid header: version `ff`, an all-zero trace or parent
 * id, upper-case hex, extra fields in version `00`, or several headers joined with commas.
 */
export function parseTraceparent(header: string | null | undefined): Traceparent | undefined {
  if (typeof header !== "string") return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return undefined;
  const [, version, trace_id, parent_id, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === "ff") return undefined;
  if (version === "00" && rest !== undefined) return undefined;
  if (/^0+$/.test(trace_id) || /^0+$/.test(parent_id)) return undefined;
  return Object.freeze({ version, trace_id, parent_id, flags });
}
