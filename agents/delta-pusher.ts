/**
 * Streams a reply's text to the room without one call per token: at most one delta is in flight per run, and
 * whatever arrives meanwhile goes out together in the next one. Each delta carries its offset in the reply.
 */
export type DeltaSink = (text: string, index: number) => Promise<void>;

export class DeltaPusher {
  private sent = 0;
  private pending = "";
  private inFlight: Promise<void> | null = null;
  private failure: unknown = null;
  private readonly sink: DeltaSink;

  /** `startAt`: how much of the reply earlier steps of the run already sent. */
  constructor(sink: DeltaSink, startAt = 0) {
    this.sink = sink;
    this.sent = startAt;
  }

  push(text: string): void {
    if (this.failure) throw this.failure;
    this.pending += text;
    if (!this.inFlight) this.inFlight = this.drain();
  }

  /** Resolves once everything pushed has reached the room. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending) {
        const text = this.pending;
        const index = this.sent;
        this.pending = "";
        await this.sink(text, index);
        this.sent += text.length;
      }
    } catch (error) {
      this.failure = error;
    } finally {
      this.inFlight = null;
    }
  }
}
