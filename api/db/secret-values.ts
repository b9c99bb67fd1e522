/**
 * Sealing and opening secret values with AES-GCM through WebCrypto (in workerd, no library). `PARLOR_SECRETS_KEY` is
 * `<keyId>:<base64 of 32 bytes>` and seals; `PARLOR_SECRETS_OLD_KEYS` (comma-separated, same format) only open, so a
 * key can be rotated without re-sealing everything at once. The org and the name are the additional data: a sealed
 * value copied to another row (or org) does not open. `agents/` opens values through this file too.
 */
export type SealedValue = { keyId: string; iv: string; ciphertext: string };
type Key = { id: string; key: CryptoKey };

/** No key configured, or the key that sealed a value is gone: secrets cannot be used until it is set. */
export class SecretsUnavailable extends Error {}

export function secretsConfigured(env: Env): boolean {
  return Boolean(env.PARLOR_SECRETS_KEY?.trim());
}

export async function sealValue(env: Env, scope: string, value: string): Promise<SealedValue> {
  const { current } = await keysOf(env);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(scope) },
    current.key,
    new TextEncoder().encode(value),
  );
  return { keyId: current.id, iv: toBase64(iv), ciphertext: toBase64(new Uint8Array(sealed)) };
}

export async function openValue(env: Env, scope: string, sealed: SealedValue): Promise<string> {
  const { all } = await keysOf(env);
  const key = all.get(sealed.keyId);
  if (!key) throw new SecretsUnavailable(`the key ${sealed.keyId} that sealed this secret is not configured`);
  const opened = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: new TextEncoder().encode(scope) },
    key,
    fromBase64(sealed.ciphertext),
  );
  return new TextDecoder().decode(opened);
}

/** What a value is bound to: its org and its name. */
export const secretScope = (orgId: string, name: string) => `${orgId}/${name}`;

async function keysOf(env: Env): Promise<{ current: Key; all: Map<string, CryptoKey> }> {
  if (!secretsConfigured(env)) throw new SecretsUnavailable("secrets are not configured: set PARLOR_SECRETS_KEY");
  const current = await importKey(env.PARLOR_SECRETS_KEY as string);
  const all = new Map([[current.id, current.key]]);
  for (const entry of (env.PARLOR_SECRETS_OLD_KEYS ?? "").split(",")) {
    if (!entry.trim()) continue;
    const old = await importKey(entry);
    if (!all.has(old.id)) all.set(old.id, old.key);
  }
  return { current, all };
}

async function importKey(entry: string): Promise<Key> {
  const at = entry.indexOf(":");
  const id = entry.slice(0, at).trim();
  let raw: Uint8Array;
  try {
    raw = fromBase64(entry.slice(at + 1).trim());
  } catch {
    raw = new Uint8Array();
  }
  // The message names the key id only: the key itself must never reach a log.
  if (at < 1 || raw.length !== 32)
    throw new SecretsUnavailable(`a secrets key (${id || "?"}) is not <keyId>:<base64 of 32 bytes>`);
  return { id, key: await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]) };
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
