/**
 * Says the chat's socket dropped and is coming back, then that it came back, and clears itself. A short blip (under
 * a second) shows nothing; the header's "reconnecting…" status stays the plain indicator.
 */
import { useEffect, useRef, useState } from "preact/hooks";

const SHOW_AFTER_MS = 1_000;
const BACK_SHOWN_MS = 2_500;

export function ReconnectBanner({ connected, stopped }: { connected: boolean; stopped: boolean }) {
  const [state, setState] = useState<"hidden" | "down" | "back">("hidden");
  const everConnected = useRef(false);
  useEffect(() => {
    if (stopped) return setState("hidden");
    if (connected) {
      const wasDown = state === "down";
      everConnected.current = true;
      if (!wasDown) return setState("hidden");
      setState("back");
      const timer = setTimeout(() => setState("hidden"), BACK_SHOWN_MS);
      return () => clearTimeout(timer);
    }
    if (!everConnected.current) return;
    const timer = setTimeout(() => setState("down"), SHOW_AFTER_MS);
    return () => clearTimeout(timer);
  }, [connected, stopped]);
  if (state === "hidden") return null;
  return (
    <div class={`banner banner-${state}`} role="status" aria-live="polite" data-testid="reconnect-banner">
      {state === "down" ? "Connection lost: reconnecting… new messages will catch up." : "Reconnected."}
    </div>
  );
}
