/**
 * How a snapshot is stored: each object is gzip'd JSON Lines of the room's own rows (so a restore puts back exactly
 * what was there), written with its SHA-256 (R2 refuses a corrupted upload), and listed in a manifest written last.
 * Reading verifies every object against the manifest before anyone uses it.
 */
import { type Manifest, type ManifestObject, manifestSchema } from "../protocol/backups";

export function snapshotPrefix(orgId: string, chatId: string): string {
  return `backups/${orgId}/${chatId}/`;
}

export function manifestKey(orgId: string, chatId: string, snapshotId: string): string {
  return `${snapshotPrefix(orgId, chatId)}${snapshotId}/manifest.json`;
}

export async function sha256Hex(bytes: ArrayBuffer | Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function gzipLines(rows: unknown[]): Promise<Uint8Array> {
  const text = rows.map((row) => JSON.stringify(row)).join("\n");
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function gunzipLines<T>(bytes: ArrayBuffer): Promise<T[]> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const text = await new Response(stream).text();
  return text === "" ? [] : text.split("\n").map((line) => JSON.parse(line) as T);
}

/** The manifest's own digest: over its objects' digests, in order. */
export function manifestDigest(objects: ManifestObject[]): Promise<string> {
  return sha256Hex(objects.map((object) => object.sha256).join(""));
}

export class BackupCorrupt extends Error {}

/** Reads and checks the manifest; throws `BackupCorrupt` saying what is wrong. */
export async function readManifest(bucket: R2Bucket, key: string, expected: { orgId: string; chatId: string }) {
  const object = await bucket.get(key);
  if (!object) throw new BackupCorrupt("the backup has no manifest (missing, or never completed)");
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(await object.json());
  } catch {
    throw new BackupCorrupt("the backup's manifest is not readable");
  }
  if (manifest.orgId !== expected.orgId || manifest.chatId !== expected.chatId) {
    throw new BackupCorrupt("the manifest belongs to another chat");
  }
  if ((await manifestDigest(manifest.objects)) !== manifest.sha256) {
    throw new BackupCorrupt("the manifest's checksum does not match its objects");
  }
  let seq = manifest.firstSeq;
  for (const chunk of manifest.objects.filter((o) => o.kind === "messages")) {
    if (chunk.firstSeq !== seq || chunk.lastSeq === undefined || chunk.lastSeq - chunk.firstSeq + 1 !== chunk.rows) {
      throw new BackupCorrupt(`the message chunks do not cover seqs ${manifest.firstSeq}-${manifest.lastSeq} exactly`);
    }
    seq = chunk.lastSeq + 1;
  }
  if (manifest.messages > 0 && seq !== manifest.lastSeq + 1) {
    throw new BackupCorrupt(`the message chunks do not reach seq ${manifest.lastSeq}`);
  }
  return manifest;
}

/** Reads one object and checks it against the manifest; throws `BackupCorrupt` naming the object. */
export async function readObject<T>(bucket: R2Bucket, entry: ManifestObject): Promise<T[]> {
  const object = await bucket.get(entry.key);
  const name = entry.key.slice(entry.key.lastIndexOf("/") + 1);
  if (!object) throw new BackupCorrupt(`${name} is missing`);
  const bytes = await object.arrayBuffer();
  if (bytes.byteLength !== entry.bytes || (await sha256Hex(bytes)) !== entry.sha256) {
    throw new BackupCorrupt(`${name} does not match its checksum (corrupt or truncated)`);
  }
  let rows: T[];
  try {
    rows = await gunzipLines<T>(bytes);
  } catch {
    throw new BackupCorrupt(`${name} cannot be read`);
  }
  if (rows.length !== entry.rows) throw new BackupCorrupt(`${name} holds ${rows.length} rows, not ${entry.rows}`);
  return rows;
}

/** Checks every object of a snapshot, one at a time (nothing is kept): the whole backup is sound, or this throws. */
export async function verifySnapshot(bucket: R2Bucket, manifest: Manifest): Promise<void> {
  for (const entry of manifest.objects) await readObject(bucket, entry);
}
