/**
 * A local stand-in for Stripe's API (the few endpoints Parlor's billing calls), speaking Stripe's wire format:
 * `/v1/...` paths, a Bearer secret key, form-encoded bodies in Stripe's bracket notation (`metadata[k]=v`,
 * `items[0][price]=p`), `object`-tagged JSON resources, Stripe's error shape, and `Idempotency-Key` replays. The real
 * `stripe` library talks to it (see test/e2e/stripe-stand-in.test.ts). Nothing leaves the machine.
 *
 * Not Stripe's, for tests (no auth): `/__requests` lists every `/v1` request in order, `/__meter_events` the accepted
 * meter events (`?customer=` narrows them), and `POST /__fail` `{ path, times, status }` makes the next `times`
 * requests under `path` fail with an `api_error`, changing nothing, so retries can be tested.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormParams = { [key: string]: FormValue };

export type StripeRequestRecord = {
  method: string;
  path: string;
  params: FormParams;
  idempotencyKey: string | null;
  replayed: boolean;
  status: number;
};
export type MeterEventRecord = {
  object: "billing.meter_event";
  event_name: string;
  identifier: string;
  payload: { stripe_customer_id: string; value: string } & Record<string, string>;
  timestamp: number;
  created: number;
  livemode: false;
};
export type StripeStandIn = { url: string; secretKey: string; close: () => Promise<void> };

/** A Stripe error: `{ error: { type, code?, param?, message } }` with its HTTP status. */
class StripeFailure extends Error {
  readonly status: number;
  readonly type: string;
  readonly code?: string;
  readonly param?: string;
  /** Stripe keeps no idempotent result for requests that failed validation before the endpoint ran. */
  readonly keep: boolean;
  constructor(status: number, type: string, message: string, code?: string, param?: string, keep = false) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
    this.keep = keep;
  }
  json() {
    return { error: { type: this.type, code: this.code, param: this.param, message: this.message } };
  }
}

const missing = (param: string) =>
  new StripeFailure(400, "invalid_request_error", `Missing required param: ${param}.`, "parameter_missing", param);
const invalid = (param: string, message: string) =>
  new StripeFailure(400, "invalid_request_error", message, "parameter_invalid", param);
