/**
 * Redaction of secret values a response echoes back, before anyone or the model sees it: each value is replaced by
 * `[secret:NAME]` as is, JSON-escaped, percent-encoded, and in base64 (standard and URL-safe) at every byte
 * alignment. A value's base64 depends on what precedes it (its first and last characters share bits with the
 * neighbouring bytes), so for each of the three offsets in a 3-byte group only the middle characters, the ones made
 * of the value's bits alone, are searched for.
 */
import { maskedSecret } from "../../protocol/agents";

export type RevealedSecret = { name: string; value: string };

/** Base64 stretches shorter than this are not searched: they would match ordinary text. */
const MIN_BASE64_NEEDLE = 6;

/** The longest form a needle takes, so a caller reads this much past a size cut before redacting. */
export const REDACTION_MARGIN = 16 * 1024;

export function redactSecrets(text: string, secrets: readonly RevealedSecret[]): string {
  const needles: { needle: string; name: string }[] = [];
  for (const { name, value } of secrets) {
    if (value === "") continue;
    for (const needle of encodingsOf(value)) needles.push({ needle, name });
  }
  // Longest first, so a value's encoding is not half-replaced by a shorter needle inside it.
  needles.sort((a, b) => b.needle.length - a.needle.length);
  let redacted = text;
  for (const { needle, name } of needles) redacted = redacted.split(needle).join(maskedSecret(name));
  return redacted;
}

/** Every form of `value` searched for. */
export function encodingsOf(value: string): Set<string> {
  const forms = new Set<string>([value]);
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  forms.add(json.replaceAll("/", "\\/"));
  forms.add(asciiJson(value));
  const percent = encodeURIComponent(value);
  const strict = percent.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  for (const form of [percent, strict]) {
    forms.add(form);
    forms.add(form.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
    forms.add(form.replaceAll("%20", "+"));
  }
  for (const middle of base64Middles(new TextEncoder().encode(value))) {
    forms.add(middle);
    forms.add(middle.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return forms;
}

/** JSON with every non-ASCII character escaped as `\uXXXX`, as some serializers write it. */
function asciiJson(value: string): string {
  return JSON.stringify(value)
    .slice(1, -1)
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** For each offset 0, 1, 2 of the value in a 3-byte group, the base64 characters made of the value's bits alone. */
function base64Middles(bytes: Uint8Array): string[] {
  const middles: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const shifted = new Uint8Array(offset + bytes.length);
    shifted.set(bytes, offset);
    const encoded = toBase64(shifted);
    const first = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    const middle = encoded.slice(first, end);
    if (middle.length >= MIN_BASE64_NEEDLE) middles.push(middle);
  }
  return middles;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
