/**
 * A DNS-over-HTTPS resolver (the JSON API: `GET ?name=&type=A|AAAA`, `accept: application/dns-json`) with a fixed
 * table, for the HTTP tool's name checks in tests. Unknown names are NXDOMAIN; `servfail.test` fails. It counts the
 * questions it was asked, at `/__queries`.
 */
import { createServer, type Server } from "node:http";

export type DohStandIn = { url: string; close: () => Promise<void> };

const TABLE: Record<string, { A?: string[]; AAAA?: string[] }> = {
  "public.test": { A: ["93.184.215.14"], AAAA: ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"] },
  "rebind.test": { A: ["127.0.0.1"] },
  "mixed.test": { A: ["93.184.215.14", "10.0.0.7"] },
  "v6private.test": { A: ["93.184.215.14"], AAAA: ["::1"] },
  "metadata.test": { A: ["169.254.169.254"] },
  "cgnat.test": { A: ["100.64.0.1"] },
  "mapped.test": { AAAA: ["::ffff:192.168.0.1"] },
  "nat64.test": { AAAA: ["64:ff9b::a00:1"] },
  "sixtofour.test": { AAAA: ["2002:7f00:1::1"] },
  "nat64-public.test": { AAAA: ["64:ff9b::5db8:d70e"] },
  "garbage.test": { A: ["not-an-address"] },
  "127.0.0.1.nip.io": { A: ["127.0.0.1"] },
};

export async function startDohStandIn(): Promise<DohStandIn> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://doh");
    const name = (url.searchParams.get("name") ?? "").toLowerCase().replace(/\.$/, "");
    const type = url.searchParams.get("type") === "AAAA" ? "AAAA" : "A";
    res.setHeader("content-type", "application/dns-json");
    if (name === "servfail.test") {
      res.end(JSON.stringify({ Status: 2 }));
      return;
    }
    const entry = TABLE[name];
    if (!entry) {
      res.end(JSON.stringify({ Status: 3, Question: [{ name, type: type === "A" ? 1 : 28 }] }));
      return;
    }
    const code = type === "A" ? 1 : 28;
    const answers = (entry[type] ?? []).map((data) => ({ name, type: code, TTL: 60, data }));
    res.end(JSON.stringify({ Status: 0, Question: [{ name, type: code }], Answer: answers }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/dns-query`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
