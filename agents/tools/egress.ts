/**
 * Where the HTTP tool may go. A URL passes when it is http or https, carries no credentials, is not over-long, is on
 * the agent's allow list with an allowed method, is not refused by its org (`denyHosts`, the `allowHosts` ceiling,
 * ports beyond 80 and 443 only where `allowPorts` names them), and its host is public: never loopback, private,
 * link-local, carrier-grade NAT, benchmarking, multicast, reserved or a cloud metadata address, however it is
 * written (WHATWG parsing already turns 0x7f.1 and 2130706433 into 127.0.0.1; this checks what is left, and IPv6
 * forms that embed an IPv4 address are judged by that address). A name is checked here by its spelling only; its
 * addresses are checked before each request (`egress-dns.ts`).
 *
 * In development, exact origins in `PARLOR_DEV_ALLOW_ORIGINS` are spared the private-address and port refusals
 * (and name resolution); they must still be on the agent's allow list. Every refusal, from every stage, goes through
 * `refuseEgress`: the one place to attach auditing to.
 */

import ipaddr from "ipaddr.js";
import { log } from "../../api/log";
import type { AgentTools } from "../../protocol/agents";

export type EgressVerdict = { ok: true; url: URL } | { ok: false; reason: string };
export type EgressRefusal = { ok: false; reason: string };
/** An org's settings (`/api/orgs/:orgId/egress`); no row means all three empty. */
export type OrgEgress = { allowHosts: readonly string[]; denyHosts: readonly string[]; allowPorts: readonly number[] };
export type EgressOptions = {
  development: boolean;
  /** Exact origins spared the private-address and port refusals in development (`PARLOR_DEV_ALLOW_ORIGINS`). */
  devAllowOrigins?: readonly string[];
  /** The org's settings; undefined: not read yet, so the org and port checks wait for the check before sending. */
  org?: OrgEgress | null;
};

export const MAX_URL_LENGTH = 2048;
export const MAX_HOST_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const DEFAULT_PORTS = new Set([80, 443]);

/**
 * Every egress refusal passes through here, whatever refused it (the guard, name resolution, a redirect hop, a size
 * cap, the org's lists), and the tool reports what it returns. Auditing attaches here.
 */
export function refuseEgress(reason: string, _url: URL | string | null): EgressRefusal {
  return { ok: false, reason };
}

/** Names that are private by their spelling, and cloud metadata names. */
const PRIVATE_NAMES = /(^|\.)(localhost|local|localdomain|internal|intranet|lan|home|corp|home\.arpa|arpa|onion)$/;
const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.tencentyun.com",
  "metadata.platformequinix.com",
]);
/** Cloud metadata addresses that the range checks below would not all catch on their own. */
const METADATA_ADDRESSES = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192"]);
const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

export function checkEgress(
  config: NonNullable<AgentTools["http"]>,
  method: string,
  rawUrl: string,
  options: EgressOptions,
): EgressVerdict {
  if (rawUrl.length > MAX_URL_LENGTH) return refuseEgress(`URLs are limited to ${MAX_URL_LENGTH} characters`, null);
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return refuseEgress("not a valid URL", null);
  }
  if (url.href.length > MAX_URL_LENGTH) return refuseEgress(`URLs are limited to ${MAX_URL_LENGTH} characters`, null);
  if (url.protocol !== "http:" && url.protocol !== "https:") return refuseEgress("only http and https", url);
  if (url.username || url.password) return refuseEgress("credentials in URLs are not allowed", url);
  const shape = hostShapeProblem(url.hostname);
  if (shape) return refuseEgress(shape, url);
  const rule = config.allow.find((entry) => matchesBase(url, entry.baseUrl));
  if (!rule) return refuseEgress(`${url.origin} is not on this agent's allow list`, url);
  if (!rule.methods.includes(method as (typeof rule.methods)[number])) {
    return refuseEgress(`${method} is not allowed for ${rule.baseUrl}`, url);
  }
  const host = bareHost(url.hostname);
  if (options.org) {
    if (options.org.denyHosts.some((pattern) => hostMatches(host, pattern))) {
      return refuseEgress(`${host} is on this org's deny list`, url);
    }
    if (options.org.allowHosts.length > 0 && !options.org.allowHosts.some((pattern) => hostMatches(host, pattern))) {
      return refuseEgress(`${host} is not on this org's allow list`, url);
    }
  }
  if (isDevOrigin(url, options)) return { ok: true, url };
  if (isPrivateHost(url.hostname)) return refuseEgress(`${url.hostname} is a private address`, url);
  if (options.org !== undefined) {
    const port = effectivePort(url);
    if (!DEFAULT_PORTS.has(port) && !(options.org?.allowPorts ?? []).includes(port)) {
      return refuseEgress(`port ${port} is not allowed: only 80 and 443, unless the org allows more`, url);
    }
  }
  return { ok: true, url };
}

/** Whether `url` is one of the development origins, and this is development. */
export function isDevOrigin(url: URL, options: Pick<EgressOptions, "development" | "devAllowOrigins">): boolean {
  return options.development && (options.devAllowOrigins ?? []).includes(url.origin);
}

