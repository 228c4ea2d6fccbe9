// One routed request while its body is read and its pipeline runs: its cancellation signal, its place in the server's
// deadline queue and its connection's close watch. Per request this is one object and no timer, AbortController or
// listener: every request of a server has the same timeout, so arrival order is deadline order and one timer, armed
// for the oldest, serves them all; a connection's close is listened to once per connection, not once per request.
import type { Socket } from 'node:net'
import { MAX_TIMER_MS, type AbortSignalLike, type Logger, type PipelineRunOptions } from '@islet/sdk'
import type { RequestState } from './contracts.ts'
import { HttpError } from './errors.ts'


/** The runs in flight on a connection (usually one; more with pipelining). */
const RUNS = Symbol('islet.http.runs')
type WatchedSocket = Socket & { [RUNS]?: RequestRun[] }

/**
 * A request's signal (an AbortSignalLike: what steps and the sandbox use) and its pipeline run's options: the logger
 * is the request's own, made only if something logs.
 */
export class RequestRun implements AbortSignalLike, PipelineRunOptions {
  aborted = false
  reason: unknown = undefined
  /** When the request times out, on performance.now()'s clock. */
  readonly deadline: number
  readonly state: RequestState
  /** Neighbours in the server's deadline queue. */
  older: RequestRun | undefined = undefined
  newer: RequestRun | undefined = undefined
  queued = false
  #socket: WatchedSocket | undefined = undefined
  #listeners: (() => void)[] | undefined = undefined
  /** Rejects the promise `until` handed out, if one is pending. */
  #interrupt: ((reason: unknown) => void) | undefined = undefined

  constructor(state: RequestState, deadline: number) {
    this.state = state
    this.deadline = deadline
  }

  get logger(): Logger {
    return this.state.logger
  }

  get signal(): AbortSignalLike {
    return this
  }

  addEventListener(type: 'abort', listener: () => void): void {
    if (type !== 'abort' || this.aborted) return
    ;(this.#listeners ??= []).push(listener)
  }

  removeEventListener(type: 'abort', listener: () => void): void {
    const listeners = this.#listeners
    if (type !== 'abort' || !listeners) return
    const i = listeners.indexOf(listener)
    if (i >= 0) listeners.splice(i, 1)
  }

  /** Cancels the request with `reason`: what is awaited through `until` rejects with it, and listeners are told. */
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const interrupt = this.#interrupt
    this.#interrupt = undefined
    interrupt?.(reason)
    const listeners = this.#listeners
    this.#listeners = undefined
    if (!listeners) return
    for (const listener of listeners) {
      // As an AbortSignal would not let one listener keep the others from hearing; a throw is logged, not lost.
      try {
        listener()
      } catch (error) {
        this.state.logger.error({ err: error }, 'an abort listener of a request threw')
      }
    }
  }

  /** `work`'s outcome, or a rejection with the reason if the request is cancelled first (the work's own is then ignored). */
  until<T>(work: Promise<T>): Promise<T> {
    if (this.aborted) {
      work.catch(() => {})
      return Promise.reject(this.reason)
    }
    return new Promise<T>((resolve, reject) => {
      this.#interrupt = reject
      work.then(resolve, reject)
    })
  }

  /** Cancels the request if its connection closes before it ends (the client went away). */
  watch(socket: WatchedSocket | null): void {
    if (!socket || socket.destroyed) return this.clientGone()
    this.#socket = socket
    const runs = socket[RUNS]
    if (runs) runs.push(this)
    else {
      socket[RUNS] = [this]
      socket.once('close', onSocketClose)
    }
  }

  /** The request ended (its response is about to be written): its connection closing no longer cancels anything. */
  unwatch(): void {
    const runs = this.#socket?.[RUNS]
    this.#socket = undefined
    if (!runs) return
    const i = runs.indexOf(this)
    if (i >= 0) runs.splice(i, 1)
  }

  clientGone(): void {
    if (this.aborted) return
    this.state.logger.debug('the client closed the connection before the response was sent; the request is cancelled')
    this.abort(new HttpError('ERR_HTTP_CLIENT_CLOSED', 'the client closed the connection before the response was sent'))
  }
}

function onSocketClose(this: WatchedSocket): void {
  const runs = this[RUNS]
  this[RUNS] = undefined
  if (runs) for (const run of runs.splice(0)) run.clientGone()
}

/** A server's requests in flight, oldest first, and the one timer that times the oldest out. */
export class RequestDeadlines {
  readonly timeoutMs: number
  #oldest: RequestRun | undefined = undefined
  #newest: RequestRun | undefined = undefined
  /** When the armed timer fires (performance.now() clock); Infinity when none is armed. */
  #armedFor = Infinity

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs
  }

  /** A run for a request that arrived now, queued for its deadline. */
  start(state: RequestState): RequestRun {
    const run = new RequestRun(state, performance.now() + this.timeoutMs)
    run.queued = true
    const newest = this.#newest
    if (newest) {
      newest.newer = run
      run.older = newest
    } else this.#oldest = run
    this.#newest = run
    // Arrival order is deadline order: a timer armed for an older run fires first, and re-arms for this one.
    if (this.#armedFor === Infinity) this.#arm(run.deadline)
    return run
  }

  /** Takes `run` off the queue (it ended); the timer stays armed and finds the next oldest when it fires. */
  finish(run: RequestRun): void {
    if (!run.queued) return
    run.queued = false
    const { older, newer } = run
    if (older) older.newer = newer
    else this.#oldest = newer
    if (newer) newer.older = older
    else this.#newest = older
    run.older = run.newer = undefined
  }

  /** Aborts every run in flight (a shutdown past its deadline). */
  abortAll(reason: unknown): void {
    for (let run = this.#oldest; run; run = this.#oldest) {
      this.finish(run)
      run.abort(reason)
    }
  }

  #arm(at: number): void {
    this.#armedFor = at
    const delay = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(at - performance.now())))
    // Unref'd: a request in flight holds its socket, which keeps the process up; a timer left armed after the last
    // request must not.
    setTimeout(() => this.#expire(), delay).unref()
  }

  #expire(): void {
    this.#armedFor = Infinity
    const now = performance.now()
    for (let run = this.#oldest; run && run.deadline <= now; run = this.#oldest) {
      this.finish(run)
      run.abort(new HttpError('ERR_HTTP_REQUEST_TIMEOUT', `the request did not complete within ${this.timeoutMs} ms`))
    }
    if (this.#oldest) this.#arm(this.#oldest.deadline)
  }
}
