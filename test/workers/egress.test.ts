import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  checkEgress,
  devAllowOrigins,
  hostMatches,
  isPrivateAddress,
  isPrivateHost,
  MAX_URL_LENGTH,
  type OrgEgress,
} from "../../agents/tools/egress";
import { checkResolvedHost } from "../../agents/tools/egress-dns";

const service = (env as unknown as { TEST_SERVICE_URL: string }).TEST_SERVICE_URL;
const dohUrl = (env as unknown as { PARLOR_DOH_URL: string }).PARLOR_DOH_URL;
type Recorded = { method: string; path: string };

const allowAll = (baseUrl: string) => ({ allow: [{ baseUrl, methods: ["GET" as const, "POST" as const] }] });
const noOrg: OrgEgress = { allowHosts: [], denyHosts: [], allowPorts: [] };
const production = { development: false, org: noOrg };

/** The guard alone, with the URL's own origin on the allow list (so only the guard can refuse it). */
function guard(raw: string, options: Parameters<typeof checkEgress>[3] = production) {
  let base = raw;
  try {
    base = new URL(raw).origin;
  } catch {}
  return checkEgress(allowAll(`${base}/`), "GET", raw, options);
}

/** Every spelling of every address that is not public, and every URL shape the tool must never send. */
const HOSTILE: string[] = [
  // Loopback, in every IPv4 spelling.
  "http://127.0.0.1/",
  "http://127.0.0.1:80/",
  "http://127.1/",
  "http://127.0.1/",
  "http://127.255.255.254/",
  "http://2130706433/",
  "http://0x7f000001/",
  "http://0x7f.1/",
  "http://0x7f.0x0.0x0.0x1/",
  "http://0177.0.0.1/",
  "http://0177.1/",
  "http://017700000001/",
  "http://0x7F.000.000.001/",
  "http://127.000.000.001/",
  "http://127.0.0.1./",
  "http://①②⑦.0.0.1/",
  "http://127。0。0。1/",
  "http://%31%32%37.0.0.1/",
  // The unspecified address and "this network".
  "http://0.0.0.0/",
  "http://0/",
  "http://0x0/",
  "http://0.1.2.3/",
  // Private ranges.
  "http://10.0.0.1/",
  "http://10.255.255.255/",
  "http://167772161/",
  "http://0xa000001/",
  "http://012.0.0.1/",
  "http://172.16.0.1/",
  "http://172.31.255.254/",
  "http://0xac.0x10.0.1/",
  "http://192.168.0.1/",
  "http://192.168.1.254/",
  "http://3232235777/",
  "http://0xc0a80001/",
  "http://0300.0250.0.1/",
  // Link-local and cloud metadata.
  "http://169.254.169.254/",
  "http://169.254.169.254/latest/meta-data/",
  "http://2852039166/",
  "http://0xa9fea9fe/",
  "http://0251.0376.0251.0376/",
  "http://169.254.0.1/",
  "http://169.254.170.2/v2/credentials",
  "http://[fd00:ec2::254]/latest/meta-data/",
  "http://metadata.google.internal/computeMetadata/v1/",
  "http://metadata.google.internal./",
  "http://metadata/",
  "http://metadata.goog/",
  "http://instance-data/",
  "http://instance-data.ec2.internal/",
  "http://100.100.100.200/",
  "http://192.0.0.192/",
  // Carrier-grade NAT, benchmarking, documentation, reserved, broadcast, multicast.
  "http://100.64.0.1/",
  "http://100.127.255.254/",
  "http://198.18.0.1/",
  "http://198.19.255.254/",
  "http://192.0.2.1/",
  "http://198.51.100.7/",
  "http://203.0.113.9/",
  "http://240.0.0.1/",
  "http://255.255.255.255/",
  "http://4294967295/",
  "http://224.0.0.1/",
  "http://239.255.255.250/",
  "http://192.88.99.1/",
  // IPv6: loopback, unspecified, unique local, link-local (with and without zone ids), site-local, multicast.
  "http://[::1]/",
  "http://[0:0:0:0:0:0:0:1]/",
  "http://[::]/",
  "http://[fc00::1]/",
  "http://[fd12:3456::1]/",
  "http://[fe80::1]/",
  "http://[fe80::1%25eth0]/",
  "http://[fe80::1%eth0]/",
  "http://[fec0::1]/",
  "http://[ff02::1]/",
  "http://[100::1]/",
  "http://[2001:db8::1]/",
  "http://[2001:2::1]/",
  // IPv4-mapped, -translated and -compatible forms.
  "http://[::ffff:127.0.0.1]/",
  "http://[::ffff:7f00:1]/",
  "http://[::ffff:10.0.0.1]/",
  "http://[::ffff:169.254.169.254]/",
  "http://[::ffff:a9fe:a9fe]/",
  "http://[0:0:0:0:0:ffff:127.0.0.1]/",
  "http://[::ffff:0:127.0.0.1]/",
  "http://[::127.0.0.1]/",
  "http://[::7f00:1]/",
  "http://[::10.0.0.1]/",
  "http://[::8.8.8.8]/",
  // NAT64 and 6to4 carrying private addresses; Teredo.
  "http://[64:ff9b::127.0.0.1]/",
  "http://[64:ff9b::7f00:1]/",
  "http://[64:ff9b::a9fe:a9fe]/",
  "http://[64:ff9b::192.168.0.1]/",
  "http://[64:ff9b:1::1]/",
  "http://[2002:7f00:1::]/",
  "http://[2002:a00:1::1]/",
  "http://[2002:a9fe:a9fe::1]/",
  "http://[2002:c0a8:1::]/",
  "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
  // Names that are private by their spelling.
  "http://localhost/",
  "http://localhost./",
  "http://LOCALHOST/",
  "http://api.localhost/",
  "http://db.internal/",
  "http://printer.local/",
  "http://router.lan/",
  "http://box.home.arpa/",
  "http://1.0.0.127.in-addr.arpa/",
  "http://intranet/",
  "http://singlelabel/",
  // Other schemes.
  "ftp://public.test/",
  "file:///etc/passwd",
  "gopher://public.test:70/",
  "ws://public.test/",
  "data:text/plain,hi",
  "javascript:alert(1)",
  // Credentials.
  "http://user:pw@public.test/",
  "http://user@public.test/",
  "http://:pw@public.test/",
  "https://public.test@127.0.0.1/",
  // Ports other than 80 and 443 (the org allows none).
  "http://public.test:8080/",
  "https://public.test:8443/",
  "http://public.test:22/",
  "http://93.184.215.14:6379/",
  "http://public.test:0/",
  // Over-long URLs, host names and labels; malformed hosts.
  `http://public.test/${"a".repeat(MAX_URL_LENGTH)}`,
  `http://${"a".repeat(64)}.test/`,
  `http://${Array.from({ length: 60 }, () => "abcd").join(".")}.test/`,
  "http://exa mple.test/",
  "http://-bad.test/",
  "http://bad-.test/",
  "http:///path",
  "not a url",
  "",
];

