/**
 * What a room did since it woke, in the units Cloudflare bills (requests, SQLite rows, R2 operations), for the
 * benchmark and the cost model (`GET /api/dev/chats/:chatId/stats`). Each count is an increment where the operation
 * already happens: no write, no request, no await of its own.
 */
import type { RoomState } from "./room-state";
import { RunCapability } from "./run-capability";

export type RoomOperations = {
  readonly since: string;
  requests: { rpc: number; capability: number; socketUpgrades: number; socketMessages: number; alarms: number };
  sql: { execs: number; rowsRead: number; rowsWritten: number };
  r2: { classA: number; classB: number; free: number };
};

export function roomOperations(): RoomOperations {
  return {
    since: new Date().toISOString(),
    requests: { rpc: 0, capability: 0, socketUpgrades: 0, socketMessages: 0, alarms: 0 },
    sql: { execs: 0, rowsRead: 0, rowsWritten: 0 },
    r2: { classA: 0, classB: 0, free: 0 },
  };
}

/**
 * The room's SQL, counting statements and the rows their cursors report. A cursor's counts grow as it is read, so
 * each is added when the next statement starts (or when asked): by then the room's modules have read it, since they
 * read every cursor at once (`one()`, `toArray()`) and never hold one across another statement.
 */
export function countingSql(sql: SqlStorage, ops: RoomOperations): { sql: SqlStorage; settle: () => void } {
  let last: SqlStorageCursor<Record<string, SqlStorageValue>> | null = null;
  const settle = () => {
    if (!last) return;
    ops.sql.rowsRead += last.rowsRead;
    ops.sql.rowsWritten += last.rowsWritten;
    last = null;
  };
  const exec = <T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]) => {
    settle();
    ops.sql.execs++;
    const cursor = sql.exec<T>(query, ...bindings);
    last = cursor;
    return cursor;
  };
  const counted = new Proxy(sql, {
    get(target, property) {
      if (property === "exec") return exec;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { sql: counted, settle };
}

/** R2's price classes, by method. */
const R2_CLASS: Record<string, keyof RoomOperations["r2"]> = {
  put: "classA",
  list: "classA",
  createMultipartUpload: "classA",
  resumeMultipartUpload: "classA",
  get: "classB",
  head: "classB",
  delete: "free",
};

/** The backups bucket, counting each call by its price class. */
export function countingBucket(bucket: R2Bucket, ops: RoomOperations): R2Bucket {
  return new Proxy(bucket, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const priceClass = typeof property === "string" ? R2_CLASS[property] : undefined;
      if (!priceClass) return value.bind(target);
      return (...args: unknown[]) => {
        ops.r2[priceClass]++;
        return value.apply(target, args);
      };
    },
  });
}

type Method = (...args: never[]) => unknown;
export type CallCounter = { called(): void; failed(): void };

/**
 * Wraps methods on a prototype so each call is counted, and a throw or rejection counted as failed. On the
 * prototype, not the instance: workerd serves RPC only from prototype methods.
 */
export function countCalls<T extends object>(
  prototype: T,
  methods: readonly (keyof T)[],
  counterOf: (self: T) => CallCounter,
): void {
  for (const name of methods) {
    // An inherited method is looked up at each call, so a later change to the parent class (a test's spy) holds.
    const own = Object.hasOwn(prototype, name) ? (prototype[name] as Method) : null;
    const parent = Object.getPrototypeOf(prototype) as T;
    const wrapped = function (this: T, ...args: never[]) {
      const counter = counterOf(this);
      counter.called();
      try {
        const result = (own ?? (parent[name] as Method)).apply(this, args);
        if (result instanceof Promise) result.catch(() => counter.failed());
        return result;
      } catch (error) {
        counter.failed();
        throw error;
      }
    };
    Object.defineProperty(prototype, name, { value: wrapped, writable: true, configurable: true });
  }
}

/** A run capability whose calls (one per streamed delta, tool state, approval, end) count as the room's requests. */
export class CountedRunCapability extends RunCapability {
  constructor(
    room: RoomState,
    runId: string,
    readonly counter: CallCounter,
  ) {
    super(room, runId);
  }
}
countCalls(
  CountedRunCapability.prototype,
  [
    "delta",
    "tool",
    "usage",
    "refused",
    "context",
    "searchHistory",
    "storeArtifact",
    "requestApproval",
    "finish",
    "fail",
  ],
  (capability) => capability.counter,
);
