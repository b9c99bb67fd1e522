/**
 * A local HTTP service playing "the outside world" for the HTTP tool: it records every request it receives, so
 * tests can prove what was (and was not) sent. `/__requests` lists them (and is not itself recorded).
 */
import { createServer, type Server } from "node:http";

export type RecordedRequest = { method: string; path: string; body: string; headers: Record<string, string> };
export type ExternalService = { url: string; received: () => Promise<RecordedRequest[]>; close: () => Promise<void> };

export async function startExternalService(): Promise<ExternalService> {
  const received: RecordedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://service");
    if (url.pathname === "/__requests") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ requests: received.filter((r) => r.path.startsWith(url.searchParams.get("prefix") ?? "/")) }),
      );
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    received.push({
      method: req.method ?? "GET",
      path: url.pathname,
      body: Buffer.concat(chunks).toString("utf8"),
      headers,
    });
    if (url.pathname.endsWith("/big")) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("x".repeat(200_000));
      return;
    }
    const padded = /\/padded-echo-(\d+)$/.exec(url.pathname);
    if (padded) {
      // The x-token header after N bytes of padding: a value placed across the 64 KiB cut.
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`${"x".repeat(Number(padded[1]))}${String(req.headers["x-token"] ?? "")}`);
      return;
    }
    if (url.pathname.endsWith("/echo")) {
      // Echoes the x-token header back in every encoding a careless service might use, to prove redaction.
      const token = String(req.headers["x-token"] ?? "");
      const bytes = Buffer.from(token, "utf8");
      const base64At = (offset: number, urlSafe: boolean) =>
        Buffer.concat([Buffer.from("abc".slice(0, offset)), bytes]).toString(urlSafe ? "base64url" : "base64");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          headers,
          raw: `token=${token}`,
          percent: encodeURIComponent(token),
          base64: [0, 1, 2].map((offset) => base64At(offset, false)),
          base64url: [0, 1, 2].map((offset) => base64At(offset, true)),
        }),
      );
      return;
    }
    if (url.pathname.endsWith("/redirect-to")) {
      // Redirects to ?to= (relative or absolute) with ?status= (default 302).
      res.writeHead(Number(url.searchParams.get("status") ?? 302), { location: url.searchParams.get("to") ?? "/" });
      res.end("moved");
      return;
    }
    const chain = /\/redirect-chain-(\d+)$/.exec(url.pathname);
    if (chain) {
      // N more redirects, each to the next link of the chain, then a 200.
      const left = Number(chain[1]);
      if (left > 0) {
        res.writeHead(302, { location: url.pathname.replace(/-\d+$/, `-${left - 1}`) });
        res.end();
      } else {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("end of the chain");
      }
      return;
    }
    if (url.pathname.endsWith("/redirect")) {
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data" });
      res.end();
      return;
    }
    const created = req.method === "POST";
    res.writeHead(created ? 201 : 200, { "content-type": "application/json" });
    res.end(JSON.stringify(created ? { id: received.length, created: true } : { items: ["alpha", "beta"] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received: async () => [...received],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
