/**
 * An org's egress settings for the HTTP tool, in the contract (`GET|PUT /api/orgs/:orgId/egress`, admins).
 * `denyHosts` refuses matching hosts even where an agent's allow list names them; `allowHosts`, when not empty, is an
 * org-wide ceiling (an agent reaches only hosts it lists); `allowPorts` lifts the rule that only ports 80 and 443 are
 * reached. A host pattern is a lowercase host name (or IPv4 address), or `*.suffix` for every host below suffix.
 */
import { z } from "zod";

export const MAX_EGRESS_HOSTS = 100;
export const MAX_EGRESS_PORTS = 20;
const LABEL = "[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?";
export const EGRESS_HOST_PATTERN = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

export const egressHostPattern = z
  .string()
  .max(253)
  .regex(EGRESS_HOST_PATTERN, "a lowercase host name, or *.suffix for every host below suffix");

export const egressSettings = z
  .object({
    allowHosts: z.array(egressHostPattern).max(MAX_EGRESS_HOSTS),
    denyHosts: z.array(egressHostPattern).max(MAX_EGRESS_HOSTS),
    allowPorts: z.array(z.number().int().min(1).max(65535)).max(MAX_EGRESS_PORTS),
  })
  .strict()
  .meta({ id: "EgressSettings" });
export type EgressSettings = z.infer<typeof egressSettings>;

export const egressBody = z.object({ egress: egressSettings }).strict();
export const egressResponse = z.object({ egress: egressSettings });
