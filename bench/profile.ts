/**
 * `PARLOR_BENCH_PROFILE=<dir> npm run bench -- <sections>`: a V8 CPU profile of the Worker's isolate (the Worker, its
 * rooms and agents share it) over each Parlor measure, written as `<dir>/<measure>.cpuprofile` (Chrome DevTools opens
 * it) with a summary of where the samples fell printed beside it. The profiler talks to the Worker's own workerd
 * through its inspector (`wrangler dev` starts it on a free port), found among the dev server's listening sockets.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
export type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** The inspector's WebSocket URL of the Worker's isolate in the dev server whose process group is `group`. */
export async function workerInspector(group: number): Promise<string> {
  const pids = new Set(
    readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          // Field 5 (after the command in parentheses) is the process group.
          return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === group;
        } catch {
          return false;
        }
      }),
  );
  const listening = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" });
  for (const line of listening.split("\n")) {
    const pid = line.match(/pid=(\d+)/)?.[1];
    const port = line.match(/127\.0\.0\.1:(\d+)/)?.[1];
    if (!pid || !port || !pids.has(pid)) continue;
    try {
      // Some of the dev server's sockets never answer a plain GET: a short timeout moves on.
      const listed = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(1_000) });
      const targets = (await listed.json()) as {
        id: string;
        webSocketDebuggerUrl: string;
      }[];
      const worker = targets.find((target) => target.id.startsWith("core:user:"));
      if (worker) return worker.webSocketDebuggerUrl;
    } catch {}
  }
  throw new Error(`no Worker inspector among the sockets of process group ${group}`);
}

/** Starts sampling (every 100 µs); the returned function stops it and resolves with the profile. */
export async function startProfile(inspectorUrl: string): Promise<() => Promise<CpuProfile>> {
  const socket = new WebSocket(inspectorUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let next = 0;
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  socket.addEventListener("message", (event) => {
    const reply = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (reply.id !== undefined) waiting.get(reply.id)?.resolve(reply.result);
  });
  // The inspector sometimes drops a session (the dev server reloading the Worker): the measure goes on unprofiled.
  socket.addEventListener("close", () => {
    for (const { reject } of waiting.values()) reject(new Error("the inspector closed the session"));
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 100 });
  await call("Profiler.start");
  return async () => {
    const { profile } = (await call("Profiler.stop")) as { profile: CpuProfile };
    socket.close();
    return profile;
  };
}

/** Writes the profile and prints the functions and files that took the most samples (self time). */
export function saveProfile(dir: string, name: string, profile: CpuProfile, print: (line: string) => void): void {
  const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const total = [...selfMs.values()].reduce((a, b) => a + b, 0);
  const tally = (key: (node: ProfileNode) => string) => {
    const sums = new Map<string, number>();
    for (const [id, ms] of selfMs) {
      const node = byId.get(id);
      if (node) sums.set(key(node), (sums.get(key(node)) ?? 0) + ms);
    }
    return [...sums].sort((a, b) => b[1] - a[1]).slice(0, 25);
  };
  const short = (url: string) => url.replace(/^.*\//, "") || "(native)";
  const frame = (node: ProfileNode) =>
    `${node.callFrame.functionName || "(anonymous)"} ${short(node.callFrame.url)}:${node.callFrame.lineNumber}`;
  const line = ([what, ms]: [string, number]) =>
    `  ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${what}`;
  print(`profile ${file}: ${total.toFixed(0)} ms sampled; self time by function:`);
  for (const entry of tally(frame)) print(line(entry));
  // Inclusive time: every function on a sample's stack counts the sample once.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node) seen.add(frame(node));
    }
    for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
  }
  print("  total time by function:");
  for (const entry of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 40)) print(line(entry));
}
