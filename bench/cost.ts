/**
 * What the operations the benchmark counted cost on Cloudflare's published prices (Workers Paid, beyond the plan's
 * included amounts), so a change that adds a round trip or a row shows up as money. docs/cost.md explains each line.
 */
import type { Operations } from "./load.ts";

/** US dollars per unit. Sources: developers.cloudflare.com/{durable-objects,workers,r2,analytics}/…/pricing. */
export const PRICES = {
  /** Durable Object requests: HTTP, each RPC session, alarms; incoming WebSocket frames count 1 per 20. */
  durableObjectRequest: 0.15 / 1e6,
  /** Durable Object duration while active (not while hibernating), per GB-second; an object is billed at 128 MB. */
  durableObjectGbSecond: 12.5 / 1e6,
  sqliteRowRead: 0.001 / 1e6,
  sqliteRowWritten: 1.0 / 1e6,
  workerRequest: 0.3 / 1e6,
  r2ClassA: 4.5 / 1e6,
  r2ClassB: 0.36 / 1e6,
  analyticsDataPoint: 0.25 / 1e6,
} as const;

export const OBJECT_GB = 0.125;
const FRAMES_PER_BILLED_REQUEST = 20;

export type CostInputs = {
  operations: Operations;
  /** Requests that reached the Worker itself (REST calls; a socket's frames go to its room, not the Worker). */
  workerRequests: number;
  /** Seconds Durable Objects were active (an upper bound: the measured wall time of the work). */
  activeObjectSeconds: number;
  /** Analytics Engine data points production writes for this work (one per counted event). */
  dataPoints: number;
};

export type Cost = Record<
  "requests" | "duration" | "rowsRead" | "rowsWritten" | "worker" | "r2" | "analytics" | "total",
  number
>;

/**
 * Calls on a run capability are not billed: the capability is an RpcTarget returned by the room's `openRun`, and
 * calls on a returned stub belong to that one RPC session (one billed request).
 */
export function costOf({ operations, workerRequests, activeObjectSeconds, dataPoints }: CostInputs): Cost {
  const op = (key: string) => operations[key] ?? 0;
  const requests =
    (op("socketMessages") / FRAMES_PER_BILLED_REQUEST + op("roomRpc") + op("socketUpgrades") + op("alarms")) *
    PRICES.durableObjectRequest;
  const duration = activeObjectSeconds * OBJECT_GB * PRICES.durableObjectGbSecond;
  const rowsRead = op("sqlRowsRead") * PRICES.sqliteRowRead;
  const rowsWritten = op("sqlRowsWritten") * PRICES.sqliteRowWritten;
  const worker = workerRequests * PRICES.workerRequest;
  const r2 = op("r2ClassA") * PRICES.r2ClassA + op("r2ClassB") * PRICES.r2ClassB;
  const analytics = dataPoints * PRICES.analyticsDataPoint;
  return {
    requests,
    duration,
    rowsRead,
    rowsWritten,
    worker,
    r2,
    analytics,
    total: requests + duration + rowsRead + rowsWritten + worker + r2 + analytics,
  };
}

/** Dollars as a readable figure: micro-dollars below a cent. */
export function dollars(value: number): string {
  return value < 0.01 ? `$${(value * 1e6).toFixed(1)}µ` : `$${value.toFixed(4)}`;
}