describe("the egress guard", () => {
  it(`refuses a corpus of ${HOSTILE.length} hostile URLs, however their hosts are written`, () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(100);
    const passed = HOSTILE.filter((raw) => guard(raw).ok);
    expect(passed).toEqual([]);
  });

  it("refuses the corpus in development too, where no origin is exempt", () => {
    const passed = HOSTILE.filter((raw) => guard(raw, { development: true, devAllowOrigins: [], org: noOrg }).ok);
    expect(passed).toEqual([]);
  });

  it("lets public URLs through, and nothing reached the test service meanwhile", async () => {
    for (const raw of [
      "http://public.test/",
      "https://public.test/a/b?c=d#e",
      "https://api.example.com/v1/items",
      "http://93.184.215.14/",
      "https://93.184.215.14:443/",
      "http://public.test:443/",
      "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
      "http://[64:ff9b::5db8:d70e]/",
      "http://[2002:5db8:d70e::1]/",
      "https://xn--bcher-kva.example/",
      "https://bücher.example/",
      "https://public.test./",
    ]) {
      expect(guard(raw).ok, raw).toBe(true);
    }
    const prefix = encodeURIComponent("/");
    const before = ((await (await fetch(`${service}/__requests?prefix=${prefix}`)).json()) as { requests: Recorded[] })
      .requests.length;
    for (const raw of HOSTILE) guard(raw);
    const after = ((await (await fetch(`${service}/__requests?prefix=${prefix}`)).json()) as { requests: Recorded[] })
      .requests.length;
    expect(after).toBe(before);
  });

  it("in development spares only the exact origins named, and they must still be on the allow list", () => {
    const dev = { development: true, devAllowOrigins: ["http://127.0.0.1:9000"], org: noOrg };
    expect(checkEgress(allowAll("http://127.0.0.1:9000"), "GET", "http://127.0.0.1:9000/a", dev).ok).toBe(true);
    // Another port, another loopback spelling, another private address: not named, refused.
    expect(checkEgress(allowAll("http://127.0.0.1:9001"), "GET", "http://127.0.0.1:9001/a", dev).ok).toBe(false);
    expect(checkEgress(allowAll("http://localhost:9000"), "GET", "http://localhost:9000/a", dev).ok).toBe(false);
    expect(checkEgress(allowAll("http://10.0.0.8"), "GET", "http://10.0.0.8/a", dev).ok).toBe(false);
    // Named, but not on the agent's allow list.
    expect(checkEgress(allowAll("https://public.test"), "GET", "http://127.0.0.1:9000/a", dev).ok).toBe(false);
    // Production ignores the list.
    const prod = { ...dev, development: false };
    expect(checkEgress(allowAll("http://127.0.0.1:9000"), "GET", "http://127.0.0.1:9000/a", prod).ok).toBe(false);
    expect(devAllowOrigins({ PARLOR_ENV: "production", PARLOR_DEV_ALLOW_ORIGINS: "http://127.0.0.1:9000" })).toEqual(
      [],
    );
    expect(
      devAllowOrigins({ PARLOR_ENV: "development", PARLOR_DEV_ALLOW_ORIGINS: " http://127.0.0.1:9000/ ,nonsense,," }),
    ).toEqual(["http://127.0.0.1:9000"]);
  });

  it("admits only the allow list's origin, at or below its path, with a listed method", () => {
    const config = { allow: [{ baseUrl: "https://api.example.com/v1", methods: ["GET" as const] }] };
    const check = (method: string, url: string) => checkEgress(config, method, url, production).ok;
    expect(check("GET", "https://api.example.com/v1")).toBe(true);
    expect(check("GET", "https://api.example.com/v1/items?x=1")).toBe(true);
    expect(check("GET", "https://api.example.com/v10/items")).toBe(false);
    expect(check("GET", "https://api.example.com/v2")).toBe(false);
    expect(check("GET", "https://api.example.com.evil.com/v1")).toBe(false);
    expect(check("GET", "http://api.example.com/v1")).toBe(false);
    expect(check("GET", "https://user:pw@api.example.com/v1")).toBe(false);
    expect(check("POST", "https://api.example.com/v1")).toBe(false);
    expect(check("GET", "ftp://api.example.com/v1")).toBe(false);
  });

  it("a port beyond 80 and 443 needs the org's allowPorts, even when the agent's allow list names it", () => {
    const config = allowAll("https://public.test:8443");
    const url = "https://public.test:8443/x";
    expect(checkEgress(config, "GET", url, production).ok).toBe(false);
    expect(checkEgress(config, "GET", url, { development: false, org: { ...noOrg, allowPorts: [8443] } }).ok).toBe(
      true,
    );
    // Before the org's settings are read (planning), the port waits for the check made before sending.
    expect(checkEgress(config, "GET", url, { development: false }).ok).toBe(true);
  });

  it("the org's deny list wins over an agent's allow list, and its allow list is a ceiling", () => {
    const config = { allow: [{ baseUrl: "https://api.public.test", methods: ["GET" as const] }] };
    const url = "https://api.public.test/x";
    const org = (o: Partial<OrgEgress>) => ({ development: false, org: { ...noOrg, ...o } });
    expect(checkEgress(config, "GET", url, org({ denyHosts: ["*.public.test"] })).ok).toBe(false);
    expect(checkEgress(config, "GET", url, org({ denyHosts: ["api.public.test"] })).ok).toBe(false);
    expect(checkEgress(config, "GET", url, org({ denyHosts: ["public.test"] })).ok).toBe(true);
    expect(checkEgress(config, "GET", url, org({ allowHosts: ["other.test"] })).ok).toBe(false);
    expect(checkEgress(config, "GET", url, org({ allowHosts: ["*.public.test"] })).ok).toBe(true);
    expect(hostMatches("public.test", "*.public.test")).toBe(false);
    expect(hostMatches("API.Public.test.", "*.public.test")).toBe(true);
    expect(hostMatches("evilpublic.test", "*.public.test")).toBe(false);
  });

  it("public addresses are public", () => {
    expect(isPrivateHost("api.example.com")).toBe(false);
    expect(isPrivateHost("93.184.216.34")).toBe(false);
    expect(isPrivateAddress("2606:4700::1111")).toBe(false);
    expect(isPrivateAddress("64:ff9b::8.8.8.8")).toBe(false);
    expect(isPrivateAddress("::ffff:8.8.8.8")).toBe(false);
    expect(isPrivateAddress("garbage")).toBe(true);
    expect(isPrivateAddress("4000::1")).toBe(true);
  });
});

describe("name resolution", () => {
  const resolves = async (host: string, withResolver = true) =>
    (await checkResolvedHost({ PARLOR_DOH_URL: withResolver ? dohUrl : undefined }, new URL(`https://${host}/`))).ok;

  it("passes a name whose every answer is public", async () => {
    expect(await resolves("public.test")).toBe(true);
    expect(await resolves("nat64-public.test")).toBe(true);
    expect(await resolves("93.184.215.14")).toBe(true);
  });

  it("refuses a name with any private answer, no answer, or a failing resolver", async () => {
    for (const host of [
      "rebind.test",
      "mixed.test",
      "v6private.test",
      "metadata.test",
      "cgnat.test",
      "mapped.test",
      "nat64.test",
      "sixtofour.test",
      "garbage.test",
      "127.0.0.1.nip.io",
      "nowhere.test",
      "servfail.test",
    ]) {
      expect(await resolves(host), host).toBe(false);
    }
  });

  it("refuses every name when no resolver is configured; a literal public address needs none", async () => {
    expect(await resolves("public.test", false)).toBe(false);
    expect(await resolves("93.184.215.14", false)).toBe(true);
    expect(await resolves("[::1]", false)).toBe(false);
  });
});