/** `PARLOR_DEV_ALLOW_ORIGINS` as exact origins; production ignores it (and says so, once). */
export function devAllowOrigins(env: Pick<Env, "PARLOR_ENV" | "PARLOR_DEV_ALLOW_ORIGINS">): string[] {
  const raw = env.PARLOR_DEV_ALLOW_ORIGINS?.trim();
  if (!raw) return [];
  if (env.PARLOR_ENV !== "development") {
    if (!warnedProduction) {
      warnedProduction = true;
      log("warn", "dev_allow_origins_ignored", { reason: "PARLOR_DEV_ALLOW_ORIGINS is ignored outside development" });
    }
    return [];
  }
  const origins: string[] = [];
  for (const entry of raw.split(",")) {
    const text = entry.trim();
    if (!text) continue;
    try {
      const origin = new URL(text).origin;
      if (origin !== "null") origins.push(origin);
    } catch {
      log("warn", "dev_allow_origin_invalid", { origin: text.slice(0, 200) });
    }
  }
  return origins;
}
let warnedProduction = false;

/** Same origin, and the path at or below the base's path (segment-wise: /api does not admit /apix). */
function matchesBase(url: URL, baseUrl: string): boolean {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    return false;
  }
  if (url.origin !== base.origin) return false;
  const basePath = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
  return url.pathname === base.pathname || url.pathname.startsWith(basePath);
}

export function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** The host without IPv6 brackets or a trailing root dot, lowercase. */
export function bareHost(hostname: string): string {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return host.replace(/\.+$/, "").toLowerCase();
}

/** An org host pattern: `name` is that host alone; `*.suffix` is any host below suffix (not suffix itself). */
export function hostMatches(host: string, pattern: string): boolean {
  const bare = bareHost(host);
  const p = pattern.toLowerCase();
  if (p.startsWith("*.")) return bare.endsWith(p.slice(1));
  return bare === p;
}

function hostShapeProblem(hostname: string): string | null {
  if (!hostname) return "the URL has no host";
  if (hostname.length > MAX_HOST_LENGTH) return `host names are limited to ${MAX_HOST_LENGTH} characters`;
  if (hostname.startsWith("[")) return null; // an IPv6 literal: judged by its address
  const host = hostname.replace(/\.$/, "");
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return null;
  if (host.split(".").some((label) => label.length > MAX_LABEL_LENGTH)) {
    return `host name labels are limited to ${MAX_LABEL_LENGTH} characters`;
  }
  if (!HOST_NAME.test(host)) return `${hostname} is not a valid host name`;
  return null;
}

/** The address a host literal names, or null for a name. */
export function hostAddress(hostname: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  const bare = host.replace(/\.$/, "");
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (bare.includes(":") && ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  // Anything else a lenient parser would still read as IPv4 (0x7f.1, 017700000001, 127.1): never a public name.
  if (ipaddr.IPv4.isValid(bare)) return ipaddr.IPv4.parse(bare);
  return null;
}

/** True for a host whose literal address is not public, or whose name is private by its spelling. */
export function isPrivateHost(hostname: string): boolean {
  const address = hostAddress(hostname);
  if (address) return isPrivateAddress(address);
  const host = bareHost(hostname);
  if (!host.includes(".")) return true;
  return PRIVATE_NAMES.test(host) || METADATA_NAMES.has(host);
}

/** True for every address that is not plainly public: IPv6 forms embedding IPv4 are judged by the embedded one. */
export function isPrivateAddress(address: ipaddr.IPv4 | ipaddr.IPv6 | string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = typeof address === "string" ? (hostAddress(address) ?? ipaddr.parse(address)) : address;
  } catch {
    return true;
  }
  if (parsed.kind() === "ipv4") {
    const v4 = parsed as ipaddr.IPv4;
    return v4.range() !== "unicast" || METADATA_ADDRESSES.has(v4.toString());
  }
  const v6 = parsed as ipaddr.IPv6;
  if (v6.zoneId) return true;
  const embedded = embeddedIPv4(v6);
  if (embedded === "refuse") return true;
  if (embedded) return isPrivateAddress(embedded);
  if (v6.toNormalizedString() === "fd00:ec2:0:0:0:0:0:254") return true;
  // Public IPv6 unicast is 2000::/3; anything else (and every special range ipaddr.js knows) is not public.
  return v6.range() !== "unicast" || (v6.parts[0] & 0xe000) !== 0x2000;
}

/** The IPv4 address an IPv6 form carries: mapped, translated, NAT64 (64:ff9b::/96) and 6to4 (2002::/16). */
function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | "refuse" | null {
  const p = v6.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zeros = (from: number, to: number) => p.slice(from, to).every((part) => part === 0);
  // IPv4-mapped ::ffff:a.b.c.d and IPv4-translated ::ffff:0:a.b.c.d.
  if (zeros(0, 5) && p[5] === 0xffff) return v4(p[6], p[7]);
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return v4(p[6], p[7]);
  // IPv4-compatible ::a.b.c.d (deprecated; :: and ::1 included): never public.
  if (zeros(0, 6)) return "refuse";
  // NAT64, well-known prefix; the local-use prefix 64:ff9b:1::/48 is private.
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return v4(p[6], p[7]);
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 1) return "refuse";
  // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
  if (p[0] === 0x2002) return v4(p[1], p[2]);
  // Teredo hides the client's address; nothing there is a public service to call.
  if (p[0] === 0x2001 && p[1] === 0) return "refuse";
  return null;
}
