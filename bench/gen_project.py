#!/usr/bin/env python3
"""Generate a synthetic, layered TypeScript (Deno-style) project for benchmarking.

    python3 bench/gen_project.py OUT_DIR [--files 5000] [--seed 1] [--violations 0.05]

The project follows the Krepis conventions: bounded contexts under `src/<context>/` with `domain/`,
`application/`, `infrastructure/` and `adapters/` layers, a `src/shared/` kernel and a `src/main.ts`
composition root. Imports only point "down" the layering and only at files that exist, and every
import goes to a file generated earlier, so the import graph has no cycles. Every async function
takes `ctx: KrepisContext` first and passes it on, so a clean project produces no diagnostics.

With probability --violations per file, exactly one violation is injected (kinds: an async function
without ctx, a domain file importing an infrastructure file, an `AsyncLocalStorage` import). The
list of injected violations is written to OUT_DIR/bench-violations.json so the linter's output can
be checked against it. The output is a pure function of the arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import posixpath
import random
import re
import sys
import textwrap
import time
from dataclasses import dataclass, field

CORE = "@krepis/core"

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

CONTEXTS = [
    ("orders", ["Order", "Cart", "Checkout", "Quote", "Basket", "Reservation", "Backorder", "Subscription"]),
    ("billing", ["Invoice", "Payment", "Refund", "CreditNote", "Statement", "Charge", "Dunning", "TaxRecord"]),
    ("inventory", ["StockItem", "Warehouse", "Bin", "Lot", "Transfer", "Adjustment", "Replenishment", "CycleCount"]),
    ("shipping", ["Shipment", "Parcel", "Carrier", "Route", "Manifest", "Label", "Pickup", "Delivery"]),
    ("identity", ["Account", "Session", "Credential", "Role", "Invitation", "Team", "Permission", "ApiKey"]),
    ("catalog", ["Product", "Variant", "Category", "Brand", "Attribute", "Listing", "Bundle", "MediaAsset"]),
    ("pricing", ["PriceList", "Discount", "Coupon", "Promotion", "TaxRule", "PriceRule", "Markdown", "Voucher"]),
    ("payments", ["PaymentIntent", "Payout", "Dispute", "Mandate", "Wallet", "Settlement", "Chargeback", "Transfer"]),
    ("notifications", ["Notification", "Template", "Channel", "Digest", "Subscription", "Broadcast", "Preference", "Campaign"]),
    ("reviews", ["Review", "Rating", "Moderation", "AbuseReport", "Reply", "Flag", "Survey", "Testimonial"]),
    ("fulfillment", ["PickList", "PackJob", "Wave", "Tote", "Task", "Station", "Slot", "Dock"]),
    ("returns", ["ReturnRequest", "Inspection", "Exchange", "Rma", "Restock", "Claim", "ReturnLabel", "StoreCredit"]),
    ("loyalty", ["Member", "Tier", "Reward", "PointsLedger", "Redemption", "Badge", "Challenge", "Referral"]),
    ("support", ["Ticket", "Conversation", "Macro", "Escalation", "Sla", "Responder", "Queue", "Feedback"]),
    ("analytics", ["Metric", "Dashboard", "Segment", "Cohort", "Funnel", "Experiment", "Report", "Alert"]),
    ("search", ["SearchIndex", "Synonym", "SavedQuery", "Facet", "Ranking", "Suggestion", "Boost", "Collection"]),
    ("procurement", ["PurchaseOrder", "Supplier", "Requisition", "Contract", "GoodsReceipt", "Rfq", "Bid", "Approval"]),
    ("accounting", ["JournalEntry", "Ledger", "GlAccount", "Period", "Reconciliation", "Budget", "CostCenter", "Accrual"]),
    ("scheduling", ["Appointment", "Shift", "Calendar", "Booking", "Availability", "Resource", "TimeSlot", "Reminder"]),
    ("marketing", ["Campaign", "Audience", "Newsletter", "LandingPage", "Lead", "Offer", "Banner", "Sponsorship"]),
    ("compliance", ["Audit", "Policy", "Consent", "Retention", "Incident", "Control", "Evidence", "Finding"]),
    ("documents", ["Document", "Folder", "Revision", "Signature", "Attachment", "Share", "Archive", "Watermark"]),
    ("fleet", ["Vehicle", "Driver", "Trip", "Maintenance", "FuelLog", "Inspection", "Assignment", "Depot"]),
    ("tenancy", ["Tenant", "Plan", "Quota", "Usage", "Feature", "Region", "CustomDomain", "Limit"]),
]

QUALIFIERS = [
    "", "Draft", "Recurring", "Scheduled", "Bulk", "Partial", "Regional", "Corporate", "Priority",
    "Internal", "External", "Seasonal", "Express", "Legacy", "Digital", "Manual", "Automated",
    "Shared", "Global", "Local", "Composite", "Deferred", "Pooled", "Tiered",
]

# Status machines: statuses (first is initial) and moves (from, to, verb). A verb names the entity
# method that performs the move, so one verb always leads to the same target status.
STATUS_SETS = [
    (["draft", "submitted", "approved", "rejected", "cancelled"],
     [("draft", "submitted", "submit"), ("submitted", "approved", "approve"), ("submitted", "rejected", "reject"),
      ("draft", "cancelled", "cancel"), ("submitted", "cancelled", "cancel")]),
    (["pending", "active", "suspended", "closed"],
     [("pending", "active", "activate"), ("suspended", "active", "activate"), ("active", "suspended", "suspend"),
      ("active", "closed", "close"), ("suspended", "closed", "close")]),
    (["open", "in_progress", "resolved", "archived"],
     [("open", "in_progress", "start"), ("in_progress", "resolved", "resolve"), ("resolved", "archived", "archive"),
      ("open", "archived", "archive")]),
    (["new", "reserved", "picked", "shipped", "delivered", "failed"],
     [("new", "reserved", "reserve"), ("reserved", "picked", "pick"), ("picked", "shipped", "ship"),
      ("shipped", "delivered", "deliver"), ("shipped", "failed", "fail"), ("reserved", "failed", "fail")]),
    (["scheduled", "running", "completed", "expired"],
     [("scheduled", "running", "start"), ("running", "completed", "complete"), ("scheduled", "expired", "expire"),
      ("running", "expired", "expire")]),
    (["unpublished", "published", "retired"],
     [("unpublished", "published", "publish"), ("published", "retired", "retire"), ("unpublished", "retired", "retire")]),
    (["requested", "confirmed", "settled", "voided"],
     [("requested", "confirmed", "confirm"), ("confirmed", "settled", "settle"), ("requested", "voided", "annul"),
      ("confirmed", "voided", "annul")]),
]

FIELD_POOL = {
    "str": ["title", "reference", "description", "ownerId", "region", "channel", "externalRef", "label",
            "code", "locale", "category", "sourceSystem"],
    "num": ["quantity", "amountCents", "priority", "weightGrams", "discountBps", "capacity", "score",
            "durationMinutes", "retryCount", "sequence", "unitCount", "thresholdCents"],
    "bool": ["flagged", "taxable", "requiresReview", "internal", "autoRenew", "pinned"],
    "list": [("tags", "Tag"), ("lineCodes", "LineCode"), ("approvers", "Approver"), ("attachments", "Attachment"),
             ("aliases", "Alias"), ("watchers", "Watcher")],
    "optnum": ["expiresAt", "dueAt", "closedAt", "limitCents", "reminderAt"],
    "optstr": ["notes", "cancellationReason", "assignee", "parentRef", "externalUrl"],
}
TS_TYPE = {"str": "string", "num": "number", "bool": "boolean", "list": "readonly string[]",
           "optnum": "number | null", "optstr": "string"}

NOUNS = ["Window", "Threshold", "Allowance", "Budget", "Span", "Quota", "Weight", "Margin", "Ceiling",
         "Floor", "Buffer", "Interval", "Share", "Tolerance", "Score", "Bracket", "Cap", "Band", "Step"]
SUFFIXES = ["Summary", "Digest", "Overview", "Breakdown", "Snapshot", "Profile", "Outline", "Report"]

DOC_SENTENCES = [
    "Keep this module free of side effects; callers rely on it for replayable decisions.",
    "The rules below mirror the ones agreed with the operations team.",
    "Values are kept in minor units to avoid rounding surprises.",
    "Anything that needs the network or the clock goes through the context or a port.",
    "Changes here usually need a matching migration of the read model.",
    "This is the only place that knows how the wire format maps onto the domain.",
    "Limits are deliberately conservative; raise them per tenant through configuration.",
    "All functions are total: invalid input is reported, never thrown.",
    "Ordering is stable so that paginated reads do not skip or repeat items.",
    "The tenant id from the context scopes every read and write.",
    "Retries are safe because every write is idempotent on (tenant, id, version).",
    "See the context map in the architecture notes for how this fits the rest of the system.",
]

MAX_CONTEXT_NAMES = len(CONTEXTS)

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

_MARK = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)@")


def sub(template: str, d: dict) -> str:
    """Fill `@name@` markers; `@` never needs escaping in the TypeScript we write."""
    return _MARK.sub(lambda m: str(d[m.group(1)]), template)


def block(template: str, d: dict) -> str:
    return sub(textwrap.dedent(template).strip("\n"), d) + "\n"


def camel(pascal: str) -> str:
    return pascal[0].lower() + pascal[1:]


def pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\-]", name) if p)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def kebab(name: str) -> str:
    return snake(name).replace("_", "-")


def human(name: str) -> str:
    return snake(name).replace("_", " ")


def plural(word: str) -> str:
    if re.search(r"(s|x|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def rel(from_path: str, to_path: str) -> str:
    r = posixpath.relpath(to_path, posixpath.dirname(from_path))
    return r if r.startswith("../") else "./" + r


# Strip comments and string text (keeping `${...}` expressions) so that the identifier scan below
# does not import names that only appear in prose.
_SCRUB = re.compile(
    r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`", re.S)
_TEMPLATE_EXPR = re.compile(r"\$\{([^}]*)\}")
# An identifier not used as `obj.prop` (but `...spread` is fine) and not an object key / parameter name.
_IDENT = re.compile(r"(?<![\w$])(?:(?<=\.\.\.)|(?<!\.))([A-Za-z_$][\w$]*)(?![\w$])(?!\s*\??:(?!:))")
_LOCAL = re.compile(r"\b(?:class|interface|type|function|const|let|var|enum)\s+([A-Za-z_$][\w$]*)")
_EXPORT = re.compile(
    r"^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(class|interface|type|function|const|let)\s+([A-Za-z_$][\w$]*)",
    re.M)


def _scrub_repl(m: re.Match) -> str:
    s = m.group(0)
    if s.startswith("`"):
        return " " + " ".join(_TEMPLATE_EXPR.findall(s)) + " "
    return " "


def used_identifiers(body: str) -> set[str]:
    code = _SCRUB.sub(_scrub_repl, body)
    return set(_IDENT.findall(code)) - set(_LOCAL.findall(code))


# --------------------------------------------------------------------------------------------
# Project model
# --------------------------------------------------------------------------------------------

@dataclass
class Field:
    name: str
    kind: str
    singular: str = ""

    @property
    def ts(self) -> str:
        return TS_TYPE[self.kind]

    @property
    def col(self) -> str:
        return snake(self.name)

    @property
    def cap(self) -> str:
        return self.name[0].upper() + self.name[1:]


@dataclass
class Agg:
    context: str
    name: str  # PascalCase
    statuses: list
    moves: list
    fields: list
    verbs: list  # unique (verb, target) pairs
    cmd_verb: str
    has_create: bool
    has_list: bool
    has_consumer: bool
    has_oracle: bool
    partner: "Agg | None" = None
    paths: dict = field(default_factory=dict)

    @property
    def a(self) -> str:
        return camel(self.name)

    @property
    def k(self) -> str:
        return kebab(self.name)

    @property
    def up(self) -> str:
        return snake(self.name).upper()

    @property
    def terminal(self) -> list:
        sources = {m[0] for m in self.moves}
        return [s for s in self.statuses if s not in sources]

    def fields_of(self, *kinds) -> list:
        return [f for f in self.fields if f.kind in kinds]

    def d(self, **extra) -> dict:
        d = {
            "A": self.name, "a": self.a, "k": self.k, "UP": self.up, "c": self.context, "C": pascal(self.context),
            "As": plural(self.name), "as_": plural(self.a), "ks": plural(self.k), "h": human(self.name),
            "hs": plural(human(self.name)), "s0": self.statuses[0], "table": f"{snake(self.context)}_{plural(snake(self.name))}",
            "V": self.cmd_verb.capitalize(), "v": self.cmd_verb,
        }
        d.update(extra)
        return d


@dataclass
class Slot:
    path: str
    kind: str
    agg: Agg | None = None
    context: str = ""


def plan(n_files: int, rng: random.Random) -> list[Slot]:
    shared = [Slot(f"src/shared/{name}.ts", "shared:" + name) for name in SHARED_ORDER]
    budget = n_files - len(shared) - 1  # main.ts comes last
    if budget < 8:
        raise SystemExit(f"--files must be at least {len(shared) + 9}")

    n_ctx = max(1, min(round(n_files / 220), 4 * MAX_CONTEXT_NAMES))
    contexts = []
    for i in range(n_ctx):
        name, nouns = CONTEXTS[i % MAX_CONTEXT_NAMES]
        if i >= MAX_CONTEXT_NAMES:
            name = f"{name}{i // MAX_CONTEXT_NAMES + 1}"
        combos = [q + noun for q in QUALIFIERS for noun in nouns]
        rng.shuffle(combos)
        # Plain nouns first: "Order" reads better than "LegacyOrder" as the first aggregate.
        combos.sort(key=lambda c: 0 if c in nouns else 1)
        contexts.append({"name": name, "names": combos, "aggs": []})

    total = len(contexts)  # one mod.ts per context
    added: list[tuple[dict, Agg, list]] = []
    i = 0
    while total < budget:
        ctx = contexts[i % len(contexts)]
        i += 1
        if not ctx["names"]:
            if all(not c["names"] for c in contexts):
                raise SystemExit("too many files requested for the vocabulary")
            continue
        agg = make_agg(ctx, ctx["names"].pop(0), rng)
        slots = agg_slots(agg)
        ctx["aggs"].append((agg, slots))
        added.append((ctx, agg, slots))
        total += len(slots)
    # Trim the tail of the last aggregate: later files never import an aggregate's tail.
    excess = total - budget
    if excess:
        ctx, agg, slots = added[-1]
        del slots[len(slots) - excess:]

    out = list(shared)
    for ctx in contexts:
        if not ctx["aggs"]:
            continue
        for agg, slots in ctx["aggs"]:
            out.extend(slots)
        out.append(Slot(f"src/{ctx['name']}/mod.ts", "mod", context=ctx["name"]))
    out.append(Slot("src/main.ts", "main"))
    assert len(out) == n_files, (len(out), n_files)
    return out


def make_agg(ctx: dict, name: str, rng: random.Random) -> Agg:
    statuses, moves = rng.choice(STATUS_SETS)
    verbs = []
    for _, to, verb in moves:
        if (verb, to) not in verbs:
            verbs.append((verb, to))
    fields = []
    picks = [("str", rng.randint(1, 2)), ("num", rng.randint(1, 2)), ("bool", rng.randint(0, 1)),
             ("list", rng.randint(0, 1)), ("optnum", rng.randint(0, 1)), ("optstr", rng.randint(0, 1))]
    for kind, count in picks:
        for entry in rng.sample(FIELD_POOL[kind], count):
            if kind == "list":
                fields.append(Field(entry[0], kind, entry[1]))
            else:
                fields.append(Field(entry, kind))
    prior = [agg for agg, _ in ctx["aggs"]]
    agg = Agg(
        context=ctx["name"], name=name, statuses=statuses, moves=moves, fields=fields, verbs=verbs,
        cmd_verb=rng.choice(verbs)[0], has_create=rng.random() < 0.6, has_list=rng.random() < 0.5,
        has_consumer=rng.random() < 0.4, has_oracle=rng.random() < 0.4,
        partner=rng.choice(prior) if prior and rng.random() < 0.6 else None,
    )
    return agg


def agg_slots(agg: Agg) -> list[Slot]:
    base = f"src/{agg.context}"
    k = agg.k
    spec = [
        ("id", f"domain/{k}-id.ts"),
        ("entity", f"domain/{k}.ts"),
        ("events", f"domain/{k}-events.ts"),
        ("policy", f"domain/{k}-policy.ts"),
        ("port", f"application/ports/{k}-repository.ts"),
        ("command", f"application/commands/{agg.cmd_verb}-{k}.ts"),
    ]
    if agg.has_create:
        spec.append(("create", f"application/commands/create-{k}.ts"))
    spec.append(("query", f"application/queries/get-{k}.ts"))
    spec.append(("service", f"application/{k}-service.ts"))
    spec.append(("sql", f"infrastructure/sql-{k}-repository.ts"))
    spec.append(("publisher", f"infrastructure/http-{k}-publisher.ts"))
    spec.append(("routes", f"adapters/http/{k}-routes.ts"))
    if agg.has_consumer:
        spec.append(("consumer", f"adapters/messaging/{k}-consumer.ts"))
    slots = []
    for kind, p in spec:
        agg.paths[kind] = f"{base}/{p}"
        slots.append(Slot(f"{base}/{p}", kind, agg, agg.context))
    return slots


def layer_of(path: str) -> str | None:
    for layer in ("domain", "application", "infrastructure", "adapters"):
        if f"/{layer}/" in path:
            return layer
    return None


# --------------------------------------------------------------------------------------------
# Per-file rendering state
# --------------------------------------------------------------------------------------------

class FileGen:
    def __init__(self, gen: "Generator", slot: Slot):
        self.gen = gen
        self.slot = slot
        self.path = slot.path
        self.rng = gen.rng
        self.avail: dict[str, tuple[str, bool]] = {"KrepisContext": (CORE, True)}
        self.taken: set[str] = set()
        self.parts: list[str] = []

    def dep(self, *paths):
        for p in paths:
            if p and p in self.gen.exports:
                for name, is_type in self.gen.exports[p]:
                    self.avail.setdefault(name, (p, is_type))

    def has(self, name: str) -> bool:
        return name in self.avail

    def unique(self, base: str) -> str:
        name, n = base, 2
        while name in self.taken or name in self.avail:
            name = f"{base}{n}"
            n += 1
        self.taken.add(name)
        return name

    def add(self, text: str):
        self.parts.append(text)
        self.taken.update(_LOCAL.findall(text))

    def lines(self) -> int:
        return sum(p.count("\n") + 1 for p in self.parts)

    def render(self, header: str) -> str:
        body = "\n".join(self.parts)
        used = used_identifiers(body)
        by_module: dict[str, list[tuple[str, bool]]] = {}
        for name in sorted(used):
            if name in self.avail:
                module, is_type = self.avail[name]
                by_module.setdefault(module, []).append((name, is_type))
        lines = []
        modules = sorted(by_module, key=lambda m: (not m.startswith("@") and not m.startswith("node:"),
                                                    self._spec(m)))
        for module in modules:
            names = sorted(by_module[module], key=lambda x: x[0].lower())
            spec = self._spec(module)
            if all(t for _, t in names):
                head, items = "import type", [n for n, _ in names]
            else:
                head, items = "import", [("type " + n) if t else n for n, t in names]
            one = f'{head} {{ {", ".join(items)} }} from "{spec}";'
            if len(one) <= 100:
                lines.append(one)
            else:
                lines.append(f"{head} {{\n" + "".join(f"  {it},\n" for it in items) + f'}} from "{spec}";')
        imports = "\n".join(lines)
        return header + ("\n" + imports + "\n" if imports else "") + "\n" + body

    def _spec(self, module: str) -> str:
        if module.startswith("src/"):
            return rel(self.path, module)
        return module


# --------------------------------------------------------------------------------------------
# Shared kernel (fixed content: these are the project's hand-written utilities)
# --------------------------------------------------------------------------------------------

SHARED_ORDER = ["result", "errors", "ids", "collections", "money", "pagination", "validation",
                "logger", "retry", "http", "sql", "events", "router"]

SHARED = {}

SHARED["result"] = '''
/** A value or an error, for code paths where failure is expected and must be handled. */
export type Result<T, E = Error> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value };
}

export function err<E>(error: E): Result<never, E> {
  return { ok: false, error };
}

export function mapResult<T, U, E>(result: Result<T, E>, fn: (value: T) => U): Result<U, E> {
  return result.ok ? { ok: true, value: fn(result.value) } : result;
}

export function andThen<T, U, E>(result: Result<T, E>, fn: (value: T) => Result<U, E>): Result<U, E> {
  return result.ok ? fn(result.value) : result;
}

/** Collects a list of results into one: the first error wins. */
export function collectResults<T, E>(results: readonly Result<T, E>[]): Result<T[], E> {
  const values: T[] = [];
  for (const result of results) {
    if (!result.ok) {
      return result;
    }
    values.push(result.value);
  }
  return { ok: true, value: values };
}

export function unwrapOr<T, E>(result: Result<T, E>, fallback: T): T {
  return result.ok ? result.value : fallback;
}
'''

SHARED["errors"] = '''
/** Base class of the errors the domain and the application raise on purpose. */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

export class InvariantViolation extends DomainError {
  readonly code = "invariant_violation";
}

export class PolicyViolation extends DomainError {
  readonly code = "policy_violation";
}

export class ConcurrencyError extends DomainError {
  readonly code = "concurrency_conflict";
}

export class NotFoundError extends DomainError {
  readonly code = "not_found";

  constructor(readonly entity: string, readonly id: string) {
    super(`${entity} ${id} was not found`);
  }
}

export class ValidationError extends DomainError {
  readonly code = "validation_failed";

  constructor(readonly issues: readonly string[]) {
    super(issues.length === 1 ? issues[0] : `${issues.length} validation issues: ${issues.join("; ")}`);
  }
}

/** A short, log-friendly description of anything that was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof DomainError) {
    return `${error.code}: ${error.message}`;
  }
  if (error instanceof Error) {
    return error.message || error.name;
  }
  return typeof error === "string" ? error : JSON.stringify(error);
}

export function httpStatusOf(error: unknown): number {
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ValidationError) return 422;
  if (error instanceof ConcurrencyError) return 409;
  if (error instanceof PolicyViolation || error instanceof InvariantViolation) return 409;
  return 500;
}
'''

SHARED["ids"] = '''
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** 32-bit FNV-1a; used to derive stable identifiers, never for security. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Encodes a non-negative integer in base 36, left-padded to `width`. */
export function base36(value: number, width = 8): string {
  let out = "";
  let rest = Math.floor(Math.abs(value));
  do {
    out = ALPHABET[rest % 36] + out;
    rest = Math.floor(rest / 36);
  } while (rest > 0);
  return out.padStart(width, "0");
}

export function stableId(prefix: string, ...parts: readonly string[]): string {
  const seed = parts.join("\\u0000");
  return `${prefix}_${base36(fnv1a(seed))}${base36(fnv1a(seed + prefix))}`;
}

export function isSlug(value: string): boolean {
  return /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(value);
}
'''

SHARED["collections"] = '''
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (size <= 0) {
    throw new RangeError(`chunk size must be positive, got ${size}`);
  }
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

export function groupBy<T, K extends string>(items: readonly T[], key: (item: T) => K): Partial<Record<K, T[]>> {
  const groups: Partial<Record<K, T[]>> = {};
  for (const item of items) {
    const k = key(item);
    (groups[k] ??= []).push(item);
  }
  return groups;
}

export function indexBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [key(item), item] as const));
}

export function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function sumBy<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}

export function partition<T>(items: readonly T[], predicate: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) {
    (predicate(item) ? yes : no).push(item);
  }
  return [yes, no];
}
'''

SHARED["money"] = '''
export type Currency = "EUR" | "USD" | "GBP" | "JPY" | "CHF";

const MINOR_UNITS: Readonly<Record<Currency, number>> = { EUR: 2, USD: 2, GBP: 2, JPY: 0, CHF: 2 };

/** An amount of money in minor units (cents), immutable. */
export class Money {
  private constructor(readonly amountMinor: number, readonly currency: Currency) {}

  static of(amountMinor: number, currency: Currency): Money {
    if (!Number.isSafeInteger(amountMinor)) {
      throw new RangeError(`amount must be a whole number of minor units, got ${amountMinor}`);
    }
    return new Money(amountMinor, currency);
  }

  static zero(currency: Currency): Money {
    return new Money(0, currency);
  }

  plus(other: Money): Money {
    this.#sameCurrency(other);
    return new Money(this.amountMinor + other.amountMinor, this.currency);
  }

  minus(other: Money): Money {
    this.#sameCurrency(other);
    return new Money(this.amountMinor - other.amountMinor, this.currency);
  }

  times(factor: number): Money {
    return new Money(Math.round(this.amountMinor * factor), this.currency);
  }

  /** Splits the amount by ratios without losing a cent: the remainder goes to the first parts. */
  allocate(ratios: readonly number[]): Money[] {
    const total = ratios.reduce((sum, r) => sum + r, 0);
    if (total <= 0) {
      throw new RangeError("ratios must add up to a positive number");
    }
    const parts = ratios.map((r) => Math.floor((this.amountMinor * r) / total));
    let remainder = this.amountMinor - parts.reduce((sum, p) => sum + p, 0);
    for (let i = 0; remainder > 0; i = (i + 1) % parts.length, remainder--) {
      parts[i] += 1;
    }
    return parts.map((p) => new Money(p, this.currency));
  }

  isZero(): boolean {
    return this.amountMinor === 0;
  }

  isNegative(): boolean {
    return this.amountMinor < 0;
  }

  compare(other: Money): -1 | 0 | 1 {
    this.#sameCurrency(other);
    return this.amountMinor === other.amountMinor ? 0 : this.amountMinor < other.amountMinor ? -1 : 1;
  }

  equals(other: Money): boolean {
    return this.currency === other.currency && this.amountMinor === other.amountMinor;
  }

  format(): string {
    const digits = MINOR_UNITS[this.currency];
    const major = this.amountMinor / 10 ** digits;
    return `${major.toFixed(digits)} ${this.currency}`;
  }

  #sameCurrency(other: Money): void {
    if (other.currency !== this.currency) {
      throw new TypeError(`cannot combine ${this.currency} with ${other.currency}`);
    }
  }
}
'''

SHARED["pagination"] = '''
export interface PageRequest {
  readonly cursor?: string;
  readonly limit?: number;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export function clampLimit(limit: number | undefined, max = MAX_PAGE_SIZE): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(Math.max(1, Math.floor(limit)), max);
}

export function encodeCursor(offset: number): string {
  return btoa(`o:${offset}`);
}

export function decodeCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  try {
    const match = /^o:(\\d+)$/.exec(atob(cursor));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export function mapPage<T, U>(page: Page<T>, fn: (item: T) => U): Page<U> {
  return { items: page.items.map(fn), nextCursor: page.nextCursor };
}

export function emptyPage<T>(): Page<T> {
  return { items: [] };
}
'''

SHARED["validation"] = '''
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function readString(record: Record<string, unknown>, key: string, issues: string[]): string {
  const value = record[key];
  if (typeof value !== "string") {
    issues.push(`${key}: expected a string`);
    return "";
  }
  return value;
}

export function readNumber(record: Record<string, unknown>, key: string, issues: string[]): number {
  const value = record[key];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    issues.push(`${key}: expected a finite number`);
    return 0;
  }
  return value;
}

export function readBoolean(record: Record<string, unknown>, key: string, issues: string[]): boolean {
  const value = record[key];
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    issues.push(`${key}: expected true or false`);
    return false;
  }
  return value;
}

export function readStringArray(record: Record<string, unknown>, key: string, issues: string[]): string[] {
  const value = record[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    issues.push(`${key}: expected a list of strings`);
    return [];
  }
  return value;
}

export function readOptionalString(record: Record<string, unknown>, key: string, issues: string[]): string | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    issues.push(`${key}: expected a string`);
    return undefined;
  }
  return value;
}

export function readOptionalNumber(record: Record<string, unknown>, key: string, issues: string[]): number | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    issues.push(`${key}: expected a number or null`);
    return null;
  }
  return value;
}
'''

SHARED["logger"] = '''
import type { KrepisContext } from "@krepis/core";

export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface LogRecord {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
}

/** Every record carries the request, tenant and trace ids of the context it was written under. */
export interface Logger {
  write(ctx: KrepisContext, record: LogRecord): void;
}

export function logInfo(ctx: KrepisContext, logger: Logger, message: string, fields: LogFields = {}): void {
  logger.write(ctx, { level: "info", message, fields });
}

export function logWarn(ctx: KrepisContext, logger: Logger, message: string, fields: LogFields = {}): void {
  logger.write(ctx, { level: "warn", message, fields });
}

export function logError(ctx: KrepisContext, logger: Logger, message: string, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  logger.write(ctx, { level: "error", message, fields: { error: detail } });
}

export class JsonLogger implements Logger {
  constructor(private readonly sink: (line: string) => void = console.log, private readonly minLevel: LogLevel = "info") {}

  write(ctx: KrepisContext, record: LogRecord): void {
    if (LEVELS.indexOf(record.level) < LEVELS.indexOf(this.minLevel)) {
      return;
    }
    this.sink(JSON.stringify({
      ...record.fields,
      level: record.level,
      message: record.message,
      request_id: ctx.request_id,
      tenant_id: ctx.tenant_id,
      trace_id: ctx.trace_id,
      at: new Date(ctx.clock.now()).toISOString(),
    }));
  }
}

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
'''

SHARED["retry"] = '''
import type { KrepisContext } from "@krepis/core";

export interface RetryOptions {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs?: number;
  readonly retryIf?: (error: unknown) => boolean;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 };

/** Runs `operation` until it succeeds or the attempts run out, with jittered exponential backoff. */
export async function withRetry<T>(
  ctx: KrepisContext,
  operation: (ctx: KrepisContext, attempt: number) => Promise<T>,
  options: RetryOptions = DEFAULT_RETRY,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      return await operation(ctx, attempt);
    } catch (error) {
      lastError = error;
      if (attempt === options.attempts || (options.retryIf && !options.retryIf(error))) {
        break;
      }
      const ceiling = Math.min(options.baseDelayMs * 2 ** (attempt - 1), options.maxDelayMs ?? Infinity);
      await sleep(ctx, Math.round(ceiling * (0.5 + ctx.random.next() / 2)));
    }
  }
  throw lastError;
}

export function sleep(ctx: KrepisContext, ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ctx.is_turbo_mode ? 0 : ms));
}
'''

SHARED["http"] = '''
import type { KrepisContext } from "@krepis/core";

export class HttpError extends Error {
  constructor(readonly status: number, readonly url: string, readonly body: string) {
    super(`HTTP ${status} from ${url}`);
  }
}

export function contextHeaders(ctx: KrepisContext): Record<string, string> {
  return {
    "x-request-id": ctx.request_id,
    "x-tenant-id": ctx.tenant_id,
    "traceparent": `00-${ctx.trace_id}-0000000000000001-01`,
  };
}

/** fetch() with the context's ids attached, a JSON body and a JSON answer. */
export async function fetchJson<T>(ctx: KrepisContext, url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, {
    ...init,
    headers: { "content-type": "application/json", ...contextHeaders(ctx), ...init.headers },
  });
  if (!response.ok) {
    throw new HttpError(response.status, url, await response.text());
  }
  return (await response.json()) as T;
}

export async function readJson(ctx: KrepisContext, request: Request, limitBytes = 1_000_000): Promise<unknown> {
  const text = await request.text();
  if (text.length > limitBytes) {
    throw new HttpError(413, request.url, `request ${ctx.request_id} body exceeds ${limitBytes} bytes`);
  }
  return text.length === 0 ? {} : JSON.parse(text);
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function problem(status: number, title: string, detail?: string): Response {
  return json({ type: "about:blank", title, status, detail }, status, { "content-type": "application/problem+json" });
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}
'''

SHARED["sql"] = '''
import type { KrepisContext } from "@krepis/core";
import { contextHeaders, HttpError } from "./http.ts";

export type SqlValue = string | number | boolean | null;

/** The one port to the database; every statement runs on behalf of the context's tenant. */
export interface SqlClient {
  query<T>(ctx: KrepisContext, text: string, params?: readonly SqlValue[]): Promise<readonly T[]>;
  execute(ctx: KrepisContext, text: string, params?: readonly SqlValue[]): Promise<number>;
  transaction<T>(ctx: KrepisContext, work: (ctx: KrepisContext, tx: SqlClient) => Promise<T>): Promise<T>;
}

interface SqlAnswer<T> {
  readonly rows: readonly T[];
  readonly rowCount: number;
}

/** Talks to a SQL-over-HTTP proxy (Neon, PlanetScale and friends) with plain fetch(). */
export class HttpSqlClient implements SqlClient {
  constructor(private readonly endpoint: string, private readonly token: string) {}

  async query<T>(ctx: KrepisContext, text: string, params: readonly SqlValue[] = []): Promise<readonly T[]> {
    const answer = await this.#post<T>(ctx, text, params);
    return answer.rows;
  }

  async execute(ctx: KrepisContext, text: string, params: readonly SqlValue[] = []): Promise<number> {
    const answer = await this.#post<never>(ctx, text, params);
    return answer.rowCount;
  }

  async transaction<T>(ctx: KrepisContext, work: (ctx: KrepisContext, tx: SqlClient) => Promise<T>): Promise<T> {
    await this.execute(ctx, "BEGIN");
    try {
      const result = await work(ctx, this);
      await this.execute(ctx, "COMMIT");
      return result;
    } catch (error) {
      await this.execute(ctx, "ROLLBACK");
      throw error;
    }
  }

  async #post<T>(ctx: KrepisContext, text: string, params: readonly SqlValue[]): Promise<SqlAnswer<T>> {
    const response = await fetch(this.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}`, ...contextHeaders(ctx) },
      body: JSON.stringify({ query: text, params }),
    });
    if (!response.ok) {
      throw new HttpError(response.status, this.endpoint, await response.text());
    }
    return (await response.json()) as SqlAnswer<T>;
  }
}
'''

SHARED["events"] = '''
import type { KrepisContext } from "@krepis/core";

export interface Envelope<T> {
  readonly id: string;
  readonly type: string;
  readonly tenantId: string;
  readonly occurredAt: number;
  readonly attempt: number;
  readonly payload: T;
}

export type MessageHandler = (ctx: KrepisContext, envelope: Envelope<unknown>) => Promise<void>;

export function envelopeOf<T>(ctx: KrepisContext, id: string, type: string, payload: T): Envelope<T> {
  return { id, type, tenantId: ctx.tenant_id, occurredAt: ctx.clock.now(), attempt: 1, payload };
}

export function isEnvelope(value: unknown): value is Envelope<unknown> {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Envelope<unknown>>;
  return typeof candidate.id === "string" && typeof candidate.type === "string" &&
    typeof candidate.tenantId === "string" && typeof candidate.occurredAt === "number";
}
'''

SHARED["router"] = '''
import type { KrepisContext } from "@krepis/core";

export type RouteParams = Readonly<Record<string, string>>;

export type RouteHandler = (ctx: KrepisContext, request: Request, params: RouteParams) => Promise<Response>;

interface Route {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
}

/** A deliberately small router: exact segments and `:name` captures, first match wins. */
export class Router {
  readonly #routes: Route[] = [];

  get(path: string, handler: RouteHandler): this {
    return this.#add("GET", path, handler);
  }

  post(path: string, handler: RouteHandler): this {
    return this.#add("POST", path, handler);
  }

  put(path: string, handler: RouteHandler): this {
    return this.#add("PUT", path, handler);
  }

  delete(path: string, handler: RouteHandler): this {
    return this.#add("DELETE", path, handler);
  }

  async dispatch(ctx: KrepisContext, request: Request): Promise<Response> {
    const parts = new URL(request.url).pathname.split("/").filter(Boolean);
    for (const route of this.#routes) {
      if (route.method !== request.method) continue;
      const params = matchSegments(route.segments, parts);
      if (params) {
        return await route.handler(ctx, request, params);
      }
    }
    return new Response("not found", { status: 404 });
  }

  #add(method: string, path: string, handler: RouteHandler): this {
    this.#routes.push({ method, segments: path.split("/").filter(Boolean), handler });
    return this;
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): RouteParams | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i];
    if (expected.startsWith(":")) {
      params[expected.slice(1)] = decodeURIComponent(parts[i]);
    } else if (expected !== parts[i]) {
      return undefined;
    }
  }
  return params;
}
'''

# --------------------------------------------------------------------------------------------
# Domain
# --------------------------------------------------------------------------------------------


def render_id(f: FileGen, g: Agg):
    f.dep("src/shared/ids.ts")
    prefix = "".join(w[:2] for w in snake(g.name).split("_"))[:6]
    f.add(block('''
        declare const brand: unique symbol;

        /** Identifier of a @h@; a branded string so it cannot be mixed up with other ids. */
        export type @A@Id = string & { readonly [brand]: "@A@Id" };

        const @UP@_ID = /^@p@_[0-9a-z]{16}$/;

        export function parse@A@Id(raw: string): @A@Id | undefined {
          const candidate = raw.trim().toLowerCase();
          return @UP@_ID.test(candidate) ? (candidate as @A@Id) : undefined;
        }

        export function is@A@Id(value: unknown): value is @A@Id {
          return typeof value === "string" && @UP@_ID.test(value);
        }

        /** Derives the id from the natural key, so that retried creations land on the same @h@. */
        export function @a@IdFor(tenantId: string, naturalKey: string): @A@Id {
          return stableId("@p@", tenantId, naturalKey) as @A@Id;
        }

        export function same@A@(left: @A@Id, right: @A@Id): boolean {
          return left === right;
        }
        ''', g.d(p=prefix)))
    for fld in g.fields_of("num")[:1]:
        f.add(block('''
            /** @hf@ of a @h@, a non-negative whole number. */
            export class @A@@F@ {
              private constructor(readonly value: number) {}

              static of(value: number): @A@@F@ | undefined {
                return Number.isSafeInteger(value) && value >= 0 ? new @A@@F@(value) : undefined;
              }

              static zero(): @A@@F@ {
                return new @A@@F@(0);
              }

              plus(other: @A@@F@): @A@@F@ {
                return new @A@@F@(this.value + other.value);
              }

              minus(other: @A@@F@): @A@@F@ | undefined {
                return @A@@F@.of(this.value - other.value);
              }

              isGreaterThan(other: @A@@F@): boolean {
                return this.value > other.value;
              }

              equals(other: @A@@F@): boolean {
                return this.value === other.value;
              }

              toJSON(): number {
                return this.value;
              }
            }
            ''', g.d(F=fld.cap, hf=human(fld.name).capitalize())))
    for fld in g.fields_of("str")[:1]:
        f.add(block('''
            const @UP@_@FU@_MAX = @max@;

            /** Normalises a @hf@ for comparison: trimmed, collapsed whitespace, lower case. */
            export function normalize@A@@F@(value: string): string {
              return value.trim().replace(/\\s+/g, " ").toLowerCase();
            }

            export function is@A@@F@Valid(value: string): boolean {
              const normalized = normalize@A@@F@(value);
              return normalized.length > 0 && normalized.length <= @UP@_@FU@_MAX;
            }
            ''', g.d(F=fld.cap, FU=snake(fld.name).upper(), hf=human(fld.name), max=f.rng.choice([64, 120, 200, 255]))))


def render_entity(f: FileGen, g: Agg):
    f.dep(g.paths["id"], "src/shared/result.ts", "src/shared/errors.ts", "src/shared/collections.ts")
    d = g.d()
    status_union = "\n".join(f'  | "{s}"' for s in g.statuses)
    allowed = "\n".join(
        f'  {s}: [{", ".join(chr(34) + m[1] + chr(34) for m in g.moves if m[0] == s)}],' for s in g.statuses)
    state_fields = "\n".join(
        (f"  readonly {x.name}?: {x.ts};" if x.kind == "optstr" else f"  readonly {x.name}: {x.ts};") for x in g.fields)
    f.add(block('''
        export type @A@Status =
        @union@;

        export const @UP@_STATUSES: readonly @A@Status[] = [@statuses@];

        export function is@A@Status(value: unknown): value is @A@Status {
          return typeof value === "string" && (@UP@_STATUSES as readonly string[]).includes(value);
        }

        /** Statuses a @h@ never leaves again. */
        export function is@A@Terminal(status: @A@Status): boolean {
          switch (status) {
        @terminal_cases@
              return true;
            default:
              return false;
          }
        }

        const ALLOWED_TRANSITIONS: Readonly<Record<@A@Status, readonly @A@Status[]>> = {
        @allowed@
        };

        export interface @A@State {
          readonly id: @A@Id;
          readonly status: @A@Status;
          readonly version: number;
          readonly createdAt: number;
          readonly updatedAt: number;
        @state_fields@
        }

        export type New@A@Input = Omit<@A@State, "id" | "status" | "version" | "createdAt" | "updatedAt">;
        ''', dict(d, union=status_union.lstrip("\n"), statuses=", ".join(f'"{s}"' for s in g.statuses),
                  terminal_cases="\n".join(f'    case "{s}":' for s in g.terminal) or '    case "' + g.statuses[-1] + '":',
                  allowed=allowed, state_fields=state_fields)))

    checks = []
    for x in g.fields:
        if x.kind == "str":
            checks.append(f'if (input.{x.name}.trim().length === 0) {{\n  return err(new InvariantViolation("{human(x.name)} must not be empty"));\n}}')
        elif x.kind == "num":
            checks.append(f'if (!Number.isFinite(input.{x.name}) || input.{x.name} < 0) {{\n  return err(new InvariantViolation(`{human(x.name)} must be a non-negative number, got ${{input.{x.name}}}`));\n}}')
        elif x.kind == "list":
            checks.append(f'if (input.{x.name}.length > {f.rng.choice([16, 32, 64, 100])}) {{\n  return err(new InvariantViolation("too many {human(x.name)}"));\n}}')
        elif x.kind == "optnum":
            checks.append(f'if (input.{x.name} !== null && input.{x.name} <= now) {{\n  return err(new InvariantViolation("{human(x.name)} must lie in the future"));\n}}')
        elif x.kind == "optstr":
            checks.append(f'if (input.{x.name} !== undefined && input.{x.name}.length > {f.rng.choice([500, 2000, 4000])}) {{\n  return err(new InvariantViolation("{human(x.name)} is too long"));\n}}')
    getters = "\n\n".join(f"  get {x.name}(): {x.ts}{' | undefined' if x.kind == 'optstr' else ''} {{\n    return this.#state.{x.name};\n  }}" for x in g.fields)
    transitions = "\n\n".join(block('''
          /** Moves the @h@ to `@to@`. */
          @verb@(now: number): Result<void, InvariantViolation> {
            return this.#transition("@to@", now);
          }
        ''', dict(d, verb=v, to=t)).rstrip("\n") for v, t in g.verbs)
    mutators = []
    for x in g.fields:
        dx = dict(d, f=x.name, F=x.cap, hf=human(x.name))
        if x.kind == "num":
            mutators.append(block('''
                /** Adds `delta` to the @hf@; the result may not drop below zero. */
                adjust@F@(delta: number, now: number): Result<void, InvariantViolation> {
                  const next = this.#state.@f@ + delta;
                  if (next < 0) {
                    return err(new InvariantViolation(`@hf@ would become negative (${next})`));
                  }
                  return this.#patch({ @f@: next }, now);
                }
                ''', dx))
        elif x.kind == "str":
            mutators.append(block('''
                change@F@(value: string, now: number): Result<void, InvariantViolation> {
                  const trimmed = value.trim();
                  if (trimmed.length === 0) {
                    return err(new InvariantViolation("@hf@ must not be empty"));
                  }
                  if (trimmed === this.#state.@f@) {
                    return ok(undefined);
                  }
                  return this.#patch({ @f@: trimmed }, now);
                }
                ''', dx))
        elif x.kind == "list":
            mutators.append(block('''
                add@S@(item: string, now: number): Result<void, InvariantViolation> {
                  if (this.#state.@f@.includes(item)) {
                    return ok(undefined);
                  }
                  return this.#patch({ @f@: uniqueBy([...this.#state.@f@, item], (x) => x) }, now);
                }

                remove@S@(item: string, now: number): Result<void, InvariantViolation> {
                  const remaining = this.#state.@f@.filter((x) => x !== item);
                  return remaining.length === this.#state.@f@.length ? ok(undefined) : this.#patch({ @f@: remaining }, now);
                }
                ''', dict(dx, S=x.singular)))
        elif x.kind == "bool":
            mutators.append(block('''
                mark@F@(value: boolean, now: number): Result<void, InvariantViolation> {
                  return value === this.#state.@f@ ? ok(undefined) : this.#patch({ @f@: value }, now);
                }
                ''', dx))
        elif x.kind in ("optnum", "optstr"):
            t = "number | null" if x.kind == "optnum" else "string | undefined"
            mutators.append(block('''
                change@F@(value: @t@, now: number): Result<void, InvariantViolation> {
                  return this.#patch({ @f@: value }, now);
                }
                ''', dict(dx, t=t)))
    mutators_text = "\n".join(textwrap.indent(m, "  ") for m in mutators).rstrip("\n")
    summary_bits = " ".join(f"{x.name}=${{this.#state.{x.name}}}" for x in g.fields_of("str", "num")[:2])
    f.add(block('''
        /**
         * The @h@ aggregate. All changes go through methods that check the invariants and bump
         * the version, so that optimistic concurrency in the repository stays meaningful.
         */
        export class @A@ {
          #state: @A@State;

          private constructor(state: @A@State) {
            this.#state = state;
          }

          static create(id: @A@Id, input: New@A@Input, now: number): Result<@A@, InvariantViolation> {
        @checks@
            return ok(new @A@({ ...input, id, status: "@s0@", version: 1, createdAt: now, updatedAt: now }));
          }

          /** Rebuilds a @h@ from storage; the data was valid when it was written. */
          static rehydrate(state: @A@State): @A@ {
            return new @A@(state);
          }

          get id(): @A@Id {
            return this.#state.id;
          }

          get status(): @A@Status {
            return this.#state.status;
          }

          get version(): number {
            return this.#state.version;
          }

          get updatedAt(): number {
            return this.#state.updatedAt;
          }

        @getters@

          canTransitionTo(next: @A@Status): boolean {
            return ALLOWED_TRANSITIONS[this.#state.status].includes(next);
          }

        @transitions@

        @mutators@

          equals(other: @A@): boolean {
            return other.id === this.id && other.version === this.version;
          }

          toSnapshot(): @A@State {
            return { ...this.#state };
          }

          toString(): string {
            return `@A@(${this.#state.id}, ${this.#state.status}, v${this.#state.version}, @summary@)`;
          }

          #transition(next: @A@Status, now: number): Result<void, InvariantViolation> {
            if (!this.canTransitionTo(next)) {
              return err(new InvariantViolation(`@h@ ${this.#state.id} cannot move from ${this.#state.status} to ${next}`));
            }
            return this.#patch({ status: next }, now);
          }

          #patch(changes: Partial<Omit<@A@State, "id" | "createdAt">>, now: number): Result<void, InvariantViolation> {
            if (is@A@Terminal(this.#state.status) && changes.status === undefined) {
              return err(new InvariantViolation(`@h@ ${this.#state.id} is ${this.#state.status} and can no longer change`));
            }
            this.#state = { ...this.#state, ...changes, updatedAt: now, version: this.#state.version + 1 };
            return ok(undefined);
          }
        }
        ''', dict(d, checks=textwrap.indent("\n".join(checks), "    "), getters=getters,
                  transitions=textwrap.indent(transitions, "  "), mutators=mutators_text, summary=summary_bits)))


def render_events(f: FileGen, g: Agg):
    f.dep(g.paths["id"], g.paths["entity"])
    d = g.d()
    changed = g.fields_of("str", "num")[:2]
    ev_types = [f"{g.name}Created", f"{g.name}StatusChanged", f"{g.name}Removed"] + [f"{g.name}{x.cap}Changed" for x in changed]
    f.add(block('''
        interface @A@EventBase<TType extends string> {
          readonly type: TType;
          readonly aggregateId: @A@Id;
          readonly occurredAt: number;
          readonly version: number;
        }

        /** Emitted once, when the @h@ is first accepted. */
        export interface @A@Created extends @A@EventBase<"@c@.@k@.created"> {
          readonly snapshot: @A@State;
        }

        /** Emitted for every accepted status transition. */
        export interface @A@StatusChanged extends @A@EventBase<"@c@.@k@.status-changed"> {
          readonly from: @A@Status;
          readonly to: @A@Status;
          readonly reason?: string;
        }

        export interface @A@Removed extends @A@EventBase<"@c@.@k@.removed"> {
          readonly removedBy: string;
        }
        ''', d))
    for x in changed:
        f.add(block('''
            export interface @A@@F@Changed extends @A@EventBase<"@c@.@k@.@fk@-changed"> {
              readonly previous: @t@;
              readonly current: @t@;
            }
            ''', dict(d, F=x.cap, fk=kebab(x.name), t=x.ts)))
    f.add(block('''
        export type @A@Event =
        @union@;

        export type @A@EventType = @A@Event["type"];

        export const @UP@_EVENT_TYPES: readonly @A@EventType[] = [
        @types@
        ];

        export function @a@Created(state: @A@State): @A@Created {
          return { type: "@c@.@k@.created", aggregateId: state.id, occurredAt: state.createdAt, version: state.version, snapshot: state };
        }

        export function @a@StatusChanged(state: @A@State, from: @A@Status, reason?: string): @A@StatusChanged {
          return {
            type: "@c@.@k@.status-changed",
            aggregateId: state.id,
            occurredAt: state.updatedAt,
            version: state.version,
            from,
            to: state.status,
            reason,
          };
        }

        export function @a@Removed(state: @A@State, removedBy: string, now: number): @A@Removed {
          return { type: "@c@.@k@.removed", aggregateId: state.id, occurredAt: now, version: state.version + 1, removedBy };
        }
        ''', dict(d, union="\n".join(f"  | {t}" for t in ev_types),
                  types="\n".join(f'  "{g.context}.{g.k}.{s}",' for s in ["created", "status-changed", "removed"] + [kebab(x.name) + "-changed" for x in changed]))))
    describe_cases = [
        f'    case "{g.context}.{g.k}.created":\n      return `created ${{event.aggregateId}} as ${{event.snapshot.status}}`;',
        f'    case "{g.context}.{g.k}.status-changed":\n      return `moved ${{event.aggregateId}} from ${{event.from}} to ${{event.to}}: ${{event.reason ?? "no reason given"}}`;',
        f'    case "{g.context}.{g.k}.removed":\n      return `removed ${{event.aggregateId}} on behalf of ${{event.removedBy}}`;',
    ]
    apply_cases = [
        f'    case "{g.context}.{g.k}.created":\n      return event.snapshot;',
        f'    case "{g.context}.{g.k}.status-changed":\n      return state && {{ ...state, status: event.to, version: event.version, updatedAt: event.occurredAt }};',
        f'    case "{g.context}.{g.k}.removed":\n      return undefined;',
    ]
    for x in changed:
        describe_cases.append(f'    case "{g.context}.{g.k}.{kebab(x.name)}-changed":\n      return `changed {human(x.name)} of ${{event.aggregateId}} from ${{event.previous}} to ${{event.current}}`;')
        apply_cases.append(f'    case "{g.context}.{g.k}.{kebab(x.name)}-changed":\n      return state && {{ ...state, {x.name}: event.current, version: event.version, updatedAt: event.occurredAt }};')
    f.add(block('''
        /** One line per event, for audit logs and support tooling. */
        export function describe@A@Event(event: @A@Event): string {
          switch (event.type) {
        @describe@
            default: {
              const unreachable: never = event;
              return String(unreachable);
            }
          }
        }

        /** Left fold of one event onto a state; `undefined` means "does not exist (any more)". */
        export function apply@A@Event(state: @A@State | undefined, event: @A@Event): @A@State | undefined {
          switch (event.type) {
        @apply@
            default: {
              const unreachable: never = event;
              return unreachable;
            }
          }
        }

        export function replay@A@(events: readonly @A@Event[]): @A@State | undefined {
          return [...events]
            .sort((left, right) => left.version - right.version)
            .reduce<@A@State | undefined>((state, event) => apply@A@Event(state, event), undefined);
        }

        export function is@A@Event(value: unknown): value is @A@Event {
          if (typeof value !== "object" || value === null) {
            return false;
          }
          const candidate = value as { type?: unknown; aggregateId?: unknown; version?: unknown };
          return typeof candidate.type === "string" &&
            (@UP@_EVENT_TYPES as readonly string[]).includes(candidate.type) &&
            typeof candidate.aggregateId === "string" &&
            typeof candidate.version === "number";
        }

        export function latest@A@Status(events: readonly @A@Event[]): @A@Status | undefined {
          let status: @A@Status | undefined;
          for (const event of events) {
            if (event.type === "@c@.@k@.created") {
              status = event.snapshot.status;
            } else if (event.type === "@c@.@k@.status-changed") {
              status = event.to;
            }
          }
          return status;
        }
        ''', dict(d, describe="\n".join(describe_cases), apply="\n".join(apply_cases))))


def render_policy(f: FileGen, g: Agg):
    f.dep(g.paths["entity"], g.paths["events"], g.paths["id"], "src/shared/money.ts", "src/shared/collections.ts")
    if g.partner:
        f.dep(g.partner.paths["entity"])
    d = g.d()
    num = g.fields_of("num")[0]
    dn = dict(d, n=num.name, N=num.cap, hn=human(num.name))
    extra_checks = []
    for x in g.fields_of("bool"):
        extra_checks.append(f'  if (state.{x.name}) {{\n    reasons.push("{human(x.name)}");\n  }}')
    for x in g.fields_of("optnum"):
        extra_checks.append(f'  if (state.{x.name} !== null && state.{x.name} - now < options.staleAfterMs) {{\n    reasons.push("{human(x.name)} is close");\n  }}')
    for x in g.fields_of("list"):
        extra_checks.append(f'  if (state.{x.name}.length === 0) {{\n    reasons.push("no {human(x.name)}");\n  }}')
    f.add(block('''
        export interface @A@PolicyOptions {
          /** Above this @hn@ a @h@ needs a second pair of eyes. */
          readonly max@N@: number;
          /** How many findings turn a review into a refusal. */
          readonly denyAfterFindings: number;
          readonly staleAfterMs: number;
        }

        export const DEFAULT_@UP@_POLICY: @A@PolicyOptions = {
          max@N@: @maxv@,
          denyAfterFindings: @deny@,
          staleAfterMs: @stale@,
        };

        export type @A@Decision =
          | { readonly kind: "allow" }
          | { readonly kind: "review"; readonly reasons: readonly string[] }
          | { readonly kind: "deny"; readonly reason: string };

        /**
         * Decides whether a @h@ may move on. Pure: the caller passes `now`, typically
         * `ctx.clock.now()`, so that the decision can be replayed.
         */
        export function evaluate@A@(entity: @A@, options: @A@PolicyOptions, now: number): @A@Decision {
          const state = entity.toSnapshot();
          if (is@A@Terminal(state.status)) {
            return { kind: "deny", reason: `@h@ is ${state.status}` };
          }
          const reasons: string[] = [];
          if (state.@n@ > options.max@N@) {
            reasons.push(`@hn@ ${state.@n@} exceeds ${options.max@N@}`);
          }
          if (now - state.updatedAt > options.staleAfterMs) {
            reasons.push("stale");
          }
        @extra@
          if (reasons.length >= options.denyAfterFindings) {
            return { kind: "deny", reason: reasons.join("; ") };
          }
          return reasons.length > 0 ? { kind: "review", reasons } : { kind: "allow" };
        }

        export interface @A@Totals {
          readonly count: number;
          readonly @n@: number;
          readonly average@N@: number;
          readonly byStatus: Partial<Record<@A@Status, number>>;
        }

        export function summarize@As@(items: readonly @A@[]): @A@Totals {
          const byStatus: Partial<Record<@A@Status, number>> = {};
          for (const item of items) {
            byStatus[item.status] = (byStatus[item.status] ?? 0) + 1;
          }
          const total = sumBy(items, (item) => item.toSnapshot().@n@);
          return {
            count: items.length,
            @n@: total,
            average@N@: items.length === 0 ? 0 : total / items.length,
            byStatus,
          };
        }

        /** Orders candidates by weight, then by staleness, so that the oldest work is picked first. */
        export function rank@As@<T extends { readonly entity: @A@; readonly weight: number }>(candidates: readonly T[]): T[] {
          return [...candidates].sort((left, right) =>
            right.weight - left.weight || left.entity.updatedAt - right.entity.updatedAt
          );
        }

        export function price@A@(entity: @A@, unitPrice: Money): Money {
          const units = Math.max(0, entity.toSnapshot().@n@);
          return unitPrice.times(units);
        }

        /** Replays a history and tells whether it ever went through `status`. */
        export function visited@A@Status(events: readonly @A@Event[], status: @A@Status): boolean {
          return events.some((event) =>
            (event.type === "@c@.@k@.created" && event.snapshot.status === status) ||
            (event.type === "@c@.@k@.status-changed" && event.to === status)
          );
        }
        ''', dict(dn, maxv=f.rng.choice([100, 250, 1_000, 10_000, 50_000]), deny=f.rng.randint(2, 3),
                  stale=f.rng.choice(["86_400_000", "3_600_000", "604_800_000"]), extra="\n".join(extra_checks))))
    if g.has_oracle:
        f.add(block('''
            /** Implemented in the infrastructure (a scoring service); declared here because the rule needs it. */
            export interface @A@RiskOracle {
              assess(ctx: KrepisContext, id: @A@Id, findings: readonly string[]): Promise<number>;
            }

            export async function assess@A@Risk(
              ctx: KrepisContext,
              oracle: @A@RiskOracle,
              entity: @A@,
              options: @A@PolicyOptions = DEFAULT_@UP@_POLICY,
            ): Promise<@A@Decision> {
              const decision = evaluate@A@(entity, options, ctx.clock.now());
              if (decision.kind !== "review") {
                return decision;
              }
              const score = await oracle.assess(ctx, entity.id, decision.reasons);
              return score > @thr@ ? { kind: "deny", reason: `risk score ${score.toFixed(2)}` } : decision;
            }
            ''', dict(d, thr=f.rng.choice(["0.8", "0.75", "0.9"]))))
    if g.partner:
        p = g.partner
        f.add(block('''
            /** A @h@ may only refer to a @ph@ that is still live and at least as recent. */
            export function is@A@CompatibleWith@P@(entity: @A@, other: @P@): boolean {
              if (is@P@Terminal(other.status)) {
                return false;
              }
              return other.updatedAt <= entity.updatedAt || entity.version === 1;
            }
            ''', dict(d, P=p.name, ph=human(p.name))))


FILLERS = []


def filler(layers, weight=1, once=False, kinds=None):
    def wrap(fn):
        FILLERS.append((fn, layers, weight, once, kinds))
        return fn
    return wrap


@filler({"domain"}, weight=3)
def fill_value_object(f: FileGen, g: Agg):
    noun = f.rng.choice(NOUNS)
    name = f.unique(g.name + noun)
    unit = f.rng.choice(["minutes", "units", "percent", "grams", "points", "cents"])
    f.add(block('''
        /** A closed range of @unit@ used by the @h@ rules; `low` never exceeds `high`. */
        export class @X@ {
          private constructor(readonly low: number, readonly high: number) {}

          static between(low: number, high: number): @X@ | undefined {
            if (!Number.isFinite(low) || !Number.isFinite(high) || low > high) {
              return undefined;
            }
            return new @X@(low, high);
          }

          static exactly(value: number): @X@ {
            return new @X@(value, value);
          }

          get width(): number {
            return this.high - this.low;
          }

          contains(value: number): boolean {
            return value >= this.low && value <= this.high;
          }

          overlaps(other: @X@): boolean {
            return this.low <= other.high && other.low <= this.high;
          }

          clamp(value: number): number {
            return Math.min(Math.max(value, this.low), this.high);
          }

          widen(by: number): @X@ {
            return new @X@(this.low - by, this.high + by);
          }

          intersect(other: @X@): @X@ | undefined {
            return @X@.between(Math.max(this.low, other.low), Math.min(this.high, other.high));
          }

          equals(other: @X@): boolean {
            return this.low === other.low && this.high === other.high;
          }

          toString(): string {
            return this.low === this.high ? `${this.low} @unit@` : `${this.low}..${this.high} @unit@`;
          }
        }
        ''', g.d(X=name, unit=unit)))


@filler({"domain"}, weight=2)
def fill_tiers(f: FileGen, g: Agg):
    noun = f.rng.choice(NOUNS)
    fn = f.unique(f"tiered{g.name}{noun}")
    const = f.unique(f"{g.up}_{snake(noun).upper()}_TIERS")
    tiers, upto = [], 0
    for _ in range(f.rng.randint(3, 6)):
        upto += f.rng.choice([10, 25, 50, 100, 250])
        tiers.append(f"  {{ upTo: {upto}, rate: {f.rng.choice(['0.1', '0.08', '0.05', '0.03', '0.02', '0.015'])} }},")
    tiers.append(f"  {{ upTo: Infinity, rate: {f.rng.choice(['0.01', '0.005', '0'])} }},")
    f.add(block('''
        const @K@: readonly { readonly upTo: number; readonly rate: number }[] = [
        @tiers@
        ];

        /**
         * Applies the marginal rate of each tier to the part of `amount` that falls into it, like
         * income tax brackets. Returns the total, rounded to whole units.
         */
        export function @fn@(amount: number, tiers = @K@): number {
          let total = 0;
          let lower = 0;
          for (const tier of tiers) {
            if (amount <= lower) {
              break;
            }
            const slice = Math.min(amount, tier.upTo) - lower;
            total += slice * tier.rate;
            lower = tier.upTo;
          }
          return Math.round(total);
        }
        ''', g.d(K=const, fn=fn, tiers="\n".join(tiers))))


@filler({"domain", "application"}, weight=2)
def fill_rule_union(f: FileGen, g: Agg):
    noun = f.rng.choice(NOUNS)
    t = f.unique(f"{g.name}{noun}Rule")
    check = f.unique(f"check{g.name}{noun}")
    desc = f.unique(f"describe{g.name}{noun}Rule")
    f.add(block('''
        export type @T@ =
          | { readonly kind: "min"; readonly value: number }
          | { readonly kind: "max"; readonly value: number }
          | { readonly kind: "between"; readonly low: number; readonly high: number }
          | { readonly kind: "oneOf"; readonly values: readonly number[] }
          | { readonly kind: "all"; readonly rules: readonly @T@[] };

        export function @check@(rule: @T@, input: number): boolean {
          switch (rule.kind) {
            case "min":
              return input >= rule.value;
            case "max":
              return input <= rule.value;
            case "between":
              return input >= rule.low && input <= rule.high;
            case "oneOf":
              return rule.values.includes(input);
            case "all":
              return rule.rules.every((inner) => @check@(inner, input));
          }
        }

        export function @desc@(rule: @T@): string {
          switch (rule.kind) {
            case "min":
              return `at least ${rule.value}`;
            case "max":
              return `at most ${rule.value}`;
            case "between":
              return `between ${rule.low} and ${rule.high}`;
            case "oneOf":
              return `one of ${rule.values.join(", ")}`;
            case "all":
              return rule.rules.map(@desc@).join(" and ");
          }
        }
        ''', g.d(T=t, check=check, desc=desc)))


@filler({"domain"}, weight=2)
def fill_specification(f: FileGen, g: Agg):
    base = f.unique(f"{g.name}Spec")
    f.add(block('''
        /** Composable predicates over @hs@ (the specification pattern). */
        export interface @S@<T> {
          isSatisfiedBy(candidate: T): boolean;
        }

        export function @s@All<T>(...specs: readonly @S@<T>[]): @S@<T> {
          return { isSatisfiedBy: (candidate) => specs.every((spec) => spec.isSatisfiedBy(candidate)) };
        }

        export function @s@Any<T>(...specs: readonly @S@<T>[]): @S@<T> {
          return { isSatisfiedBy: (candidate) => specs.some((spec) => spec.isSatisfiedBy(candidate)) };
        }

        export function @s@Not<T>(spec: @S@<T>): @S@<T> {
          return { isSatisfiedBy: (candidate) => !spec.isSatisfiedBy(candidate) };
        }

        export function @s@Where<T, K extends keyof T>(key: K, expected: T[K]): @S@<T> {
          return { isSatisfiedBy: (candidate) => candidate[key] === expected };
        }

        export function select@S@<T>(items: readonly T[], spec: @S@<T>): T[] {
          return items.filter((item) => spec.isSatisfiedBy(item));
        }
        ''', g.d(S=base, s=camel(base))))


@filler({"domain", "application", "infrastructure", "adapters"}, weight=2)
def fill_groupings(f: FileGen, g: Agg):
    suffix = f.rng.choice(SUFFIXES)
    t = f.unique(f"{g.name}{suffix}")
    fn = f.unique(f"build{g.name}{suffix}")
    key = f.rng.choice(["region", "channel", "bucket", "segment", "owner"])
    f.add(block('''
        export interface @T@<T> {
          readonly total: number;
          readonly groups: ReadonlyArray<{ readonly key: string; readonly count: number; readonly sample: readonly T[] }>;
          readonly largest?: string;
        }

        /** Groups items by @key@ and keeps a few samples of each group for display. */
        export function @fn@<T>(items: readonly T[], @key@Of: (item: T) => string, samples = @n@): @T@<T> {
          const buckets = new Map<string, T[]>();
          for (const item of items) {
            const k = @key@Of(item);
            const bucket = buckets.get(k);
            if (bucket) {
              bucket.push(item);
            } else {
              buckets.set(k, [item]);
            }
          }
          const groups = [...buckets.entries()]
            .map(([k, members]) => ({ key: k, count: members.length, sample: members.slice(0, samples) }))
            .sort((left, right) => right.count - left.count || left.key.localeCompare(right.key));
          return { total: items.length, groups, largest: groups[0]?.key };
        }
        ''', g.d(T=t, fn=fn, key=key, n=f.rng.randint(2, 5))))


@filler({"domain", "application"}, weight=2)
def fill_validate_record(f: FileGen, g: Agg):
    noun = f.rng.choice(NOUNS)
    t = f.unique(f"{g.name}{noun}Settings")
    fn = f.unique(f"validate{g.name}{noun}Settings")
    f.add(block('''
        export interface @T@ {
          readonly enabled: boolean;
          readonly limit: number;
          readonly labels: readonly string[];
          readonly mode: "strict" | "lenient" | "off";
        }

        /** Checks settings as they come from configuration; returns every problem, not just the first. */
        export function @fn@(settings: @T@): string[] {
          const problems: string[] = [];
          if (!Number.isInteger(settings.limit) || settings.limit < 0) {
            problems.push(`limit must be a non-negative integer, got ${settings.limit}`);
          }
          if (settings.enabled && settings.mode === "off") {
            problems.push("mode cannot be off while the rule is enabled");
          }
          const seen = new Set<string>();
          for (const label of settings.labels) {
            if (label.trim() !== label || label.length === 0) {
              problems.push(`label "${label}" has stray whitespace or is empty`);
            }
            if (seen.has(label)) {
              problems.push(`label "${label}" appears twice`);
            }
            seen.add(label);
          }
          return problems;
        }
        ''', g.d(T=t, fn=fn)))


# --------------------------------------------------------------------------------------------
# Application
# --------------------------------------------------------------------------------------------


def render_port(f: FileGen, g: Agg):
    f.dep(g.paths["entity"], g.paths["id"], g.paths["events"], "src/shared/pagination.ts")
    d = g.d()
    search = g.fields_of("str")[0]
    f.add(block('''
        export interface @A@Filter {
          readonly statuses?: readonly @A@Status[];
          readonly updatedAfter?: number;
          readonly updatedBefore?: number;
          /** Case-insensitive substring match on the @hs@'s @hsrch@. */
          readonly search?: string;
        }

        /** Storage of @hs@. Implementations scope every call to `ctx.tenant_id`. */
        export interface @A@Repository {
          /** Returns the @h@, or `undefined` when there is none with this id. */
          load(ctx: KrepisContext, id: @A@Id): Promise<@A@ | undefined>;
          /**
           * Stores the @h@ if its stored version still equals `expectedVersion` (0 for a new one);
           * throws a concurrency error otherwise.
           */
          save(ctx: KrepisContext, entity: @A@, expectedVersion: number): Promise<void>;
          list(ctx: KrepisContext, filter: @A@Filter, page: PageRequest): Promise<Page<@A@>>;
          remove(ctx: KrepisContext, id: @A@Id): Promise<void>;
        }

        /** Hands domain events to whoever listens (a broker, a webhook, the outbox). */
        export interface @A@EventPublisher {
          publish(ctx: KrepisContext, events: readonly @A@Event[]): Promise<void>;
        }

        export interface @A@UnitOfWork {
          run<T>(ctx: KrepisContext, work: (ctx: KrepisContext, repository: @A@Repository) => Promise<T>): Promise<T>;
        }
        ''', dict(d, hsrch=human(search.name))))
    if f.rng.random() < 0.6:
        f.add(block('''
            export interface @A@Notifier {
              notify(ctx: KrepisContext, recipient: string, event: @A@Event): Promise<void>;
              notifyMany(ctx: KrepisContext, recipients: readonly string[], event: @A@Event): Promise<number>;
            }
            ''', d))
    if f.rng.random() < 0.5:
        f.add(block('''
            /** Read side: a denormalised projection that is cheaper to query than the aggregate. */
            export interface @A@Projection {
              count(ctx: KrepisContext, filter: @A@Filter): Promise<number>;
              countByStatus(ctx: KrepisContext): Promise<Readonly<Partial<Record<@A@Status, number>>>>;
              lastChangedAt(ctx: KrepisContext, id: @A@Id): Promise<number | undefined>;
            }
            ''', d))


@filler({"application"}, weight=1, once=True, kinds={"port"})
def fill_extra_port(f: FileGen, g: Agg):
    noun = f.rng.choice(["Quote", "Forecast", "Score", "Limit", "Snapshot", "Export"])
    t = f.unique(f"{g.name}{noun}Gateway")
    value = f.unique(f"{g.name}{noun}")
    f.add(block('''
        export interface @T@ {
          lookup(ctx: KrepisContext, id: @A@Id): Promise<@W@ | undefined>;
          lookupMany(ctx: KrepisContext, ids: readonly @A@Id[]): Promise<ReadonlyMap<@A@Id, @W@>>;
          refresh(ctx: KrepisContext, id: @A@Id, reason: string): Promise<void>;
        }

        export interface @W@ {
          readonly id: @A@Id;
          readonly value: number;
          readonly computedAt: number;
          readonly source: "live" | "cached" | "estimated";
        }
        ''', g.d(T=t, W=value)))


def render_command(f: FileGen, g: Agg):
    f.dep(g.paths["id"], g.paths["entity"], g.paths["events"], g.paths["policy"], g.paths["port"],
          "src/shared/errors.ts")
    d = g.d()
    f.add(block('''
        export interface @V@@A@Command {
          readonly id: string;
          readonly requestedBy: string;
          readonly reason?: string;
          /** When set, the command only applies to this version of the @h@. */
          readonly expectedVersion?: number;
        }

        /** Use case: @v@ a @h@ on behalf of a user or an automated job. */
        export class @V@@A@CommandHandler {
          constructor(
            private readonly repository: @A@Repository,
            private readonly events: @A@EventPublisher,
            private readonly policy: @A@PolicyOptions = DEFAULT_@UP@_POLICY,
          ) {}

          async handle(ctx: KrepisContext, command: @V@@A@Command): Promise<void> {
            const issues = validate@V@@A@(command);
            if (issues.length > 0) {
              throw new ValidationError(issues);
            }
            const id = parse@A@Id(command.id);
            if (id === undefined) {
              throw new ValidationError([`id: ${command.id} is not a valid @h@ id`]);
            }
            const entity = await this.repository.load(ctx, id);
            if (entity === undefined) {
              throw new NotFoundError("@h@", command.id);
            }
            if (command.expectedVersion !== undefined && command.expectedVersion !== entity.version) {
              throw new ConcurrencyError(`@h@ ${id} is at version ${entity.version}, expected ${command.expectedVersion}`);
            }
            const now = ctx.clock.now();
            const decision = evaluate@A@(entity, this.policy, now);
            if (decision.kind === "deny") {
              throw new PolicyViolation(decision.reason);
            }
            const from = entity.status;
            const previousVersion = entity.version;
            const outcome = entity.@v@(now);
            if (!outcome.ok) {
              throw outcome.error;
            }
            await this.repository.save(ctx, entity, previousVersion);
            await this.events.publish(ctx, [@a@StatusChanged(entity.toSnapshot(), from, command.reason)]);
          }
        }

        function validate@V@@A@(command: @V@@A@Command): string[] {
          const issues: string[] = [];
          if (command.requestedBy.trim().length === 0) {
            issues.push("requestedBy: must name who asked for this");
          }
          if (command.reason !== undefined && command.reason.length > 500) {
            issues.push("reason: at most 500 characters");
          }
          if (command.expectedVersion !== undefined && (!Number.isInteger(command.expectedVersion) || command.expectedVersion < 1)) {
            issues.push("expectedVersion: must be a positive integer");
          }
          return issues;
        }
        ''', d))


def render_create(f: FileGen, g: Agg):
    f.dep(g.paths["id"], g.paths["entity"], g.paths["events"], g.paths["port"], "src/shared/errors.ts")
    f.add(block('''
        export interface Create@A@Command {
          readonly id: string;
          readonly requestedBy: string;
          readonly input: New@A@Input;
        }

        /**
         * Use case: register a new @h@. The caller picks the id (see `@a@IdFor`), which makes
         * the command idempotent: a retry after a timeout finds the @h@ already there.
         */
        export class Create@A@CommandHandler {
          constructor(private readonly repository: @A@Repository, private readonly events: @A@EventPublisher) {}

          async handle(ctx: KrepisContext, command: Create@A@Command): Promise<void> {
            const id = parse@A@Id(command.id);
            if (id === undefined) {
              throw new ValidationError([`id: ${command.id} is not a valid @h@ id`]);
            }
            const existing = await this.repository.load(ctx, id);
            if (existing !== undefined) {
              if (existing.version === 1) {
                // Same id, untouched since creation: treat as a retry of this very command.
                return;
              }
              throw new ConcurrencyError(`@h@ ${id} already exists`);
            }
            const created = @A@.create(id, command.input, ctx.clock.now());
            if (!created.ok) {
              throw new ValidationError([created.error.message]);
            }
            await this.repository.save(ctx, created.value, 0);
            await this.events.publish(ctx, [@a@Created(created.value.toSnapshot())]);
          }
        }
        ''', g.d()))


def render_query(f: FileGen, g: Agg):
    f.dep(g.paths["id"], g.paths["entity"], g.paths["port"], "src/shared/pagination.ts")
    d = g.d()
    view_fields = "\n".join(
        f"  readonly {x.name}{'?' if x.kind == 'optstr' else ''}: {x.ts};" for x in g.fields)
    view_assign = "\n".join(f"    {x.name}: state.{x.name}," for x in g.fields)
    f.add(block('''
        /** What clients see of a @h@: plain data, timestamps as ISO strings. */
        export interface @A@View {
          readonly id: string;
          readonly status: @A@Status;
          readonly version: number;
          readonly terminal: boolean;
          readonly createdAt: string;
          readonly updatedAt: string;
        @vf@
        }

        export function to@A@View(entity: @A@): @A@View {
          const state = entity.toSnapshot();
          return {
            id: state.id,
            status: state.status,
            version: state.version,
            terminal: is@A@Terminal(state.status),
            createdAt: new Date(state.createdAt).toISOString(),
            updatedAt: new Date(state.updatedAt).toISOString(),
        @va@
          };
        }

        export interface Get@A@Query {
          readonly id: string;
        }

        export class Get@A@QueryHandler {
          constructor(private readonly repository: @A@Repository) {}

          async handle(ctx: KrepisContext, query: Get@A@Query): Promise<@A@View | undefined> {
            const id = parse@A@Id(query.id);
            if (id === undefined) {
              return undefined;
            }
            const entity = await this.repository.load(ctx, id);
            return entity === undefined ? undefined : to@A@View(entity);
          }
        }
        ''', dict(d, vf=view_fields, va=view_assign)))
    if g.has_list:
        f.add(block('''
            export interface List@As@Query {
              readonly statuses?: readonly string[];
              readonly search?: string;
              readonly cursor?: string;
              readonly limit?: number;
            }

            export class List@As@QueryHandler {
              constructor(private readonly repository: @A@Repository) {}

              async handle(ctx: KrepisContext, query: List@As@Query): Promise<Page<@A@View>> {
                const statuses = (query.statuses ?? []).filter(is@A@Status);
                const search = query.search?.trim();
                const page = await this.repository.list(
                  ctx,
                  { statuses: statuses.length > 0 ? statuses : undefined, search: search || undefined },
                  { cursor: query.cursor, limit: clampLimit(query.limit) },
                );
                return mapPage(page, to@A@View);
              }
            }
            ''', d))


@filler({"application"}, weight=3, kinds={"query", "service", "command", "create"})
def fill_count_by_status(f: FileGen, g: Agg):
    if not f.has(f"{g.name}Repository"):
        return False
    fn = f.unique(f"count{plural(g.name)}ByStatus")
    f.add(block('''
        /**
         * Walks all pages of the listing and counts @hs@ per status. Meant for back-office
         * screens; the projection answers the same question faster where it exists.
         */
        export async function @fn@(
          ctx: KrepisContext,
          repository: @A@Repository,
          filter: @A@Filter = {},
        ): Promise<Partial<Record<@A@Status, number>>> {
          const counts: Partial<Record<@A@Status, number>> = {};
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await repository.list(ctx, filter, { cursor, limit: 200 });
            for (const item of page.items) {
              counts[item.status] = (counts[item.status] ?? 0) + 1;
            }
            cursor = page.nextCursor;
            pages += 1;
          } while (cursor !== undefined && pages < @maxp@);
          return counts;
        }
        ''', g.d(fn=fn, maxp=f.rng.choice([100, 500, 1000]))))


@filler({"application"}, weight=2, kinds={"service", "command", "create", "port"})
def fill_cache(f: FileGen, g: Agg):
    t = f.unique(f"{g.name}{f.rng.choice(NOUNS)}Cache")
    f.add(block('''
        /** A small read-through cache with a time-to-live; time comes from the context's clock. */
        export class @T@<V> {
          readonly #entries = new Map<string, { readonly value: V; readonly expiresAt: number }>();

          constructor(
            private readonly ttlMs: number,
            private readonly loader: (ctx: KrepisContext, key: string) => Promise<V>,
            private readonly maxEntries = @max@,
          ) {}

          async get(ctx: KrepisContext, key: string): Promise<V> {
            const now = ctx.clock.now();
            const hit = this.#entries.get(key);
            if (hit !== undefined && hit.expiresAt > now) {
              return hit.value;
            }
            const value = await this.loader(ctx, key);
            if (this.#entries.size >= this.maxEntries) {
              const oldest = this.#entries.keys().next();
              if (!oldest.done) {
                this.#entries.delete(oldest.value);
              }
            }
            this.#entries.set(key, { value, expiresAt: now + this.ttlMs });
            return value;
          }

          invalidate(key: string): boolean {
            return this.#entries.delete(key);
          }

          get size(): number {
            return this.#entries.size;
          }
        }
        ''', g.d(T=t, max=f.rng.choice([256, 1000, 4096]))))


def render_service(f: FileGen, g: Agg):
    f.dep(g.paths["command"], g.paths["port"], g.paths["entity"], g.paths["id"], g.paths["policy"],
          "src/shared/errors.ts", "src/shared/logger.ts", "src/shared/collections.ts")
    f.add(block('''
        export interface @A@ServiceDeps {
          readonly repository: @A@Repository;
          readonly events: @A@EventPublisher;
          readonly logger: Logger;
        }

        export interface @A@BulkOutcome {
          readonly succeeded: readonly string[];
          readonly failed: readonly { readonly id: string; readonly reason: string }[];
        }

        /** Applies `@v@` to many @hs@; failures are collected, not thrown, so one bad id does not stop the batch. */
        export async function bulk@V@@As@(
          ctx: KrepisContext,
          deps: @A@ServiceDeps,
          ids: readonly string[],
          requestedBy: string,
        ): Promise<@A@BulkOutcome> {
          const handler = new @V@@A@CommandHandler(deps.repository, deps.events);
          const succeeded: string[] = [];
          const failed: { id: string; reason: string }[] = [];
          for (const batch of chunk(uniqueBy(ids, (id) => id), @batch@)) {
            for (const id of batch) {
              try {
                await handler.handle(ctx, { id, requestedBy });
                succeeded.push(id);
              } catch (error) {
                failed.push({ id, reason: describeError(error) });
              }
            }
          }
          logInfo(ctx, deps.logger, "bulk @v@ finished", { succeeded: succeeded.length, failed: failed.length });
          return { succeeded, failed };
        }

        /** Finds @hs@ that nobody touched for `olderThanMs`, oldest first. */
        export async function findStale@As@(
          ctx: KrepisContext,
          repository: @A@Repository,
          olderThanMs: number,
          limit = 500,
        ): Promise<readonly @A@Id[]> {
          const cutoff = ctx.clock.now() - olderThanMs;
          const stale: @A@[] = [];
          let cursor: string | undefined;
          do {
            const page = await repository.list(ctx, { updatedBefore: cutoff }, { cursor, limit: 100 });
            stale.push(...page.items.filter((item) => !is@A@Terminal(item.status)));
            cursor = page.nextCursor;
          } while (cursor !== undefined && stale.length < limit);
          return stale
            .sort((left, right) => left.updatedAt - right.updatedAt)
            .slice(0, limit)
            .map((item) => item.id);
        }

        export async function load@A@OrThrow(ctx: KrepisContext, repository: @A@Repository, id: @A@Id): Promise<@A@> {
          const entity = await repository.load(ctx, id);
          if (entity === undefined) {
            throw new NotFoundError("@h@", id);
          }
          return entity;
        }

        /** Summarises the @hs@ that match the filter, for dashboards. */
        export async function summarize@A@Backlog(
          ctx: KrepisContext,
          deps: @A@ServiceDeps,
          filter: @A@Filter,
        ): Promise<@A@Totals> {
          const page = await deps.repository.list(ctx, filter, { limit: 500 });
          const totals = summarize@As@(page.items);
          if (page.nextCursor !== undefined) {
            logWarn(ctx, deps.logger, "@h@ backlog summary is partial", { counted: totals.count });
          }
          return totals;
        }
        ''', g.d(batch=f.rng.choice([10, 25, 50, 100]))))


# --------------------------------------------------------------------------------------------
# Infrastructure
# --------------------------------------------------------------------------------------------


def render_sql(f: FileGen, g: Agg):
    f.dep(g.paths["entity"], g.paths["id"], g.paths["port"], "src/shared/sql.ts", "src/shared/pagination.ts",
          "src/shared/errors.ts", "src/shared/http.ts")
    d = g.d()
    row_ts = {"str": "string", "num": "number", "bool": "boolean", "list": "string", "optnum": "number | null",
              "optstr": "string | null"}
    row_fields = "\n".join(f"  readonly {x.col}: {row_ts[x.kind]};" for x in g.fields)
    cols = ["id", "status", "version", "created_at", "updated_at"] + [x.col for x in g.fields]

    def from_row(x):
        if x.kind == "list":
            return f"    {x.name}: JSON.parse(row.{x.col}) as string[],"
        if x.kind == "optstr":
            return f"    {x.name}: row.{x.col} ?? undefined,"
        return f"    {x.name}: row.{x.col},"

    def to_param(x):
        if x.kind == "list":
            return f"    JSON.stringify(state.{x.name}),"
        if x.kind == "optstr":
            return f"    state.{x.name} ?? null,"
        return f"    state.{x.name},"

    n = len(cols)
    sets = ", ".join(f"{c} = ${i + 3}" for i, c in enumerate(cols[1:]))
    search = g.fields_of("str")[0]
    f.add(block('''
        const TABLE = "@table@";

        const COLUMNS = [
        @cols@
        ].join(", ");

        interface @A@Row {
          readonly id: string;
          readonly status: string;
          readonly version: number;
          readonly created_at: number;
          readonly updated_at: number;
        @rowf@
        }

        /** Postgres storage of @hs@, one row per aggregate, optimistic locking on `version`. */
        export class Sql@A@Repository implements @A@Repository {
          constructor(private readonly sql: SqlClient) {}

          async load(ctx: KrepisContext, id: @A@Id): Promise<@A@ | undefined> {
            const rows = await this.sql.query<@A@Row>(
              ctx,
              `SELECT ${COLUMNS} FROM ${TABLE} WHERE tenant_id = $1 AND id = $2`,
              [ctx.tenant_id, id],
            );
            const row = rows[0];
            return row === undefined ? undefined : @A@.rehydrate(from@A@Row(row));
          }

          async save(ctx: KrepisContext, entity: @A@, expectedVersion: number): Promise<void> {
            const state = entity.toSnapshot();
            const params = [ctx.tenant_id, ...to@A@Params(state)];
            if (expectedVersion === 0) {
              const inserted = await this.sql.execute(
                ctx,
                `INSERT INTO ${TABLE} (tenant_id, ${COLUMNS}) VALUES (@placeholders@) ON CONFLICT DO NOTHING`,
                params,
              );
              if (inserted === 0) {
                throw new ConcurrencyError(`@h@ ${state.id} already exists`);
              }
              return;
            }
            const updated = await this.sql.execute(
              ctx,
              `UPDATE ${TABLE} SET @sets@ WHERE tenant_id = $1 AND id = $2 AND version = $@vparam@`,
              [...params, expectedVersion],
            );
            if (updated === 0) {
              throw new ConcurrencyError(`@h@ ${state.id} changed since version ${expectedVersion}`);
            }
          }

          async list(ctx: KrepisContext, filter: @A@Filter, page: PageRequest): Promise<Page<@A@>> {
            const where = ["tenant_id = $1"];
            const params: SqlValue[] = [ctx.tenant_id];
            if (filter.statuses !== undefined && filter.statuses.length > 0) {
              params.push(filter.statuses.join(","));
              where.push(`status = ANY(string_to_array($${params.length}, ','))`);
            }
            if (filter.updatedAfter !== undefined) {
              params.push(filter.updatedAfter);
              where.push(`updated_at > $${params.length}`);
            }
            if (filter.updatedBefore !== undefined) {
              params.push(filter.updatedBefore);
              where.push(`updated_at < $${params.length}`);
            }
            if (filter.search) {
              params.push(`%${filter.search.replace(/[%_]/g, "")}%`);
              where.push(`@scol@ ILIKE $${params.length}`);
            }
            const offset = decodeCursor(page.cursor);
            const limit = clampLimit(page.limit);
            const rows = await this.sql.query<@A@Row>(
              ctx,
              `SELECT ${COLUMNS} FROM ${TABLE} WHERE ${where.join(" AND ")} ORDER BY updated_at DESC, id LIMIT ${limit + 1} OFFSET ${offset}`,
              params,
            );
            return {
              items: rows.slice(0, limit).map((row) => @A@.rehydrate(from@A@Row(row))),
              nextCursor: rows.length > limit ? encodeCursor(offset + limit) : undefined,
            };
          }

          async remove(ctx: KrepisContext, id: @A@Id): Promise<void> {
            await this.sql.execute(ctx, `DELETE FROM ${TABLE} WHERE tenant_id = $1 AND id = $2`, [ctx.tenant_id, id]);
          }
        }

        function from@A@Row(row: @A@Row): @A@State {
          const id = parse@A@Id(row.id);
          if (id === undefined) {
            throw new Error(`${TABLE}: malformed id ${row.id}`);
          }
          if (!is@A@Status(row.status)) {
            throw new Error(`${TABLE}: unknown status ${row.status} for ${row.id}`);
          }
          return {
            id,
            status: row.status,
            version: row.version,
            createdAt: row.created_at,
            updatedAt: row.updated_at,
        @fromrow@
          };
        }

        function to@A@Params(state: @A@State): SqlValue[] {
          return [
            state.id,
            state.status,
            state.version,
            state.createdAt,
            state.updatedAt,
        @toparams@
          ];
        }
        ''', dict(d, cols="\n".join(f'  "{c}",' for c in cols), rowf=row_fields,
                  placeholders=", ".join(f"${i + 1}" for i in range(n + 1)), sets=sets, vparam=n + 2,
                  scol=search.col, fromrow="\n".join(from_row(x) for x in g.fields),
                  toparams="\n".join(to_param(x) for x in g.fields))))


@filler({"infrastructure"}, weight=1, once=True)
def fill_in_memory(f: FileGen, g: Agg):
    if not (f.has(f"{g.name}Repository") and f.has(g.name) and f.has("Page")):
        return False
    f.add(block('''
        /** For tests and local development: same contract as the SQL repository, kept in a Map. */
        export class InMemory@A@Repository implements @A@Repository {
          readonly #rows = new Map<string, @A@State>();

          async load(ctx: KrepisContext, id: @A@Id): Promise<@A@ | undefined> {
            const state = this.#rows.get(`${ctx.tenant_id}/${id}`);
            return state === undefined ? undefined : @A@.rehydrate(state);
          }

          async save(ctx: KrepisContext, entity: @A@, expectedVersion: number): Promise<void> {
            const key = `${ctx.tenant_id}/${entity.id}`;
            const current = this.#rows.get(key);
            if ((current?.version ?? 0) !== expectedVersion) {
              throw new Error(`version conflict on ${key}: stored ${current?.version ?? 0}, expected ${expectedVersion}`);
            }
            this.#rows.set(key, entity.toSnapshot());
          }

          async list(ctx: KrepisContext, filter: @A@Filter, page: PageRequest): Promise<Page<@A@>> {
            const prefix = `${ctx.tenant_id}/`;
            const matching = [...this.#rows.entries()]
              .filter(([key]) => key.startsWith(prefix))
              .map(([, state]) => state)
              .filter((state) => filter.statuses === undefined || filter.statuses.includes(state.status))
              .filter((state) => filter.updatedAfter === undefined || state.updatedAt > filter.updatedAfter)
              .filter((state) => filter.updatedBefore === undefined || state.updatedAt < filter.updatedBefore)
              .sort((left, right) => right.updatedAt - left.updatedAt);
            const offset = Number(page.cursor ?? "0");
            const limit = page.limit ?? 50;
            const items = matching.slice(offset, offset + limit).map((state) => @A@.rehydrate(state));
            return { items, nextCursor: offset + limit < matching.length ? String(offset + limit) : undefined };
          }

          async remove(ctx: KrepisContext, id: @A@Id): Promise<void> {
            this.#rows.delete(`${ctx.tenant_id}/${id}`);
          }
        }
        ''', g.d()))


@filler({"infrastructure", "adapters"}, weight=3)
def fill_remote_lookup(f: FileGen, g: Agg):
    if not f.has("fetchJson"):
        return False
    noun = f.rng.choice(["Rate", "Score", "Quote", "Forecast", "Eligibility", "Estimate", "Limit"])
    t = f.unique(f"{g.name}{noun}Payload")
    fn = f.unique(f"fetch{g.name}{noun}")
    f.add(block('''
        interface @T@ {
          readonly id: string;
          readonly value: number;
          readonly currency?: string;
          readonly validUntil?: string;
          readonly warnings?: readonly string[];
        }

        /** Asks the @hn@ service; answers are advisory, so a failure yields `undefined`, not an error. */
        export async function @fn@(ctx: KrepisContext, baseUrl: string, id: string): Promise<@T@ | undefined> {
          const url = `${baseUrl.replace(/\\/$/, "")}/v@ver@/@kn@/${encodeURIComponent(id)}`;
          try {
            const payload = await fetchJson<@T@>(ctx, url, { method: "GET" });
            if (typeof payload.value !== "number" || Number.isNaN(payload.value)) {
              return undefined;
            }
            return payload;
          } catch {
            return undefined;
          }
        }
        ''', g.d(T=t, fn=fn, hn=noun.lower(), kn=plural(noun.lower()), ver=f.rng.randint(1, 3))))


@filler({"infrastructure"}, weight=2)
def fill_sql_report(f: FileGen, g: Agg):
    if not f.has("SqlClient"):
        return False
    fn = f.unique(f"load{g.name}DailyCounts")
    t = f.unique(f"{g.name}DailyCount")
    f.add(block('''
        export interface @T@ {
          readonly day: string;
          readonly status: string;
          readonly count: number;
        }

        const @K@ = `
          SELECT to_char(to_timestamp(updated_at / 1000), 'YYYY-MM-DD') AS day, status, count(*)::int AS count
          FROM @table@
          WHERE tenant_id = $1 AND updated_at >= $2
          GROUP BY 1, 2
          ORDER BY 1 DESC, 2
        `;

        /** Daily counts per status over the last `days` days, for the operations dashboard. */
        export async function @fn@(ctx: KrepisContext, sql: SqlClient, days = @days@): Promise<readonly @T@[]> {
          const since = ctx.clock.now() - days * 86_400_000;
          const rows = await sql.query<@T@>(ctx, @K@, [ctx.tenant_id, since]);
          return rows.filter((row) => row.count > 0);
        }
        ''', g.d(T=t, fn=fn, K=f.unique(f"{g.up}_DAILY_COUNTS_SQL"), days=f.rng.choice([7, 14, 30, 90]))))


def render_publisher(f: FileGen, g: Agg):
    f.dep(g.paths["events"], g.paths["port"], "src/shared/retry.ts", "src/shared/http.ts",
          "src/shared/collections.ts", "src/shared/logger.ts")
    f.add(block('''
        export interface Http@A@PublisherOptions {
          readonly endpoint: string;
          readonly batchSize: number;
          readonly attempts: number;
        }

        /** Publishes @h@ events to the event gateway over HTTP, in batches, with retries. */
        export class Http@A@Publisher implements @A@EventPublisher {
          constructor(private readonly options: Http@A@PublisherOptions, private readonly logger: Logger) {}

          async publish(ctx: KrepisContext, events: readonly @A@Event[]): Promise<void> {
            if (events.length === 0) {
              return;
            }
            for (const batch of chunk(events, this.options.batchSize)) {
              await withRetry(ctx, (ctx: KrepisContext, attempt: number) => this.#post(ctx, batch, attempt), {
                attempts: this.options.attempts,
                baseDelayMs: @delay@,
                retryIf: (error) => !(error instanceof HttpError) || error.status >= 500,
              });
            }
            logInfo(ctx, this.logger, "published @h@ events", { count: events.length });
          }

          async #post(ctx: KrepisContext, batch: readonly @A@Event[], attempt: number): Promise<void> {
            const response = await fetch(this.options.endpoint, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                "x-attempt": String(attempt),
                ...contextHeaders(ctx),
              },
              body: JSON.stringify({ source: "@c@", events: batch.map(to@A@Wire) }),
            });
            if (!response.ok) {
              throw new HttpError(response.status, this.options.endpoint, await response.text());
            }
          }
        }

        function to@A@Wire(event: @A@Event): Record<string, unknown> {
          return {
            type: event.type,
            subject: event.aggregateId,
            version: event.version,
            time: new Date(event.occurredAt).toISOString(),
            data: event,
          };
        }
        ''', g.d(delay=f.rng.choice([50, 100, 200, 250]))))


# --------------------------------------------------------------------------------------------
# Adapters
# --------------------------------------------------------------------------------------------


def parse_input_fn(g: Agg) -> str:
    reads = []
    for x in g.fields:
        fn = {"str": "readString", "num": "readNumber", "bool": "readBoolean", "list": "readStringArray",
              "optnum": "readOptionalNumber", "optstr": "readOptionalString"}[x.kind]
        reads.append(f'  const {x.name} = {fn}(body, "{x.name}", issues);')
    return block('''
        function parseNew@A@(body: unknown): New@A@Input | string[] {
          if (!isRecord(body)) {
            return ["body: expected a JSON object"];
          }
          const issues: string[] = [];
        @reads@
          if (issues.length > 0) {
            return issues;
          }
          return { @names@ };
        }
        ''', g.d(reads="\n".join(reads), names=", ".join(x.name for x in g.fields)))


def render_routes(f: FileGen, g: Agg):
    f.dep(g.paths["command"], g.paths.get("create"),
          g.paths["query"], g.paths["port"], g.paths["entity"], g.paths["id"], "src/shared/router.ts",
          "src/shared/http.ts", "src/shared/validation.ts", "src/shared/errors.ts", "src/shared/logger.ts")
    has_create = f.has(f"Create{g.name}CommandHandler")
    has_list = f.has(f"List{plural(g.name)}QueryHandler")
    d = g.d()
    regs = [
        '  router.get("/@c@/@ks@/:id", (ctx, _request, params) => handleGet@A@(ctx, get, params.id ?? ""));',
        '  router.post("/@c@/@ks@/:id/@v@", (ctx, request, params) => handle@V@@A@(ctx, deps, @v@, request, params.id ?? ""));',
    ]
    if has_create:
        regs.append('  router.post("/@c@/@ks@", (ctx, request) => handleCreate@A@(ctx, deps, create, request));')
    if has_list:
        regs.append('  router.get("/@c@/@ks@", (ctx, request) => handleList@As@(ctx, list, request));')
    setup = ["  const get = new Get@A@QueryHandler(deps.repository);",
             "  const @v@ = new @V@@A@CommandHandler(deps.repository, deps.events);"]
    if has_create:
        setup.append("  const create = new Create@A@CommandHandler(deps.repository, deps.events);")
    if has_list:
        setup.append("  const list = new List@As@QueryHandler(deps.repository);")
    f.add(block('''
        export interface @A@RouteDeps {
          readonly repository: @A@Repository;
          readonly events: @A@EventPublisher;
          readonly logger: Logger;
        }

        /** Mounts the @h@ endpoints; handlers are built once and shared by all requests. */
        export function register@A@Routes(router: Router, deps: @A@RouteDeps): void {
        @setup@
        @regs@
        }

        export async function handleGet@A@(ctx: KrepisContext, handler: Get@A@QueryHandler, id: string): Promise<Response> {
          const view = await handler.handle(ctx, { id });
          if (view === undefined) {
            return problem(404, "@h@ not found", `no @h@ with id ${id}`);
          }
          return json(view, 200, { etag: `"${view.version}"` });
        }

        export async function handle@V@@A@(
          ctx: KrepisContext,
          deps: @A@RouteDeps,
          handler: @V@@A@CommandHandler,
          request: Request,
          id: string,
        ): Promise<Response> {
          const body = await readJson(ctx, request);
          const issues: string[] = [];
          const record = isRecord(body) ? body : {};
          const reason = readOptionalString(record, "reason", issues);
          const requestedBy = readOptionalString(record, "requestedBy", issues) ?? ctx.tenant_id;
          const ifMatch = request.headers.get("if-match");
          if (issues.length > 0) {
            return problem(422, "invalid request", issues.join("; "));
          }
          try {
            await handler.handle(ctx, {
              id,
              requestedBy,
              reason,
              expectedVersion: ifMatch === null ? undefined : Number(ifMatch.replaceAll('"', "")),
            });
            return noContent();
          } catch (error) {
            return errorResponse(ctx, deps.logger, error);
          }
        }

        function errorResponse(ctx: KrepisContext, logger: Logger, error: unknown): Response {
          const status = httpStatusOf(error);
          if (status >= 500) {
            logError(ctx, logger, "@h@ request failed", error);
            return problem(status, "internal error", `request ${ctx.request_id} failed`);
          }
          return problem(status, describeError(error));
        }
        ''', dict(d, setup=sub("\n".join(setup), d), regs=sub("\n".join(regs), d))))
    if has_create:
        f.add(parse_input_fn(g))
        f.add(block('''
            export async function handleCreate@A@(
              ctx: KrepisContext,
              deps: @A@RouteDeps,
              handler: Create@A@CommandHandler,
              request: Request,
            ): Promise<Response> {
              const body = await readJson(ctx, request);
              const input = parseNew@A@(isRecord(body) ? body.@a@ ?? body : body);
              if (Array.isArray(input)) {
                return problem(422, "invalid @h@", input.join("; "));
              }
              const key = isRecord(body) && typeof body.key === "string" ? body.key : ctx.request_id;
              const id = @a@IdFor(ctx.tenant_id, key);
              try {
                await handler.handle(ctx, { id, requestedBy: ctx.tenant_id, input });
                return json({ id }, 201, { location: `/@c@/@ks@/${id}` });
              } catch (error) {
                return errorResponse(ctx, deps.logger, error);
              }
            }
            ''', d))
    if has_list:
        f.add(block('''
            export async function handleList@As@(ctx: KrepisContext, handler: List@As@QueryHandler, request: Request): Promise<Response> {
              const url = new URL(request.url);
              const limit = url.searchParams.get("limit");
              const page = await handler.handle(ctx, {
                statuses: url.searchParams.getAll("status"),
                search: url.searchParams.get("q") ?? undefined,
                cursor: url.searchParams.get("cursor") ?? undefined,
                limit: limit === null ? undefined : Number(limit),
              });
              const headers: Record<string, string> = {};
              if (page.nextCursor !== undefined) {
                url.searchParams.set("cursor", page.nextCursor);
                headers.link = `<${url.pathname}${url.search}>; rel="next"`;
              }
              return json(page, 200, headers);
            }
            ''', d))


@filler({"adapters"}, weight=2)
def fill_adapter_guard(f: FileGen, g: Agg):
    t = f.unique(f"{g.name}{f.rng.choice(['Import', 'Sync', 'Bulk', 'Batch', 'Export'])}Request")
    fn = f.unique(f"parse{t}")
    f.add(block('''
        export interface @T@ {
          readonly ids: readonly string[];
          readonly dryRun: boolean;
          readonly note?: string;
        }

        /** Accepts `{ ids: string[], dryRun?: boolean, note?: string }`; anything else is a 422. */
        export function @fn@(body: unknown): @T@ | string[] {
          if (typeof body !== "object" || body === null) {
            return ["body: expected a JSON object"];
          }
          const raw = body as Record<string, unknown>;
          const problems: string[] = [];
          const ids = Array.isArray(raw.ids) ? raw.ids.filter((id): id is string => typeof id === "string") : [];
          if (ids.length === 0) {
            problems.push("ids: expected a non-empty list of strings");
          }
          if (ids.length > @max@) {
            problems.push(`ids: at most @max@ per request, got ${ids.length}`);
          }
          if (raw.dryRun !== undefined && typeof raw.dryRun !== "boolean") {
            problems.push("dryRun: expected true or false");
          }
          if (raw.note !== undefined && typeof raw.note !== "string") {
            problems.push("note: expected a string");
          }
          if (problems.length > 0) {
            return problems;
          }
          return { ids, dryRun: raw.dryRun === true, note: typeof raw.note === "string" ? raw.note : undefined };
        }
        ''', g.d(T=t, fn=fn, max=f.rng.choice([100, 500, 1000]))))


def render_consumer(f: FileGen, g: Agg):
    f.dep(g.paths["command"], "src/shared/events.ts", "src/shared/retry.ts", "src/shared/logger.ts",
          "src/shared/validation.ts", "src/shared/errors.ts")
    f.add(block('''
        /** Messages other contexts send to ask for a @h@ to be @v@d. */
        export interface @A@@V@Message {
          readonly @a@Id: string;
          readonly requestedBy: string;
          readonly reason?: string;
        }

        export function parse@A@@V@Message(payload: unknown): @A@@V@Message | undefined {
          if (!isRecord(payload)) {
            return undefined;
          }
          const issues: string[] = [];
          const @a@Id = readString(payload, "@a@Id", issues);
          const requestedBy = readString(payload, "requestedBy", issues);
          const reason = readOptionalString(payload, "reason", issues);
          return issues.length === 0 ? { @a@Id, requestedBy, reason } : undefined;
        }

        /** Queue consumer: at-least-once delivery, so the command must be (and is) idempotent. */
        export class @A@MessageConsumer {
          constructor(private readonly handler: @V@@A@CommandHandler, private readonly logger: Logger) {}

          async onMessage(ctx: KrepisContext, envelope: Envelope<unknown>): Promise<void> {
            if (envelope.type !== "@c@.@k@.@v@-requested") {
              return;
            }
            const message = parse@A@@V@Message(envelope.payload);
            if (message === undefined) {
              logWarn(ctx, this.logger, "dropping malformed @h@ message", { id: envelope.id, attempt: envelope.attempt });
              return;
            }
            try {
              await withRetry(
                ctx,
                (ctx: KrepisContext) => this.handler.handle(ctx, { id: message.@a@Id, requestedBy: message.requestedBy, reason: message.reason }),
                { attempts: @att@, baseDelayMs: @delay@, retryIf: (error) => !(error instanceof ValidationError) },
              );
            } catch (error) {
              logError(ctx, this.logger, `giving up on message ${envelope.id}`, error);
              throw error;
            }
          }
        }
        ''', g.d(att=f.rng.randint(2, 5), delay=f.rng.choice([25, 50, 100]))))


# --------------------------------------------------------------------------------------------
# Composition
# --------------------------------------------------------------------------------------------


def render_mod(f: FileGen, context: str, aggs: list):
    f.dep("src/shared/router.ts", "src/shared/sql.ts", "src/shared/logger.ts")
    wires = []
    consumers = []
    for g in aggs:
        if g.paths.get("routes") not in f.gen.exports or g.paths.get("publisher") not in f.gen.exports:
            continue
        f.dep(g.paths["sql"], g.paths["publisher"], g.paths["routes"])
        wires.append(sub('''
  const @a@Repository = new Sql@A@Repository(config.sql);
  const @a@Events = new Http@A@Publisher({ endpoint: `${config.eventsUrl}/@c@`, batchSize: config.batchSize, attempts: 3 }, config.logger);
  register@A@Routes(router, { repository: @a@Repository, events: @a@Events, logger: config.logger });''', g.d()))
        if g.paths.get("consumer") in f.gen.exports:
            f.dep(g.paths["command"], g.paths["consumer"])
            consumers.append(sub('''
    new @A@MessageConsumer(new @V@@A@CommandHandler(@a@Repository, @a@Events), config.logger),''', g.d()))
    C = pascal(context)
    consumer_decl = ""
    if consumers:
        consumer_decl = "\n  const consumers = [" + "".join(consumers) + "\n  ];\n  for (const consumer of consumers) {\n    config.subscribe((ctx, envelope) => consumer.onMessage(ctx, envelope));\n  }"
    f.add(block('''
        /**
         * Composition of the @c@ context: picks the adapters for each port and mounts the routes.
         * Nothing else in the application knows which infrastructure the context uses.
         */
        export interface @C@ModuleConfig {
          readonly sql: SqlClient;
          readonly eventsUrl: string;
          readonly batchSize: number;
          readonly logger: Logger;
          readonly subscribe: (handler: (ctx: KrepisContext, envelope: Envelope<unknown>) => Promise<void>) => void;
        }

        export function mount@C@(router: Router, config: @C@ModuleConfig): void {
        @wires@@consumers@
        }
        ''', {"c": context, "C": C, "wires": "\n".join(w.lstrip("\n") for w in wires) or "  void router;",
              "consumers": consumer_decl}))
    f.dep("src/shared/events.ts")


def render_main(f: FileGen, mods: list):
    f.dep("src/shared/router.ts", "src/shared/sql.ts", "src/shared/logger.ts", "src/shared/http.ts",
          "src/shared/errors.ts", "src/shared/events.ts")
    f.avail["createContext"] = (CORE, False)
    mounts = []
    for path, context in mods:
        f.dep(path)
        mounts.append(f"  mount{pascal(context)}(router, modules);")
    f.add(block('''
        export interface AppConfig {
          readonly port: number;
          readonly databaseUrl: string;
          readonly databaseToken: string;
          readonly eventsUrl: string;
          readonly batchSize: number;
        }

        export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
          const missing = ["DATABASE_URL", "DATABASE_TOKEN", "EVENTS_URL"].filter((name) => !env[name]);
          if (missing.length > 0) {
            throw new Error(`missing configuration: ${missing.join(", ")}`);
          }
          return {
            port: Number(env.PORT ?? "8000"),
            databaseUrl: env.DATABASE_URL ?? "",
            databaseToken: env.DATABASE_TOKEN ?? "",
            eventsUrl: env.EVENTS_URL ?? "",
            batchSize: Number(env.EVENTS_BATCH_SIZE ?? "50"),
          };
        }

        /** The composition root: the only place that sees every context and every adapter. */
        export function compose(config: AppConfig, logger: Logger = new JsonLogger()): { router: Router; handlers: MessageHandler[] } {
          const router = new Router();
          const handlers: MessageHandler[] = [];
          const modules = {
            sql: new HttpSqlClient(config.databaseUrl, config.databaseToken),
            eventsUrl: config.eventsUrl,
            batchSize: config.batchSize,
            logger,
            subscribe: (handler: MessageHandler) => {
              handlers.push(handler);
            },
          };
        @mounts@
          return { router, handlers };
        }

        export async function serve(ctx: KrepisContext, router: Router, logger: Logger, request: Request): Promise<Response> {
          try {
            return await router.dispatch(ctx, request);
          } catch (error) {
            logError(ctx, logger, "unhandled error", error);
            return problem(httpStatusOf(error), "request failed", `request ${ctx.request_id}`);
          }
        }

        if (import.meta.main) {
          const config = loadConfig(Deno.env.toObject());
          const logger = new JsonLogger();
          const { router } = compose(config, logger);
          Deno.serve({ port: config.port }, (request: Request) =>
            serve(
              createContext({
                request_id: request.headers.get("x-request-id") ?? crypto.randomUUID(),
                tenant_id: request.headers.get("x-tenant-id") ?? "public",
              }),
              router,
              logger,
              request,
            ));
        }
        ''', {"mounts": "\n".join(mounts)}))


# --------------------------------------------------------------------------------------------
# Violations
# --------------------------------------------------------------------------------------------


def violation_missing_ctx(f: FileGen, vr: random.Random):
    variant = vr.randrange(3)
    if variant == 0:
        name = f.unique("waitForAll")
        f.add(block('''
            /** Resolves once every promise has settled and keeps only the fulfilled values. */
            export async function @n@<T>(pending: readonly Promise<T>[]): Promise<T[]> {
              const settled = await Promise.allSettled(pending);
              return settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
            }
            ''', {"n": name}))
    elif variant == 1:
        name = f.unique("drainQueue")
        f.add(block('''
            export const @n@ = async (queue: string[], limit: number): Promise<number> => {
              let drained = 0;
              while (queue.length > 0 && drained < limit) {
                queue.shift();
                drained += 1;
                await Promise.resolve();
              }
              return drained;
            };
            ''', {"n": name}))
    else:
        name = f.unique("firstResolved")
        f.add(block('''
            export async function @n@<T>(candidates: readonly Promise<T>[]): Promise<T | undefined> {
              for (const candidate of candidates) {
                try {
                  return await candidate;
                } catch {
                  // try the next one
                }
              }
              return undefined;
            }
            ''', {"n": name}))


def violation_layer(f: FileGen, target: Slot):
    cls = f"Sql{target.agg.name}Repository"
    f.avail[cls] = (target.path, True)
    alias = f.unique(f"Legacy{target.agg.name}Store")
    f.add(block('''
        /** Kept for the legacy import job until it moves to the port. */
        export type @X@ = @C@;
        ''', {"X": alias, "C": cls}))


def violation_als(f: FileGen):
    f.avail["AsyncLocalStorage"] = ("node:async_hooks", False)
    scope = f.unique("requestScope")
    fn = f.unique("currentTenant")
    f.add(block('''
        const @s@ = new AsyncLocalStorage<{ readonly requestId: string; readonly tenantId: string }>();

        /** Returns the tenant of the request being served, if any. */
        export function @fn@(): string | undefined {
          return @s@.getStore()?.tenantId;
        }
        ''', {"s": scope, "fn": fn}))


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

RENDER = {
    "id": render_id, "entity": render_entity, "events": render_events, "policy": render_policy,
    "port": render_port, "command": render_command, "create": render_create, "query": render_query,
    "service": render_service, "sql": render_sql, "publisher": render_publisher, "routes": render_routes,
    "consumer": render_consumer,
}

# Fillers that would put a state-changing call or a second handler where CQS looks are left out
# of commands/ and queries/ by the `kinds` filter above.


class Generator:
    def __init__(self, out: str, n_files: int, seed: int, violations: float):
        self.out = out
        self.n_files = n_files
        self.rng = random.Random(seed)
        # A separate stream for violations: the same seed gives the same code at any --violations.
        self.vrng = random.Random(seed * 1_000_003 + 17)
        self.p_violation = violations
        self.exports: dict[str, list[tuple[str, bool]]] = {}
        self.injected: list[dict] = []
        self.lines = 0
        self.bytes = 0
        # Mean ~250 lines per file with a long tail, like real code bases.
        self.mu = math.log(250) - 0.5 * 0.55 ** 2 - 0.13

    def run(self):
        slots = plan(self.n_files, self.rng)
        infra_so_far: list[Slot] = []
        ctx_aggs: dict[str, list[Agg]] = {}
        mods: list[tuple[str, str]] = []
        for slot in slots:
            f = FileGen(self, slot)
            layer = layer_of(slot.path)
            if slot.kind.startswith("shared:"):
                text = SHARED[slot.kind.split(":", 1)[1]].lstrip("\n")
                self._register(slot.path, text)
                self._write(slot.path, text)
                continue
            if slot.kind == "mod":
                render_mod(f, slot.context, ctx_aggs.get(slot.context, []))
                mods.append((slot.path, slot.context))
            elif slot.kind == "main":
                render_main(f, mods)
            else:
                g = slot.agg
                if slot.kind == "id":
                    ctx_aggs.setdefault(g.context, []).append(g)
                RENDER[slot.kind](f, g)
                self._fill(f, g, layer, slot.kind)
            self._maybe_violate(f, slot, layer, infra_so_far)
            text = f.render(self._header(f, slot))
            self._register(slot.path, text)
            self._write(slot.path, text)
            if slot.kind == "sql":
                infra_so_far.append(slot)
        self._write_meta()

    def _fill(self, f: FileGen, g: Agg, layer: str, kind: str):
        target = max(40, min(1500, int(self.rng.lognormvariate(self.mu, 0.55))))
        pool = [(fn, w, once) for fn, layers, w, once, kinds in FILLERS
                if layer in layers and (kinds is None or kind in kinds)]
        if kind in ("command", "create", "query"):
            # Keep handler modules to handlers: CQS looks at everything under commands/ and queries/.
            pool = [(fn, w, once) for fn, w, once in pool if fn in (fill_count_by_status, fill_rule_union, fill_validate_record)]
        used_once = set()
        attempts = 0
        while f.lines() < target and pool and attempts < 40:
            attempts += 1
            choices = [(fn, w) for fn, w, once in pool if not (once and fn in used_once)]
            if not choices:
                break
            fn = self.rng.choices([c[0] for c in choices], weights=[c[1] for c in choices])[0]
            if fn(f, g) is False:
                pool = [p for p in pool if p[0] is not fn]
                continue
            used_once.add(fn)

    def _maybe_violate(self, f: FileGen, slot: Slot, layer: str | None, infra: list[Slot]):
        if self.vrng.random() >= self.p_violation:
            return
        kinds = ["explicit-context"]
        if layer != "domain":
            kinds.append("no-implicit-context")
        elif infra:
            kinds.append("layer-boundary")
        kind = self.vrng.choice(kinds)
        if kind == "explicit-context":
            violation_missing_ctx(f, self.vrng)
        elif kind == "no-implicit-context":
            violation_als(f)
        else:
            violation_layer(f, self.vrng.choice(infra))
        self.injected.append({"file": slot.path, "rule": kind})

    def _header(self, f: FileGen, slot: Slot) -> str:
        if slot.kind in ("mod", "main"):
            return ""
        g = slot.agg
        what = {
            "id": "Identifiers and small value objects of the @h@ aggregate.",
            "entity": "The @h@ aggregate: state, invariants and status transitions.",
            "events": "Domain events of the @h@ aggregate and how they fold into state.",
            "policy": "Domain rules that decide what may happen to a @h@.",
            "port": "Ports the @h@ use cases need from the outside world.",
            "command": "Command handler: @v@ a @h@.",
            "create": "Command handler: create a @h@.",
            "query": "Read side of the @h@ aggregate.",
            "service": "Use cases that orchestrate @hs@ in bulk.",
            "sql": "SQL implementation of the @h@ repository port.",
            "publisher": "HTTP implementation of the @h@ event publisher port.",
            "routes": "HTTP endpoints of the @h@ aggregate.",
            "consumer": "Queue consumer that turns messages into @h@ commands.",
        }[slot.kind]
        extra = " ".join(self.rng.sample(DOC_SENTENCES, self.rng.randint(0, 2)))
        text = sub(what, g.d())
        lines = ["/**", f" * {text}"]
        if extra:
            lines += [" *"] + [f" * {line}" for line in textwrap.wrap(extra, 96)]
        lines.append(" */")
        return "\n".join(lines) + "\n"

    def _register(self, path: str, text: str):
        self.exports[path] = [(name, kind in ("interface", "type")) for kind, name in _EXPORT.findall(text)]

    def _write(self, path: str, text: str):
        full = os.path.join(self.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = text.encode()
        with open(full, "wb") as fh:
            fh.write(data)
        self.lines += text.count("\n")
        self.bytes += len(data)

    def _write_meta(self):
        deno = {
            "name": "@acme/commerce",
            "version": "0.1.0",
            "exports": "./src/main.ts",
            "imports": {CORE: "jsr:@krepis/core@^0.4.0"},
            "tasks": {"start": "deno run --allow-net --allow-env src/main.ts", "lint:arch": "krepis check src"},
            "compilerOptions": {"strict": True},
            "fmt": {"lineWidth": 120},
        }
        with open(os.path.join(self.out, "deno.json"), "w") as fh:
            json.dump(deno, fh, indent=2)
            fh.write("\n")
        with open(os.path.join(self.out, "bench-violations.json"), "w") as fh:
            json.dump({"files": self.n_files, "violations": self.injected}, fh, indent=1)
            fh.write("\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--files", type=int, default=5000, help="number of .ts files to write (default 5000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--violations", type=float, default=0.05,
                    help="probability that a file gets exactly one injected violation (default 0.05)")
    args = ap.parse_args(argv)
    if not 0 <= args.violations <= 1:
        ap.error("--violations must be between 0 and 1")
    if os.path.exists(os.path.join(args.out_dir, "src")):
        ap.error(f"{args.out_dir}/src already exists; pick a new directory")

    started = time.monotonic()
    gen = Generator(args.out_dir, args.files, args.seed, args.violations)
    gen.run()
    elapsed = time.monotonic() - started

    by_kind: dict[str, int] = {}
    for v in gen.injected:
        by_kind[v["rule"]] = by_kind.get(v["rule"], 0) + 1
    print(f"wrote {args.out_dir}: {args.files} files, {gen.lines} lines "
          f"({gen.lines / args.files:.0f} per file), {gen.bytes / 1e6:.1f} MB in {elapsed:.1f}s", file=sys.stderr)
    print(f"violations injected: {len(gen.injected)}"
          + "".join(f", {k} {n}" for k, n in sorted(by_kind.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
