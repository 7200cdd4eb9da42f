// Job event streams to clients that may not read. A response buffers whatever is written to it;
// a client that stops reading (a stalled tab, a hostile script) would make the server hold every
// progress event (diffusion previews are ~2.5 MB/s) forever. Here a stream writes only while its
// socket buffer is below a high-water mark; beyond it, progress events are coalesced into the
// latest one, written when the socket drains. The one final event (result, error, cancelled) is
// never dropped: it replaces any pending progress and goes out as soon as there is room.
import type { ServerResponse } from 'node:http';
import type { JobEvent } from './jobs.js';

export interface StreamStats {
  /** open streams */
  streams: number;
  /** bytes written but not yet taken by the sockets, plus pending events, over all streams */
  bufferedBytes: number;
  /** the largest buffered bytes of one stream */
  maxStreamBytes: number;
  /** events waiting to be written, over all streams (at most 2 per stream: the latest progress, or the final event) */
  queued: number;
  /** progress events replaced by a newer one before they were written */
  coalesced: number;
}

const frame = (e: JobEvent): string => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

class EventStream {
  private pendingProgress: string | undefined;
  private pendingFinal: string | undefined;
  private ended = false;
  coalesced = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly highWaterBytes: number,
    private readonly onEnd: () => void,
  ) {
    res.on('drain', () => this.flush());
    res.on('close', () => this.end(false));
  }

  get buffered(): number {
    return this.res.writableLength + (this.pendingProgress?.length ?? 0) + (this.pendingFinal?.length ?? 0);
  }

  get queued(): number {
    return (this.pendingProgress ? 1 : 0) + (this.pendingFinal ? 1 : 0);
  }

  send(e: JobEvent): void {
    if (this.ended || this.pendingFinal) return;
    if (e.type === 'progress') {
      if (this.pendingProgress) this.coalesced++;
      this.pendingProgress = frame(e);
    } else {
      // The final event makes pending progress moot.
      if (this.pendingProgress) this.coalesced++;
      this.pendingProgress = undefined;
      this.pendingFinal = frame(e);
    }
    this.flush();
  }

  private flush(): void {
    if (this.ended || this.res.writableLength >= this.highWaterBytes) return;
    if (this.pendingProgress) {
      const text = this.pendingProgress;
      this.pendingProgress = undefined;
      this.res.write(text);
    }
    if (this.pendingFinal && this.res.writableLength < this.highWaterBytes) {
      this.res.write(this.pendingFinal);
      this.pendingFinal = undefined;
      this.end(true);
    }
  }

  private end(graceful: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.pendingProgress = undefined;
    this.pendingFinal = undefined;
    if (graceful) this.res.end();
    this.onEnd();
  }
}

/** The open job event streams of a studio, with what they buffer. */
export class EventStreams {
  private readonly open = new Set<EventStream>();
  private coalescedClosed = 0;

  constructor(
    /** a stream stops writing progress while this many bytes wait in its socket buffer */
    readonly highWaterBytes = 256 * 1024,
  ) {}

  /** Starts an event stream on a raw response; the caller subscribes `send` to the job. */
  start(res: ServerResponse, onClose: () => void): (e: JobEvent) => void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const stream: EventStream = new EventStream(res, this.highWaterBytes, () => {
      this.open.delete(stream);
      this.coalescedClosed += stream.coalesced;
      onClose();
    });
    this.open.add(stream);
    return (e) => stream.send(e);
  }

  stats(): StreamStats {
    const all = [...this.open];
    return {
      streams: all.length,
      bufferedBytes: all.reduce((a, s) => a + s.buffered, 0),
      maxStreamBytes: all.reduce((a, s) => Math.max(a, s.buffered), 0),
      queued: all.reduce((a, s) => a + s.queued, 0),
      coalesced: this.coalescedClosed + all.reduce((a, s) => a + s.coalesced, 0),
    };
  }
}