const noSuch = (what: string, id: string, param: string, status = 400) =>
  new StripeFailure(status, "invalid_request_error", `No such ${what}: '${id}'`, "resource_missing", param, true);

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString("base64url").replace(/[-_]/g, "x")}`;
const now = () => Math.floor(Date.now() / 1000);

/**
 * Decodes a form body in Stripe's bracket notation into nested objects; a numeric segment (`items[0]`) or an empty
 * one (`expand[]`) makes its container an array.
 */
export function decodeForm(text: string): FormParams {
  const root: FormParams = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const head = /^[^[]*/.exec(key)?.[0] ?? key;
    const segments = [head, ...[...key.slice(head.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1])];
    let container: FormParams | FormValue[] = root;
    for (let i = 0; i < segments.length; i++) {
      const last = i === segments.length - 1;
      const next = segments[i + 1];
      let segment: string | number = segments[i];
      if (Array.isArray(container)) segment = segment === "" ? container.length : Number(segment);
      const slot = container as Record<string | number, FormValue>;
      if (last) {
        slot[segment] = value;
        break;
      }
      const wantArray = next === "" || /^\d+$/.test(next);
      const existing = slot[segment];
      if (existing === undefined || typeof existing === "string") slot[segment] = wantArray ? [] : {};
      container = slot[segment] as FormParams | FormValue[];
    }
  }
  return root;
}

const str = (params: FormParams, name: string): string | undefined => {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalid(name, `Invalid string: ${JSON.stringify(value)}`);
  return value;
};
const int = (value: FormValue | undefined, param: string): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^-?\d+$/.test(value)) throw invalid(param, `Invalid integer: ${String(value)}`);
  return Number(value);
};
const hash = (value: FormValue | undefined, param: string): Record<string, string> => {
  if (value === undefined || value === "") return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalid(param, `Invalid hash`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw invalid(`${param}[${k}]`, "Invalid string");
    if (v !== "") out[k] = v; // Stripe unsets a metadata key given an empty value
  }
  return out;
};
const list = (value: FormValue | undefined, param: string): FormParams[] => {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : typeof value === "object" ? Object.values(value) : null;
  if (!items || items.some((item) => typeof item !== "object" || Array.isArray(item))) {
    throw invalid(param, `Invalid array`);
  }
  return items as FormParams[];
};

export async function startStripeStandIn(): Promise<StripeStandIn> {
  const secretKey = `sk_test_standin_${randomBytes(12).toString("hex")}`;
  let url = "";

  type Customer = { id: string; created: number; email: string | null; name: string | null; metadata: object };
  type Item = { id: string; subscription: string; price: string; quantity: number; metadata: Record<string, string> };
  type Subscription = {
    id: string;
    customer: string;
    metadata: Record<string, string>;
    created: number;
    periodStart: number;
    periodEnd: number;
    items: string[];
  };
  const customers = new Map<string, Customer>();
  const subscriptions = new Map<string, Subscription>();
  const items = new Map<string, Item>();
  const checkoutSessions = new Map<string, object>();
  const meterEvents: MeterEventRecord[] = [];
  const identifiers = new Set<string>();
  const requests: StripeRequestRecord[] = [];
  type Saved = { method: string; path: string; body: string; status: number; response: string };
  const idempotent = new Map<string, Saved>();
  const failures: { path: string; times: number; status: number }[] = [];

  const customerJson = (c: Customer) => ({
    id: c.id,
    object: "customer",
    created: c.created,
    email: c.email,
    name: c.name,
    description: null,
    metadata: c.metadata,
    livemode: false,
  });
  const itemJson = (item: Item) => {
    const sub = subscriptions.get(item.subscription);
    return {
      id: item.id,
      object: "subscription_item",
      subscription: item.subscription,
      quantity: item.quantity,
      metadata: item.metadata,
      price: { id: item.price, object: "price", lookup_key: null },
      current_period_start: sub?.periodStart ?? 0,
      current_period_end: sub?.periodEnd ?? 0,
      created: sub?.created ?? 0,
    };
  };
  const subscriptionJson = (sub: Subscription) => {
    const data = sub.items.map((id) => itemJson(items.get(id) as Item));
    return {
      id: sub.id,
      object: "subscription",
      status: "active",
      customer: sub.customer,
      metadata: sub.metadata,
      items: {
        object: "list",
        data,
        has_more: false,
        total_count: data.length,
        url: `/v1/subscription_items?subscription=${sub.id}`,
      },
      created: sub.created,
      start_date: sub.created,
      billing_cycle_anchor: sub.created,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      latest_invoice: null,
      livemode: false,
    };
  };
  const customerParam = (params: FormParams, required: boolean): string | null => {
    const id = str(params, "customer");
    if (!id) {
      if (required) throw missing("customer");
      return null;
    }
    if (!customers.has(id)) throw noSuch("customer", id, "customer");
    return id;
  };

  /** Runs one `/v1` request; returns its status and JSON, or throws a StripeFailure. */
  const handle = (method: string, parts: string[], params: FormParams): [number, unknown] => {
    const path = `/${parts.join("/")}`;
    const one = /^\/v1\/(customers|subscriptions|subscription_items|checkout\/sessions)\/([^/]+)$/.exec(path);
    const route = one ? `${method} /v1/${one[1]}/:id` : `${method} ${path}`;
    const id = one?.[2] ?? "";
    switch (route) {
      case "POST /v1/customers": {
        const customer: Customer = {
          id: newId("cus"),
          created: now(),
          email: str(params, "email") ?? null,
          name: str(params, "name") ?? null,
          metadata: hash(params.metadata, "metadata"),
        };
        customers.set(customer.id, customer);
        return [200, customerJson(customer)];
      }
      case "GET /v1/customers/:id": {
        const customer = customers.get(id);
        if (!customer) throw noSuch("customer", id, "id", 404);
        return [200, customerJson(customer)];
      }
      case "POST /v1/checkout/sessions": {
        const mode = str(params, "mode");
        if (!mode) throw missing("mode");
        if (!["payment", "setup", "subscription"].includes(mode)) throw invalid("mode", `Invalid mode: ${mode}`);
        const successUrl = str(params, "success_url");
        if (!successUrl) throw missing("success_url");
        const lineItems = list(params.line_items, "line_items");
        if (mode !== "setup" && lineItems.length === 0) throw missing("line_items");
        lineItems.forEach((item, i) => {
          if (!item.price && !item.price_data) throw missing(`line_items[${i}][price]`);
          int(item.quantity, `line_items[${i}][quantity]`);
        });
        const customer = customerParam(params, false);
        const sessionId = newId("cs_test");
        const session = {
          id: sessionId,
          object: "checkout.session",
          url: `${url}/pay/${sessionId}`,
          customer,
          client_reference_id: str(params, "client_reference_id") ?? null,
          mode,
          metadata: hash(params.metadata, "metadata"),
          subscription: null,
          status: "open",
          payment_status: "unpaid",
          success_url: successUrl,
          cancel_url: str(params, "cancel_url") ?? null,
          created: now(),
          livemode: false,
        };
        checkoutSessions.set(sessionId, session);
        return [200, session];
      }
      case "GET /v1/checkout/sessions/:id": {
        const session = checkoutSessions.get(id);
        if (!session) throw noSuch("checkout.session", id, "session", 404);
        return [200, session];
      }
      case "POST /v1/billing_portal/sessions": {
        const customer = customerParam(params, true);
        const sessionId = newId("bps");
        return [
          200,
          {
            id: sessionId,
            object: "billing_portal.session",
            url: `${url}/portal/${sessionId}`,
            customer,
            return_url: str(params, "return_url") ?? null,
            created: now(),
            livemode: false,
          },
        ];
      }
      case "POST /v1/subscriptions": {
        const customer = customerParam(params, true) as string;
        const given = list(params.items, "items");
        if (given.length === 0) throw missing("items");
        const parsed = given.map((item, i) => {
          const price = typeof item.price === "string" ? item.price : undefined;
          if (!price) throw missing(`items[${i}][price]`);
          const quantity = int(item.quantity, `items[${i}][quantity]`) ?? 1;
          if (quantity < 0) throw invalid(`items[${i}][quantity]`, "Quantity must be non-negative");
          return { price, quantity, metadata: hash(item.metadata, `items[${i}][metadata]`) };
        });
        const start = new Date();
        const end = new Date(start);
        end.setUTCMonth(end.getUTCMonth() + 1);
        const sub: Subscription = {
          id: newId("sub"),
          customer,
          metadata: hash(params.metadata, "metadata"),
          created: Math.floor(start.getTime() / 1000),
          periodStart: Math.floor(start.getTime() / 1000),
          periodEnd: Math.floor(end.getTime() / 1000),
          items: [],
        };
        subscriptions.set(sub.id, sub);
        for (const item of parsed) {
          const itemId = newId("si");
          items.set(itemId, { id: itemId, subscription: sub.id, ...item });
          sub.items.push(itemId);
        }
        return [200, subscriptionJson(sub)];
      }
      case "GET /v1/subscriptions/:id": {
        const sub = subscriptions.get(id);
        if (!sub) throw noSuch("subscription", id, "id", 404);
        return [200, subscriptionJson(sub)];
      }
      case "GET /v1/subscription_items/:id":
      case "POST /v1/subscription_items/:id": {
        const item = items.get(id);
        if (!item) throw noSuch("subscription_item", id, "id", 404);
        if (method === "POST") {
          const quantity = int(params.quantity, "quantity");
          if (quantity !== undefined && quantity < 0) throw invalid("quantity", "Quantity must be non-negative");
          const metadata = params.metadata === undefined ? undefined : params.metadata;
          const price = str(params, "price");
          if (quantity !== undefined) item.quantity = quantity;
          if (price) item.price = price;
          if (metadata !== undefined) {
            for (const [k, v] of Object.entries(metadata === "" ? item.metadata : (metadata as FormParams))) {
              if (metadata === "" || v === "") delete item.metadata[k];
              else if (typeof v === "string") item.metadata[k] = v;
            }
          }
        }
        return [200, itemJson(item)];
      }
      case "POST /v1/billing/meter_events": {
        const eventName = str(params, "event_name");
        if (!eventName) throw missing("event_name");
        const payload = hash(params.payload, "payload");
        if (!payload.stripe_customer_id) throw missing("payload[stripe_customer_id]");
        if (payload.value === undefined) throw missing("payload[value]");
        if (!/^-?\d+$/.test(payload.value)) {
          throw invalid("payload[value]", `Invalid value: '${payload.value}'. The value must be a whole number.`);
        }
        const timestamp = int(params.timestamp, "timestamp") ?? now();
        const identifier = str(params, "identifier") || newId("mev");
        if (identifiers.has(identifier)) {
          throw new StripeFailure(
            400,
            "invalid_request_error",
            `An event already exists with identifier ${identifier}.`,
            "resource_already_exists",
            "identifier",
            true,
          );
        }
        identifiers.add(identifier);
        const event: MeterEventRecord = {
          object: "billing.meter_event",
          event_name: eventName,
          identifier,
          payload: payload as MeterEventRecord["payload"],
          timestamp,
          created: now(),
          livemode: false,
        };
        meterEvents.push(event);
        return [200, event];
      }
    }
    throw new StripeFailure(404, "invalid_request_error", `Unrecognized request URL (${method}: ${path}).`);
  };

  const server: Server = createServer(async (req, res) => {
    const target = new URL(req.url ?? "/", "http://stand-in");
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    if (target.pathname === "/__requests") return sendJson(res, 200, requests);
    if (target.pathname === "/__meter_events") {
      const customer = target.searchParams.get("customer");
      return sendJson(
        res,
        200,
        meterEvents.filter((e) => !customer || e.payload.stripe_customer_id === customer),
      );
    }
    if (target.pathname === "/__fail" && method === "POST") {
      const { path, times = 1, status = 500 } = JSON.parse(raw || "{}") as Partial<(typeof failures)[number]>;
      if (!path) return sendJson(res, 400, { error: "give the path to fail" });
      failures.push({ path, times, status });
      return sendJson(res, 200, { path, times, status });
    }
    if (!target.pathname.startsWith("/v1/")) return sendJson(res, 404, { error: "not a Stripe API path" });

    const path = target.pathname;
    const params = method === "GET" || method === "DELETE" ? decodeForm(target.search.slice(1)) : decodeForm(raw);
    const idempotencyKey = (req.headers["idempotency-key"] as string | undefined) ?? null;
    const record: StripeRequestRecord = { method, path, params, idempotencyKey, replayed: false, status: 0 };
    requests.push(record);
    const reply = (status: number, body: string, extra: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, {
        "content-type": "application/json",
        "request-id": `req_${randomBytes(8).toString("hex")}`,
        ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
        ...extra,
      });
      res.end(body);
    };

    const auth = req.headers.authorization ?? "";
    const basic = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString().split(":")[0] : null;
    if (auth !== `Bearer ${secretKey}` && basic !== secretKey) {
      const message = auth
        ? "Invalid API Key provided: sk_test_****"
        : "You did not provide an API key. You need to provide your API key in the Authorization header.";
      return reply(401, JSON.stringify({ error: { type: "invalid_request_error", message } }));
    }

    const failure = failures.find((f) => f.times > 0 && path.startsWith(f.path));
    if (failure) {
      failure.times -= 1;
      const error = { type: "api_error", message: "An unknown error occurred (a failure the test asked for)." };
      return reply(failure.status, JSON.stringify({ error }));
    }

    if (method === "POST" && idempotencyKey) {
      const saved = idempotent.get(idempotencyKey);
      if (saved) {
        if (saved.method !== method || saved.path !== path || saved.body !== raw) {
          const message =
            "Keys for idempotent requests can only be used with the same parameters they were first used with. " +
            `Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`;
          return reply(400, JSON.stringify({ error: { type: "idempotency_error", message } }));
        }
        record.replayed = true;
        return reply(saved.status, saved.response, { "idempotent-replayed": "true" });
      }
    }

    let status: number;
    let response: string;
    let keep = true;
    try {
      const [okStatus, json] = handle(method, path.split("/").filter(Boolean), params);
      status = okStatus;
      response = JSON.stringify(json);
    } catch (error) {
      const refusal =
        error instanceof StripeFailure ? error : new StripeFailure(500, "api_error", `Stand-in error: ${error}`);
      status = refusal.status;
      response = JSON.stringify(refusal.json());
      keep = refusal.keep;
    }
    if (method === "POST" && idempotencyKey && keep) {
      idempotent.set(idempotencyKey, { method, path, body: raw, status, response });
    }
    return reply(status, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  url = `http://127.0.0.1:${port}`;
  return {
    url,
    secretKey,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
