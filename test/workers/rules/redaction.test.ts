import { describe, expect, it } from "vitest";
import { encodingsOf, redactSecrets } from "../../../agents/tools/redaction";

const VALUE = 'tok_3xAmple/Secret+value "quoted" & ünïcode?=';
const secret = { name: "GITHUB", value: VALUE };
const MARK = "[secret:GITHUB]";

function base64(bytes: Uint8Array, urlSafe = false): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const standard = btoa(binary);
  return urlSafe ? standard.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "") : standard;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A stretch of the value's own characters that no redacted text may still hold. */
function leaks(text: string): boolean {
  return text.includes("3xAmple") || text.includes("Secret+value") || text.includes("Secret%2Bvalue");
}

describe("redacting echoed secret values", () => {
  it("a value as is, and inside JSON, is replaced by its name", () => {
    expect(redactSecrets(`Bearer ${VALUE}`, [secret])).toBe(`Bearer ${MARK}`);
    const echoed = JSON.stringify({ headers: { authorization: `Bearer ${VALUE}` } });
    const redacted = redactSecrets(echoed, [secret]);
    expect(redacted).toContain(MARK);
    expect(leaks(redacted)).toBe(false);
    const ascii = JSON.stringify({ v: VALUE }).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    expect(leaks(redactSecrets(ascii, [secret]))).toBe(false);
  });

  it("a percent-encoded value is replaced, in upper or lower case hex and with + for spaces", () => {
    const encoded = encodeURIComponent(VALUE);
    for (const form of [
      encoded,
      encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
      encoded.replaceAll("%20", "+"),
    ]) {
      const redacted = redactSecrets(`?q=${form}&x=1`, [secret]);
      expect(redacted).toBe(`?q=${MARK}&x=1`);
    }
  });

  it("base64 of a value is caught at every byte alignment, standard and URL-safe, whatever surrounds it", () => {
    const value = new TextEncoder().encode(VALUE);
    for (let before = 0; before < 6; before++) {
      for (let after = 0; after < 3; after++) {
        const bytes = concat(new TextEncoder().encode("user:".slice(0, before)), value, new Uint8Array(after).fill(65));
        for (const urlSafe of [false, true]) {
          const encoded = base64(bytes, urlSafe);
          const redacted = redactSecrets(`Basic ${encoded}`, [secret]);
          expect(redacted, `${before} bytes before, ${after} after, ${urlSafe ? "url-safe" : "standard"}`).toContain(
            MARK,
          );
          // No stretch of the value's base64 longer than its unstable edges survives.
          expect(redacted.length).toBeLessThan(`Basic ${encoded}`.length - 40);
        }
      }
    }
  });

  it("several secrets are redacted together, the longer value first", () => {
    const short = { name: "SHORT", value: "abcd1234" };
    const long = { name: "LONG", value: "abcd1234-and-more" };
    expect(redactSecrets("x abcd1234-and-more y abcd1234", [short, long])).toBe("x [secret:LONG] y [secret:SHORT]");
  });

  it("an empty value redacts nothing, and text without a value is left as it was", () => {
    expect(redactSecrets("nothing here", [{ name: "EMPTY", value: "" }, secret])).toBe("nothing here");
  });

  it("every form searched for is a form of the value", () => {
    const forms = encodingsOf("plain");
    expect(forms.has("plain")).toBe(true);
    expect([...forms].every((form) => form.length > 0)).toBe(true);
  });
});
