/**
 * The summary job's actor, one per chat (named by the chat's id). The room asks it for the next summary once enough
 * has accumulated; it answers at once and works in the background (`summary-job.ts`), so the message path never
 * waits for a model. It keeps no state of its own: the room holds the summaries and accepts only the next version.
 */
import { Agent } from "agents";
import { type SummaryJob, summarizeChat } from "./summary-job";

export class SummaryAgent extends Agent<Env> {
  async summarize(job: SummaryJob): Promise<void> {
    await this.startFiber(
      "summary",
      () => summarizeChat(this.env, job),
      // No idempotency key: a failed job must be able to run again; the room stores only the next version.
    );
  }

  /** An interrupted job stored nothing, and the room asks again with a later message: nothing to recover. */
  async onFiberRecovered(): Promise<void> {}
}
