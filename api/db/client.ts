/**
 * A drizzle client over postgres.js, one per request: a Worker may not reuse a socket opened by another request.
 * In production the connection string comes from Hyperdrive; locally from DATABASE_URL.
 *
 * Every call to Postgres has a deadline (`PARLOR_DB_DEADLINE_MS`, default 5000): a query, a transaction's BEGIN and
 * its COMMIT each. A database that accepted the connection but never answers would otherwise hold a request for as
 * long as the platform lets it. Past the deadline the client is ended at once (the server rolls back whatever
 * transaction that connection held, so nothing is half-written), the call throws `DatabaseUnavailable` (the API
 * answers 503 with Retry-After), and every later call on this client throws it without waiting. The next request
 * opens a new client, so service comes back by itself when the database does.
 */
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

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

export function databaseDeadlineMs(env: Env): number {
  const value = Number(env.PARLOR_DB_DEADLINE_MS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_DB_DEADLINE_MS;
}

/**
 * Statements sent to Postgres by this isolate since it started (a transaction counts its BEGIN and its end), for the
 * benchmark and the cost model (`GET /api/dev/chats/:chatId/stats`). In development the Worker and every Durable
 * Object share one isolate, so this is all of them.
 */
let statements = 0;
export function postgresStatements(): number {
  return statements;
}

type Sql = postgres.Sql;
type Deadline = { guard<T>(work: PromiseLike<T>): Promise<T>; readonly expired: boolean };

function deadlineFor(client: Sql, ms: number): Deadline {
  let expired = false;
  const expire = () => {
    if (expired) return;
    expired = true;
    // Ends the connection without waiting: Postgres rolls back an open transaction when its connection goes.
    client.end({ timeout: 0 }).catch(() => {});
  };
  return {
    get expired() {
      return expired;
    },
    guard<T>(work: PromiseLike<T>): Promise<T> {
      if (expired) return Promise.reject(new DatabaseUnavailable());
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          expire();
          reject(new DatabaseUnavailable());
        }, ms);
        work.then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error) => {
            clearTimeout(timer);
            // A call that failed because the deadline ended the connection says so, not CONNECTION_DESTROYED.
            reject(expired ? new DatabaseUnavailable() : error);
          },
        );
      });
    },
  };
}

/** A postgres.js query whose awaiting is bounded: `.values()` and the rest still work on the query itself. */
function guardQuery<Q>(query: Q, deadline: Deadline): Q {
  const then = (query as PromiseLike<unknown>).then.bind(query);
  // biome-ignore lint/suspicious/noThenProperty: the query stays a thenable on purpose; awaiting it is what is bounded
  Object.defineProperty(query, "then", {
    configurable: true,
    value: (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) =>
      deadline.guard({ then }).then(onFulfilled, onRejected),
  });
  return query;
}

type Transactional = (...args: unknown[]) => Promise<unknown>;

/**
 * A transaction whose BEGIN and whose COMMIT (or ROLLBACK) are bounded each; its queries are bounded through the
 * wrapped inner client.
 */
function guardTransaction(begin: Transactional, args: unknown[], deadline: Deadline): Promise<unknown> {
  const fn = args.pop() as (inner: postgres.TransactionSql) => unknown;
  return new Promise((resolve, reject) => {
    let release = () => {};
    const bound = () => {
      deadline.guard(new Promise<void>((done) => (release = done))).catch(reject);
    };
    bound(); // BEGIN, and the connection before it
    begin(...args, async (inner: postgres.TransactionSql) => {
      release();
      try {
        return await fn(withDeadline(inner, deadline));
      } finally {
        bound(); // COMMIT or ROLLBACK
      }
    }).then(
      (value) => {
        release();
        resolve(value);
      },
      (error) => {
        release();
        reject(deadline.expired ? new DatabaseUnavailable() : error);
      },
    );
  });
}

/**
 * Wraps what drizzle's postgres-js session uses: `unsafe` (every query) and `begin`/`savepoint` (transactions, whose
 * inner client is wrapped the same way).
 */
function withDeadline<S extends Sql | postgres.TransactionSql>(sql: S, deadline: Deadline): S {
  return new Proxy(sql, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property === "unsafe") {
        return (...args: unknown[]) => {
          statements++;
          return guardQuery((value as Transactional).apply(target, args), deadline);
        };
      }
      if (property === "begin" || property === "savepoint") {
        return (...args: unknown[]) => {
          statements += 2;
          return guardTransaction((value as Transactional).bind(target), args, deadline);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
    apply(target, thisArg, args) {
      statements++;
      return guardQuery(Reflect.apply(target, thisArg, args), deadline);
    },
  });
}

export function openDatabase(env: Env) {
  const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
  if (!url) throw new Error("no database configured: bind HYPERDRIVE or set DATABASE_URL");
  const deadlineMs = databaseDeadlineMs(env);
  // prepare: false because Hyperdrive pools connections across clients; fetch_types: false saves a round trip.
  const client = postgres(url, {
    max: 1,
    prepare: false,
    fetch_types: false,
    onnotice: () => {},
    connect_timeout: Math.max(1, Math.ceil(deadlineMs / 1000)),
  });
  const deadline = deadlineFor(client, deadlineMs);
  return {
    db: drizzle(withDeadline(client, deadline), { schema }),
    close: () => client.end({ timeout: deadline.expired ? 0 : 5 }),
  };
}

export type Database = ReturnType<typeof openDatabase>["db"];
