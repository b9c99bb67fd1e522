/**
 * Where the HTTP tool may go: only to a base URL the agent's definition allows, with an allowed method, and never
 * to a private address in production, whatever the list says (development honours a loopback base URL it names).
 */
import ipaddr from "ipaddr.js";
import type { AgentTools } from "../../protocol/agents";

export type EgressVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const PRIVATE_NAMES = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa)$/i;

export function checkEgress(
  config: NonNullable<AgentTools["http"]>,
  method: string,
  rawUrl: string,
  options: { development: boolean },
): EgressVerdict {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: "only http and https" };
  if (url.username || url.password) return { ok: false, reason: "credentials in URLs are not allowed" };
  const rule = config.allow.find((entry) => matchesBase(url, new URL(entry.baseUrl)));
  if (!rule) return { ok: false, reason: `${url.origin} is not on this agent's allow list` };
  if (!rule.methods.includes(method as (typeof rule.methods)[number])) {
    return { ok: false, reason: `${method} is not allowed for ${rule.baseUrl}` };
  }
  if (isPrivateHost(url.hostname) && !(options.development && isLoopback(url.hostname))) {
    return { ok: false, reason: `${url.hostname} is a private address` };
  }
  return { ok: true, url };
}

/** Same origin, and the path at or below the base's path (segment-wise: /api does not admit /apix). */
function matchesBase(url: URL, base: URL): boolean {
  if (url.origin !== base.origin) return false;
  const basePath = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
  return url.pathname === base.pathname || url.pathname.startsWith(basePath);
}

function hostAddress(hostname: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? ipaddr.process(bare) : null;
}

export function isPrivateHost(hostname: string): boolean {
  // "localhost." is localhost: a trailing dot is the DNS root, not a different host.
  const host = hostname.replace(/\.+$/, "");
  const address = hostAddress(host);
  // IPv4-compatible IPv6 (::a.b.c.d, deprecated) is not a public address either.
  if (address?.kind() === "ipv6" && (address as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)) return true;
  if (address) return address.range() !== "unicast";
  return PRIVATE_NAMES.test(host) || !host.includes(".");
}

function isLoopback(hostname: string): boolean {
  const address = hostAddress(hostname);
  return address ? address.range() === "loopback" : /^localhost$/i.test(hostname);
}
