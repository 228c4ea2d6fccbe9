// How one config generation of an http.server hands its listening socket to the next (`ctx.previous(listenerHandover)`):
// a contract, so a replacement finds its predecessor by what it provides, not by guessing its shape.
import type { RequestListener, Server } from 'node:http'
import { defineContract } from '@islet/sdk'

/** The next generation of a server, taking the listening socket over when its reload commits. */
export interface Successor {
  host: string
  port: number
  handler: RequestListener
}

/** Compared by configured host and port, so `port: 0` keeps the port the OS chose. */
export interface ListenerHandover {
  /** Whether this server serves `host`:`port` and can hand it over (checked in start, so a reload knows early). */
  holds(host: string, port: number): boolean
  /**
   * If this server is serving on `next.host`:`next.port`, routes the socket's requests to `next.handler` from now on
   * (one synchronous step) and returns the socket; this server then only finishes its own in-flight requests.
   */
  release(next: Successor): Server | undefined
  address(): { host: string; port: number }
}

export const listenerHandover = defineContract<ListenerHandover>('http.listener-handover',
  { holds: 'function', release: 'function', address: 'function' },
  'hands a listening socket to the server that replaces this one on a config reload')
