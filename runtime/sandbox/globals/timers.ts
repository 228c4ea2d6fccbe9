// setTimeout / clearTimeout inside the isolate, and the worker's one queue that fires them.
//
// A guest timer belongs to the invocation whose slice armed it (`current`, set on every entry into the isolate) and
// fires as a slice of that invocation: its CPU and wall time are that invocation's, under its limits. Its delay must
// end before the invocation's deadline (else ERR_SANDBOX_TIMER at once: a timer that could never fire is a bug worth
// hearing about), at most MAX_TIMERS are pending per invocation, and they all go when the invocation ends or is
// cancelled (no callback of a finished call ever runs). At module top level there is no invocation: setTimeout throws.
//
// Arming is a synchronous host call (toHost returns the worker's refusal, if any): the worker is the one that knows
// the deadline (pushed back by what other components held the worker, see deadlineOf) and keeps the count. Firing
// reuses the bootstrap's `deliver` entry: a timer is a `pending` entry whose resolve runs the callback, so `cancel`
// drops a cancelled invocation's timers with its host calls. The worker holds ONE Node timer for all guest timers,
// armed for the earliest: a guest cannot make the worker hold thousands.

/** Pending timers one invocation may hold (AbortSignal.timeout's count too). */
export const MAX_TIMERS = 100

/**
 * Guest half, spliced into guest-bootstrap.ts. Uses the bootstrap's `current`, `live`, `pending`, `seq`, `toHost`,
 * `hostError`, `finish`, `apply`, `slice`, `create`, `keys`, `defineProperty`, `TypeErr`. Exposes `timersArm`
 * (abort.ts: AbortSignal.timeout) and `timersDrop` (finish/cancel).
 */
export const TIMERS = String.raw`
let timersArm, timersDrop;
{
  const owner = create(null);         // timer id -> invocation id
  const byInvocation = create(null);  // invocation id -> { timer id: true }
  const timerError = (message) => hostError(message, 'ERR_SANDBOX_TIMER');
  const noop = () => {};
  // Arms fn(id) to run after ms as a slice of the running invocation. Returns the timer id, or undefined when
  // lenient and the delay ends past the deadline (AbortSignal.timeout: the invocation ends first anyway).
  timersArm = (what, ms, fn, lenient) => {
    const id = current;
    if (id === undefined || live[id] === undefined) {
      throw timerError(what + ' is only available while the component runs (in execute or init, or code they call): '
        + 'a timer belongs to one invocation and ends with it, and module top-level code runs in none');
    }
    const tid = ++seq;
    const refused = toHost(['timer', id, tid, ms]);
    if (typeof refused === 'string') {
      if (lenient && apply(slice, refused, [0, 2]) === 'd:') return undefined;
      throw timerError(what + ': ' + apply(slice, refused, [2]));
    }
    owner[tid] = id;
    let mine = byInvocation[id];
    if (mine === undefined) { mine = create(null); byInvocation[id] = mine; }
    mine[tid] = true;
    pending[tid] = [() => {
      delete owner[tid];
      delete mine[tid];
      if (live[id] !== undefined) fn(id);
    }, noop, id];
    return tid;
  };
  timersDrop = (id) => {
    const mine = byInvocation[id];
    if (mine === undefined) return;
    delete byInvocation[id];
    const k = keys(mine);
    for (let i = 0; i < k.length; i++) { delete owner[k[i]]; delete pending[k[i]]; }
  };
  const toDelay = (delay) => {
    const ms = +delay;
    if (!(ms > 0)) return 0; // NaN, negative, undefined: at once (next turn), as in browsers
    if (ms === Infinity) return ms; // never: refused as past the deadline (a browser would wrap it to 0)
    return ms - ms % 1;
  };
  const setTimeout = function setTimeout(callback, delay, ...args) {
    if (typeof callback !== 'function') throw new TypeErr('setTimeout: the callback must be a function (a string is not evaluated)');
    // An exception thrown by the callback fails the invocation with it, as an uncaught error would in execute.
    return timersArm('setTimeout', toDelay(delay), (id) => {
      try { apply(callback, undefined, args); } catch (error) { finish(id, false, error); }
    }, false);
  };
  const clearTimeout = function clearTimeout(timer) {
    if (typeof timer !== 'number') return;
    const id = owner[timer];
    if (id === undefined) return; // not a pending timer (a host call id, a fired timer): nothing to do
    delete owner[timer];
    const mine = byInvocation[id];
    if (mine !== undefined) delete mine[timer];
    delete pending[timer];
    toHost(['timer-clear', id, timer]);
  };
  defineProperty(globalThis, 'setTimeout', { value: setTimeout, writable: true, configurable: true, enumerable: true });
  defineProperty(globalThis, 'clearTimeout', { value: clearTimeout, writable: true, configurable: true, enumerable: true });
}
`

