import { describe, expect, it } from "vitest";
import { checkEgress, isPrivateHost } from "../../agents/tools/egress";

const allowAll = (baseUrl: string) => ({ allow: [{ baseUrl, methods: ["GET" as const, "POST" as const] }] });

describe("the egress guard", () => {
  it("refuses every private address in production, however it is written", () => {
    for (const host of [
      "127.0.0.1",
      "0x7f000001",
      "2130706433",
      "127.1",
      "[::1]",
      "[::ffff:127.0.0.1]",
      "[::ffff:7f00:1]",
      "[::127.0.0.1]",
      "10.0.0.8",
      "172.16.3.4",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "[fc00::1]",
      "[fe80::1]",
      "localhost",
      "localhost.",
      "db.internal",
      "printer.local",
      "intranet",
    ]) {
      const url = `http://${host}/x`;
      const verdict = checkEgress(allowAll(`http://${host}/`), "GET", url, { development: false });
      expect(verdict.ok, host).toBe(false);
    }
  });

  it("in development honours a loopback base URL the allow list names, and nothing else private", () => {
    expect(
      checkEgress(allowAll("http://127.0.0.1:9000"), "GET", "http://127.0.0.1:9000/a", { development: true }).ok,
    ).toBe(true);
    expect(checkEgress(allowAll("http://10.0.0.8"), "GET", "http://10.0.0.8/a", { development: true }).ok).toBe(false);
  });

  it("admits only the allow list's origin, at or below its path, with a listed method", () => {
    const config = { allow: [{ baseUrl: "https://api.example.com/v1", methods: ["GET" as const] }] };
    const check = (method: string, url: string) => checkEgress(config, method, url, { development: false }).ok;
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

  it("public addresses are public", () => {
    expect(isPrivateHost("api.example.com")).toBe(false);
    expect(isPrivateHost("93.184.216.34")).toBe(false);
  });
});
