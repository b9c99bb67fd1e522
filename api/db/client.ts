/**
 * A drizzle client over node-postgres, one per request: a Worker may not reuse a socket opened by another request.
 * In production the connection string comes from Hyperdrive; locally from DATABASE_URL. node-postgres sends a query
 * with parameters in one round trip (Parse, Bind, Execute, Sync together); postgres.js, unprepared, spends two
 * (docs/decisions.md).
 *
 * Every call to Postgres has a deadline (`PARLOR_DB_DEADLINE_MS`, default 5000): the connection, a query, a
 * transaction's BEGIN and its COMMIT each (drizzle sends those as queries on the one client). A database that accepted
 * the connection but never answers would otherwise hold a request for as long as the platform lets it. Past the
 * deadline the connection is torn down at once (the server rolls back whatever transaction it held, so nothing is
 * half-written), the call throws `DatabaseUnavailable` (the API answers 503 with Retry-After), and every later call on
 * this client throws it without waiting. The next request opens a new client, so service comes back by itself when
 * the database does.
 */
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as pgCloudflare from "pg-cloudflare";
import * as schema from "./schema";

type Duplex = import("node:stream").Duplex;
// Its types sit behind the same `workerd` condition, which typechecking does not follow either.
const { CloudflareSocket } = pgCloudflare as unknown as { CloudflareSocket: new (ssl: boolean) => Duplex };

export const DEFAULT_DB_DEADLINE_MS = 5000;
/** Seconds a client is told to wait (Retry-After) when the database missed its deadline. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** The database did not answer within the deadline (or this request's client already gave up on it). */
export class DatabaseUnavailable extends Error {
  constructor(message = "the database did not answer in time; try again shortly") {
    super(message);
    this.name = "DatabaseUnavailable";
  }
}

/** Whether `error`, or an error it wraps (drizzle wraps driver errors as `cause`), is a missed database deadline. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof DatabaseUnavailable) return true;
  }
  return false;
}

/** The Postgres error code (SQLSTATE, e.g. `23505`) of `error` or of the driver error drizzle wrapped in it. */
export function postgresErrorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export function databaseDeadlineMs(env: Env): number {
  const value = Number(env.PARLOR_DB_DEADLINE_MS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_DB_DEADLINE_MS;
}

/**
 * Statements sent to Postgres by this isolate since it started (a transaction's BEGIN and its end count as one each),
 * for the benchmark and the cost model (`GET /api/dev/chats/:chatId/stats`). In development the Worker and every
 * Durable Object share one isolate, so this is all of them.
 */
let statements = 0;
export function postgresStatements(): number {
  return statements;
}

/** One client's deadline: each awaited call is bounded; once one is missed, the connection is gone for good. */
function deadlineFor(client: pg.Client, ms: number) {
  let expired = false;
  const expire = () => {
    if (expired) return;
    expired = true;
    // `end()` says goodbye and waits for the server; one that does not answer must not keep the socket, so the
    // stream goes at once. Postgres rolls back an open transaction when its connection goes.
    const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
    stream?.destroy?.();
    client.end().catch(() => {});
  };
  return {
    get expired() {
      return expired;
    },
    guard<T>(work: () => Promise<T>): Promise<T> {
      if (expired) return Promise.reject(new DatabaseUnavailable());
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          expire();
          reject(new DatabaseUnavailable());
        }, ms);
        work().then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error) => {
            clearTimeout(timer);
            // A call that failed because the deadline ended the connection says so, not "Connection terminated".
            reject(expired ? new DatabaseUnavailable() : error);
          },
        );
      });
    },
  };
}

export function openDatabase(env: Env) {
  const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
  if (!url) throw new Error("no database configured: bind HYPERDRIVE or set DATABASE_URL");
  const client = new pg.Client({
    connectionString: url,
    // The socket node-postgres itself picks in workerd, named here: it finds it with a require() by the package's
    // `workerd` export condition, which the test runner's require() does not follow (docs/decisions.md).
    stream: ((config: { ssl?: boolean }) => new CloudflareSocket(config.ssl ?? false)) as () => Duplex,
  });
  // A client that never connects never errors either; one that loses its connection emits `error`, which must be
  // heard or it ends the isolate. The failed query reports it.
  client.on("error", () => {});
  const deadline = deadlineFor(client, databaseDeadlineMs(env));
  let connected: Promise<unknown> | null = null;
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  // drizzle sends every statement (BEGIN and COMMIT included) through `query`; the connection is made by the first.
  const bounded = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== "query") return Reflect.get(target, property, receiver);
      return (...args: unknown[]) => {
        statements++;
        return deadline.guard(async () => {
          connected ??= client.connect();
          await connected;
          return query(...args);
        });
      };
    },
  });
  return {
    db: drizzle({ client: bounded, schema }),
    close: async () => {
      if (connected && !deadline.expired) await client.end().catch(() => {});
    },
  };
}

export type Database = ReturnType<typeof openDatabase>["db"];