/** The worker's queue of every guest timer it holds, fired through one Node timer armed for the earliest. */
export interface TimerQueue<O> {
  /**
   * Arms timer `tid` of `owner` to fire `delay` ms from now. A refusal is a message prefixed 'd:' (past `deadline`)
   * or 'c:' (too many pending); undefined when armed.
   */
  arm(owner: O, tid: number, delay: number, deadline: number, timeoutMs: number): string | undefined
  clear(owner: O, tid: number): void
  /** Forgets every timer of `owner` (it finished or was cancelled). */
  end(owner: O): void
}

export function createTimerQueue<O>(fire: (owner: O, tid: number) => void): TimerQueue<O> {
  /** owner -> its timers (id -> when due, performance.now() time). At most MAX_TIMERS each. */
  const timers = new Map<O, Map<number, number>>()
  let node: NodeJS.Timeout | undefined
  let armedAt = Infinity

  const schedule = (at: number) => {
    if (at >= armedAt) return
    clearTimeout(node)
    armedAt = at
    node = setTimeout(run, Math.max(0, Math.ceil(at - performance.now())))
  }

  function run(): void {
    node = undefined
    armedAt = Infinity
    const now = performance.now()
    const due: [number, number, O][] = []
    for (const [owner, mine] of timers) for (const [tid, at] of mine) if (at <= now) due.push([at, tid, owner])
    // In the order they are due (and armed, for equal times), as a browser runs them.
    due.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    for (const [, tid, owner] of due) {
      const mine = timers.get(owner)
      if (!mine?.delete(tid)) continue // cleared, or its invocation ended, by an earlier callback of this sweep
      if (mine.size === 0) timers.delete(owner)
      fire(owner, tid)
    }
    let next = Infinity
    for (const mine of timers.values()) for (const at of mine.values()) if (at < next) next = at
    if (next < Infinity) schedule(next)
  }

  return {
    arm(owner, tid, delay, deadline, timeoutMs) {
      const now = performance.now()
      const at = now + delay
      if (at > deadline) {
        const left = Math.max(0, Math.floor(deadline - now))
        return `d:a delay of ${delay} ms ends after this invocation's deadline (${left} ms left of its ${timeoutMs} ms timeout); wait less, or raise timeoutMs in the app's YAML (the component's entry or its slot: a component's own limits may only lower it)`
      }
      let mine = timers.get(owner)
      if (mine === undefined) timers.set(owner, mine = new Map())
      if (mine.size >= MAX_TIMERS) {
        return `c:this invocation already has ${MAX_TIMERS} pending timers, the most one may hold; clear some (clearTimeout) or await them first`
      }
      mine.set(tid, at)
      schedule(at)
      return undefined
    },
    clear(owner, tid) {
      const mine = timers.get(owner)
      if (mine?.delete(tid) && mine.size === 0) timers.delete(owner)
    },
    end(owner) {
      timers.delete(owner)
    },
  }
}
