/**
 * Backups in the contract: a snapshot of a chat's room in R2 (chunks of at most 1,000 messages, its summaries,
 * approvals and artifacts, and a manifest with each object's SHA-256), and a restore into a new chat.
 */
import { z } from "zod";
import { timestamp, uuid } from "./primitives";

export const MESSAGES_PER_CHUNK = 1_000;
export const ARTIFACTS_PER_CHUNK = 100;

export const backupSchema = z
  .object({
    /** The snapshot's id: `<UTC timestamp>-<lastSeq, 12 digits>`, so ids sort oldest first. */
    id: z.string(),
    createdAt: timestamp,
    messages: z.number().int().min(0),
    lastSeq: z.number().int().min(0),
    /** What its objects hold in R2, in bytes (gzip'd), the manifest apart. */
    bytes: z.number().int().min(0),
    /** SHA-256 (hex) over the objects' SHA-256 values, in the manifest's order. */
    sha256: z.string(),
  })
  .meta({ id: "Backup" });
export type Backup = z.infer<typeof backupSchema>;

export const backupResponse = z.object({ backup: backupSchema });
export const backupsResponse = z.object({ backups: z.array(backupSchema) });
export const restoreBody = z.object({ chatId: uuid, backupId: z.string().regex(/^\d{8}T\d{6}Z-\d{12}$/) }).strict();

/** The kinds of object a snapshot holds, each a gzip'd JSON Lines file of the room's rows. */
export const BACKUP_KINDS = ["messages", "summaries", "approvals", "artifacts"] as const;

export const manifestObjectSchema = z.object({
  key: z.string(),
  kind: z.enum(BACKUP_KINDS),
  rows: z.number().int().min(0),
  /** For message chunks: the seqs it covers. */
  firstSeq: z.number().int().optional(),
  lastSeq: z.number().int().optional(),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export const manifestSchema = z.object({
  version: z.literal(1),
  orgId: z.string(),
  chatId: z.string(),
  snapshotId: z.string(),
  createdAt: timestamp,
  messages: z.number().int().min(0),
  firstSeq: z.number().int().min(0),
  lastSeq: z.number().int().min(0),
  objects: z.array(manifestObjectSchema),
  sha256: z.string(),
});
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestObject = z.infer<typeof manifestObjectSchema>;
