import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { EventEmitter } from "node:events";
import { contextFromIncomingMessage, krepisMiddleware, type MiddlewareRequest } from "../src/node.ts";
import { isDeadlineExceeded, type KrepisContext, withTimeout } from "../src/mod.ts";
import { aborted, within } from "./helpers.ts";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A real server on 127.0.0.1 running `handler`, closed by `close()`. */
async function serve(handler: Handler): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

/** A GET without keep-alive; resolves with the status and body. */
function get(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path: "/orders", headers, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end();
  });
}

test("node: a real request's headers become the context", async () => {
  const server = await serve((req, res) => {
    const ctx = contextFromIncomingMessage(req, res);
    res.end(JSON.stringify([ctx.request_id, ctx.tenant_id, ctx.trace_id, ctx.signal.aborted]));
  });
  try {
    const { body } = await within(
      get(server.port, { "x-request-id": "req-7", "x-tenant-id": "acme", traceparent: TRACEPARENT }),
      5_000,
      "request",
    );
    assert.deepEqual(JSON.parse(body), ["req-7", "acme", "4bf92f3577b34da6a3ce929d0e0e4736", false]);
  } finally {
    await server.close();
  }
});

test("node: a finished response does not abort the context", async () => {
  let ctx: KrepisContext | undefined;
  let closed!: () => void;
  const resClosed = new Promise<void>((resolve) => (closed = resolve));
  const server = await serve((req, res) => {
    ctx = contextFromIncomingMessage(req, res);
    res.on("close", () => setTimeout(closed, 10));
    res.end("ok");
  });
  try {
    const { status, body } = await within(get(server.port, {}), 5_000, "request");
    assert.equal(status, 200);
    assert.equal(body, "ok");
    await within(resClosed, 5_000, "response close");
    assert.equal(ctx?.signal.aborted, false);
  } finally {
    await server.close();
  }
});

test("node: the context aborts when the client disconnects before the response", async () => {
  let received!: (ctx: KrepisContext) => void;
  const arrived = new Promise<KrepisContext>((resolve) => (received = resolve));
  let child: KrepisContext | undefined;
  const server = await serve((req, res) => {
    const ctx = contextFromIncomingMessage(req, res);
    child = withTimeout(ctx, 60_000).ctx;
    received(ctx);
    // Never answers: the client gives up first.
  });
  try {
    const request = http.request({ host: "127.0.0.1", port: server.port, path: "/slow", agent: false });
    request.on("error", () => {});
    request.end();
    const ctx = await within(arrived, 5_000, "request to arrive");
    assert.equal(ctx.signal.aborted, false);
    request.destroy();
    const reason = await within(aborted(ctx.signal), 5_000, "abort on disconnect");
    assert.equal((reason as DOMException).name, "AbortError");
    assert.equal(isDeadlineExceeded(reason), false);
    assert.equal(child?.signal.aborted, true, "children are cancelled too");
  } finally {
    await server.close();
  }
});

test("node: krepisMiddleware puts the context on req.ctx and res.locals.ctx", async () => {
  const middleware = krepisMiddleware({ default_tenant_id: "mw" });
  const server = await serve((req, res) => {
    const expressRes = Object.assign(res, { locals: {} as Record<string, unknown> });
    middleware(req, expressRes, (error) => {
      assert.equal(error, undefined);
      const fromReq = (req as MiddlewareRequest).ctx;
      const fromLocals = expressRes.locals.ctx as KrepisContext;
      res.end(JSON.stringify([fromReq === fromLocals, fromLocals.tenant_id, fromLocals.request_id]));
    });
  });
  try {
    const { body } = await within(get(server.port, { "x-request-id": "mw-1" }), 5_000, "request");
    assert.deepEqual(JSON.parse(body), [true, "mw", "mw-1"]);
  } finally {
    await server.close();
  }
});

test("node: middleware creates res.locals when missing and reports errors to next", () => {
  const req = Object.assign(new EventEmitter(), { headers: { "x-tenant-id": ["first", "second"] } });
  const res = Object.assign(new EventEmitter(), { writableFinished: false });
  const out: { locals?: Record<string, unknown> } & typeof res = res;
  let calls = 0;
  krepisMiddleware()(req, out, (error) => {
    calls++;
    assert.equal(error, undefined);
  });
  assert.equal(calls, 1);
  assert.equal((out.locals?.ctx as KrepisContext).tenant_id, "first", "the first of repeated headers");

  const failing = krepisMiddleware({
    resolve_tenant: () => {
      throw new Error("no tenant");
    },
  });
  let failure: unknown;
  failing(req, res, (error) => (failure = error));
  assert.match(String(failure), /no tenant/);
});

test("node: without a response, an aborted incomplete request cancels the context", () => {
  const req = Object.assign(new EventEmitter(), { headers: {}, complete: false });
  const ctx = contextFromIncomingMessage(req);
  assert.equal(ctx.signal.aborted, false);
  req.emit("close");
  assert.equal(ctx.signal.aborted, true);

  const done = Object.assign(new EventEmitter(), { headers: {}, complete: true });
  const finished = contextFromIncomingMessage(done);
  done.emit("close");
  assert.equal(finished.signal.aborted, false, "a complete request closing is not an abort");

  const res = Object.assign(new EventEmitter(), { destroyed: true, writableFinished: false });
  assert.equal(contextFromIncomingMessage(done, res).signal.aborted, true, "an already closed response");
});
