// A push-driven async iterable of text chunks: the body of a server-sent event stream. Not an async generator: one
// of those, suspended waiting for the next event, cannot be returned early, so a client that goes away would leave
// its subscription behind until the next event arrived.
/** A server-sent event stream's headers; X-Accel-Buffering: no keeps nginx from holding the events back. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' })

export class EventStream implements AsyncIterable<string> {
  #queue: string[] = []
  #waiting: ((result: IteratorResult<string>) => void) | undefined
  #ended = false
  readonly #onEnd: () => void

  /** `onEnd` runs once, when the stream ends: end() here, or the reader returns (the server destroyed the response). */
  constructor(onEnd: () => void) {
    this.#onEnd = onEnd
  }

  push(chunk: string): void {
    if (this.#ended) return
    const waiting = this.#waiting
    if (waiting) {
      this.#waiting = undefined
      waiting({ value: chunk, done: false })
    } else this.#queue.push(chunk)
  }

  /** Ends the stream after what is queued has been read. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#onEnd()
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    return {
      next: () => {
        const chunk = this.#queue.shift()
        if (chunk !== undefined) return Promise.resolve({ value: chunk, done: false })
        if (this.#ended) return Promise.resolve({ value: undefined, done: true })
        return new Promise((resolve) => { this.#waiting = resolve })
      },
      return: () => {
        this.#queue = []
        this.end()
        return Promise.resolve({ value: undefined, done: true })
      },
    }
  }
}
