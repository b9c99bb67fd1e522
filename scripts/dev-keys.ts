/**
 * The local signing key for development session tokens, kept under .data/ and made once.
 * The Worker verifies these tokens with the same @clerk/backend code path as real Clerk tokens.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export type DevKeys = { privateKey: string; publicKey: string };

export function devKeys(file: string): DevKeys {
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as DevKeys;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ privateKey, publicKey }), { mode: 0o600 });
  return { privateKey, publicKey };
}

/** A secrets key (`<keyId>:<base64 of 32 bytes>`, AES-GCM) for `PARLOR_SECRETS_KEY`, kept beside the signing key. */
export function devSecretsKey(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const key = newSecretsKey("dev-1");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}

/** A signing secret for Stripe's webhook (`whsec_…`), so signed events can drive billing offline. */
export function devStripeWebhookSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** An Ed25519 private key (base64 PKCS#8) for `PARLOR_AUDIT_SIGNING_KEY`: signs audit checkpoints. */
export function devAuditSigningKey(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const key = generateKeyPairSync("ed25519").privateKey.export({ format: "der", type: "pkcs8" }).toString("base64");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}

export function newSecretsKey(keyId: string): string {
  return `${keyId}:${randomBytes(32).toString("base64")}`;
}

/**
 * The variables a development Worker needs, in the dotenv format `wrangler dev --env-file` reads. Its dotenv keeps
 * single-quoted values as written and, in double quotes, turns only `\n` and `\r` back into line breaks (an escaped
 * quote stays escaped): so a value is single-quoted (JSON such as `PARLOR_PLANS` included) unless it spans lines (a
 * PEM key), which is double-quoted with its line breaks escaped.
 */
export function devVarsFile(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([key, value]) => `${key}=${dotenvValue(key, value)}`)
    .join("\n");
}

function dotenvValue(key: string, value: string): string {
  if (!value.includes("\n") && !value.includes("\r") && !value.includes("'")) return `'${value}'`;
  if (value.includes('"') || value.includes("\\")) {
    throw new Error(`${key} cannot be passed to wrangler dev: it spans lines or holds ' and also holds " or \\`);
  }
  return `"${value.replaceAll("\r", "\\r").replaceAll("\n", "\\n")}"`;
}
