/** The admin screens an org admin opens from the sidebar, each a module of its own. */

import { OrgAgents } from "./agents";
import type { OrgRef } from "./api";
import { OrgAudit } from "./audit";
import { OrgEgress } from "./egress";
import { OrgSecrets } from "./secrets";

export const ADMIN_SCREENS = { agents: "Agents", secrets: "Secrets", egress: "Egress", audit: "Audit log" } as const;
export type AdminScreenName = keyof typeof ADMIN_SCREENS;

export const isAdminScreen = (pane: string): pane is AdminScreenName => pane in ADMIN_SCREENS;

export function AdminNav({ pane, onOpen }: { pane: string; onOpen: (screen: AdminScreenName) => void }) {
  return (
    <ul>
      {(Object.keys(ADMIN_SCREENS) as AdminScreenName[]).map((screen) => (
        <li key={screen} class={pane === screen ? "selected" : ""}>
          <button
            type="button"
            class="link"
            aria-current={pane === screen ? "page" : undefined}
            onClick={() => onOpen(screen)}
          >
            {ADMIN_SCREENS[screen]}
          </button>
        </li>
      ))}
    </ul>
  );
}

export function AdminScreen({ org, screen }: { org: OrgRef; screen: AdminScreenName }) {
  if (screen === "agents") return <OrgAgents key={org.id} org={org} />;
  if (screen === "secrets") return <OrgSecrets key={org.id} org={org} />;
  if (screen === "egress") return <OrgEgress key={org.id} org={org} />;
  return <OrgAudit key={org.id} org={org} />;
}
