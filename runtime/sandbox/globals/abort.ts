// DOMException, Event, EventTarget, AbortSignal (abort, timeout, any) and AbortController, all inside the isolate:
// plain JavaScript over the bootstrap's captured intrinsics, nothing from the host. State lives in private fields
// (#x), which no prototype edit reaches: a guest replacing AbortSignal.prototype.aborted or EventTarget's methods
// changes what its own code sees, never what fetch (fetch.ts) reads through `abortInternals`.
//
// Minimal on purpose: no capture/bubbling phases (no DOM tree), `isTrusted` is always false. A listener that throws
// does not stop the others; its error goes to the component's log (level error), where a browser would report it.

/**
 * Guest half, spliced into guest-bootstrap.ts after timers.ts. Exposes `abortInternals` to fetch.ts:
 * { isSignal(x), aborted(s), reason(s), onAbort(s, fn) → remove(), newSignal(), DOMException }.
 */
export const ABORT = String.raw`
let abortInternals;
{
  const dateNow = Date.now, timeOrigin = Date.now();
  const iteratorSymbol = Symbol.iterator;
  const CODES = create(null);
  const LEGACY = ['IndexSizeError', 1, 'HierarchyRequestError', 3, 'WrongDocumentError', 4, 'InvalidCharacterError', 5,
    'NoModificationAllowedError', 7, 'NotFoundError', 8, 'NotSupportedError', 9, 'InvalidStateError', 11, 'SyntaxError', 12,
    'InvalidModificationError', 13, 'NamespaceError', 14, 'InvalidAccessError', 15, 'TypeMismatchError', 17,
    'SecurityError', 18, 'NetworkError', 19, 'AbortError', 20, 'URLMismatchError', 21, 'QuotaExceededError', 22,
    'TimeoutError', 23, 'InvalidNodeTypeError', 24, 'DataCloneError', 25];
  for (let i = 0; i < LEGACY.length; i += 2) CODES[LEGACY[i]] = LEGACY[i + 1];

  // Reports what a listener threw to the component's log: it must not stop the other listeners, nor be lost.
  const report = (where, error) => {
    let text;
    try { text = error !== null && typeof error === 'object' && typeof error.stack === 'string' ? error.stack : Str(error); }
    catch (_) { text = 'a value that cannot be described'; }
    if (typeof text !== 'string') text = 'a value that cannot be described';
    toHost(['log', 'error', where + ' threw: ' + apply(slice, text, [0, 1900]), undefined]);
  };

  // DOMException is the bootstrap's one (globals/shared.ts, spliced before this block): one class for every error.
  for (let i = 0; i < LEGACY.length; i += 2) {
    const constant = apply(String.prototype.replace, LEGACY[i], [/([a-z])([A-Z])/g, '$1_$2']);
    const upper = apply(String.prototype.toUpperCase, constant, []);
    const key = apply(slice, upper, [0, upper.length - 6]) + '_ERR'; // AbortError -> ABORT_ERR
    defineProperty(DOMException, key, { value: LEGACY[i + 1], enumerable: true });
  }

  // Events: only what listeners of an AbortSignal (or of a guest's own EventTarget) need.
  let eventState;
  class Event {
    #type; #bubbles; #cancelable; #prevented = false; #target = null; #current = null; #stopped = false; #time;
    constructor(type, init) {
      if (arguments.length === 0) throw new TypeErr("Failed to construct 'Event': 1 argument required, but only 0 present.");
      this.#type = Str(type);
      this.#bubbles = init !== null && init !== undefined && !!init.bubbles;
      this.#cancelable = init !== null && init !== undefined && !!init.cancelable;
      this.#time = dateNow() - timeOrigin;
    }
    get type() { return this.#type; }
    get target() { return this.#target; }
    get currentTarget() { return this.#current; }
    get srcElement() { return this.#target; }
    get bubbles() { return this.#bubbles; }
    get cancelable() { return this.#cancelable; }
    get defaultPrevented() { return this.#prevented; }
    get eventPhase() { return this.#current === null ? 0 : 2; }
    get isTrusted() { return false; }
    get timeStamp() { return this.#time; }
    get composed() { return false; }
    composedPath() { return this.#current === null ? [] : [this.#current]; }
    preventDefault() { if (this.#cancelable) this.#prevented = true; }
    stopPropagation() {}
    stopImmediatePropagation() { this.#stopped = true; }
    static {
      eventState = {
        isEvent: (e) => e !== null && typeof e === 'object' && #type in e,
        begin: (e, target) => { e.#target = target; e.#current = target; e.#stopped = false; },
        end: (e) => { e.#current = null; },
        stopped: (e) => e.#stopped,
        type: (e) => e.#type,
      };
    }
  }
  defineProperty(Event, 'NONE', { value: 0, enumerable: true });
  defineProperty(Event, 'AT_TARGET', { value: 2, enumerable: true });

  // Listener lists are null-prototype objects ({ n, 0: entry, … }): no inherited setter sees a write.
  let targetState;
  class EventTarget {
    #listeners = create(null); // type -> list
    addEventListener(type, callback, options) {
      if (callback === null || callback === undefined) return;
      if (typeof callback !== 'function' && typeof callback !== 'object') throw new TypeErr('addEventListener: the listener must be a function or an object with handleEvent');
      const t = Str(type);
      let once = false, capture = false, signal;
      if (typeof options === 'boolean') capture = options;
      else if (options !== null && typeof options === 'object') { capture = !!options.capture; once = !!options.once; signal = options.signal; }
      if (signal !== undefined && !abortInternals.isSignal(signal)) throw new TypeErr("addEventListener: options.signal must be an AbortSignal");
      if (signal !== undefined && abortInternals.aborted(signal)) return;
      let list = this.#listeners[t];
      if (list === undefined) { list = create(null); list.n = 0; this.#listeners[t] = list; }
      for (let i = 0; i < list.n; i++) if (!list[i].removed && list[i].callback === callback && list[i].capture === capture) return;
      const entry = create(null);
      entry.callback = callback; entry.capture = capture; entry.once = once; entry.removed = false;
      list[list.n++] = entry;
      if (signal !== undefined) abortInternals.onAbort(signal, () => { removeEntry(list, entry); });
    }
    removeEventListener(type, callback, options) {
      const list = this.#listeners[Str(type)];
      if (list === undefined) return;
      const capture = typeof options === 'boolean' ? options : options !== null && typeof options === 'object' && !!options.capture;
      for (let i = 0; i < list.n; i++) {
        if (!list[i].removed && list[i].callback === callback && list[i].capture === capture) return removeEntry(list, list[i]);
      }
    }
    dispatchEvent(event) {
      if (!eventState.isEvent(event)) throw new TypeErr("dispatchEvent: the argument is not an Event");
      return dispatch(this, event);
    }
    static {
      targetState = { listeners: (t) => t.#listeners };
    }
  }
  const addListener = EventTarget.prototype.addEventListener;
  const removeEntry = (list, entry) => {
    entry.removed = true;
    let j = 0;
    for (let i = 0; i < list.n; i++) { const e = list[i]; if (!e.removed) list[j++] = e; }
    for (let i = j; i < list.n; i++) delete list[i];
    list.n = j;
  };
  // Runs the listeners registered when dispatch began (a listener added meanwhile waits for the next event).
  function dispatch(target, event) {
    const list = targetState.listeners(target)[eventState.type(event)];
    eventState.begin(event, target);
    if (list !== undefined) {
      const n = list.n, snapshot = create(null);
      for (let i = 0; i < n; i++) snapshot[i] = list[i];
      for (let i = 0; i < n; i++) {
        const entry = snapshot[i];
        if (entry.removed) continue;
        if (entry.once) removeEntry(list, entry);
        try {
          const callback = entry.callback;
          if (typeof callback === 'function') apply(callback, target, [event]);
          else apply(callback.handleEvent, callback, [event]);
        } catch (error) {
          report("an '" + eventState.type(event) + "' event listener", error);
        }
        if (eventState.stopped(event)) break;
      }
    }
    eventState.end(event);
    return !event.defaultPrevented;
  }

  // Only the bootstrap can make a signal: new AbortSignal() throws, as in browsers.
  const MAKE = create(null);
  let signalState;
  class AbortSignal extends EventTarget {
    #aborted = false; #reason = undefined; #algorithms = create(null); #n = 0; #handler = null; #handlerAdded = false;
    constructor(key) {
      if (key !== MAKE) throw new TypeErr('Illegal constructor: use new AbortController().signal, AbortSignal.abort(), AbortSignal.timeout() or AbortSignal.any()');
      super();
    }
    get aborted() { return this.#aborted; }
    get reason() { return this.#reason; }
    throwIfAborted() { if (this.#aborted) throw this.#reason; }
    get onabort() { return this.#handler; }
    set onabort(value) {
      this.#handler = typeof value === 'function' || (value !== null && typeof value === 'object') ? value : null;
      // Registered where it is first set, as an event handler attribute is; it calls whatever the attribute holds then.
      if (this.#handler !== null && !this.#handlerAdded) {
        this.#handlerAdded = true;
        const self = this;
        apply(addListener, this, ['abort', function (event) {
          const h = self.#handler;
          if (typeof h === 'function') return apply(h, self, [event]);
        }]);
      }
    }
    static abort(reason) {
      const signal = new AbortSignal(MAKE);
      signalAbort(signal, reason);
      return signal;
    }
    // Fires as a slice of the running invocation (a timer of its own, counted against its 100); a delay past the
    // invocation's deadline arms nothing: the invocation ends first, so the signal could never be seen aborting.
    static timeout(ms) {
      const delay = +ms;
      if (delay !== delay || delay < 0 || delay === Infinity) throw new TypeErr('AbortSignal.timeout: the delay must be a finite number of milliseconds, at least 0');
      const signal = new AbortSignal(MAKE);
      timersArm('AbortSignal.timeout', delay - delay % 1, () => {
        signalAbort(signal, new DOMException('The operation timed out.', 'TimeoutError'));
      }, true);
      return signal;
    }
    static any(signals) {
      if (signals === null || signals === undefined || typeof signals[iteratorSymbol] !== 'function') throw new TypeErr('AbortSignal.any: expects a sequence of AbortSignals');
      const list = create(null);
      let n = 0;
      for (const s of signals) {
        if (!(s !== null && typeof s === 'object' && #aborted in s)) throw new TypeErr('AbortSignal.any: every element must be an AbortSignal');
        list[n++] = s;
      }
      const result = new AbortSignal(MAKE);
      for (let i = 0; i < n; i++) if (list[i].#aborted) { signalAbort(result, list[i].#reason); return result; }
      for (let i = 0; i < n; i++) {
        const source = list[i];
        onAbort(source, () => signalAbort(result, source.#reason));
      }
      return result;
    }
    static {
      signalState = {
        isSignal: (s) => s !== null && typeof s === 'object' && #aborted in s,
        aborted: (s) => s.#aborted,
        reason: (s) => s.#reason,
        set: (s, reason) => { s.#aborted = true; s.#reason = reason; },
        add: (s, fn) => { const entry = create(null); entry.fn = fn; s.#algorithms[s.#n++] = entry; return entry; },
        take: (s) => { const list = s.#algorithms, n = s.#n; s.#algorithms = create(null); s.#n = 0; return [list, n]; },
      };
    }
  }
  // Adds fn to run when s aborts (before its 'abort' event); returns a function that removes it again.
  function onAbort(s, fn) {
    const entry = signalState.add(s, fn);
    return () => { entry.fn = undefined; };
  }
  function signalAbort(signal, reason) {
    if (signalState.aborted(signal)) return;
    signalState.set(signal, reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason);
    const [list, n] = signalState.take(signal);
    for (let i = 0; i < n; i++) {
      const fn = list[i].fn;
      if (fn === undefined) continue;
      try { fn(); } catch (error) { report('an abort algorithm', error); }
    }
    dispatch(signal, new Event('abort'));
  }

  class AbortController {
    #signal = new AbortSignal(MAKE);
    get signal() { return this.#signal; }
    abort(reason) { signalAbort(this.#signal, reason); }
  }

  abortInternals = freeze({
    isSignal: signalState.isSignal, aborted: signalState.aborted, reason: signalState.reason, onAbort,
    newSignal: () => new AbortSignal(MAKE), DOMException,
  });
  const names = ['Event', Event, 'EventTarget', EventTarget, 'AbortSignal', AbortSignal,
    'AbortController', AbortController];
  for (let i = 0; i < names.length; i += 2) {
    defineProperty(globalThis, names[i], { value: names[i + 1], writable: true, configurable: true, enumerable: false });
  }
}
`
