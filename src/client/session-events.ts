// SessionEvents: the small typed emitter behind ZooKeeperClient.on(); a listener that throws cannot break the client.

export type ClientState = "connecting" | "connected" | "disconnected" | "expired" | "auth-failed" | "closed";

/** Event name → listener arguments. Each state is an event; "state" fires for every transition. */
export interface ClientEvents {
  connecting: [];
  connected: [];
  disconnected: [];
  expired: [];
  "auth-failed": [];
  closed: [];
  state: [state: ClientState];
}

type Listener<E extends keyof ClientEvents> = (...args: ClientEvents[E]) => void;

/** Calls `fn`; an exception is rethrown from a microtask, as an EventEmitter listener's would surface. */
export function callSafely<A extends unknown[]>(fn: (...args: A) => void, ...args: A): void {
  try {
    fn(...args);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

export class SessionEvents {
  private readonly listeners = new Map<keyof ClientEvents, Array<{ fn: Listener<never>; once: boolean }>>();

  on<E extends keyof ClientEvents>(event: E, listener: Listener<E>): void {
    this.add(event, listener, false);
  }

  once<E extends keyof ClientEvents>(event: E, listener: Listener<E>): void {
    this.add(event, listener, true);
  }

  off<E extends keyof ClientEvents>(event: E, listener: Listener<E>): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    const i = list.findIndex((l) => l.fn === (listener as Listener<never>));
    if (i >= 0) list.splice(i, 1);
  }

  emit<E extends keyof ClientEvents>(event: E, ...args: ClientEvents[E]): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    for (const l of list.slice()) {
      if (l.once) this.off(event, l.fn as Listener<E>);
      callSafely(l.fn as Listener<E>, ...args);
    }
  }

  private add<E extends keyof ClientEvents>(event: E, listener: Listener<E>, once: boolean): void {
    let list = this.listeners.get(event);
    if (list === undefined) this.listeners.set(event, (list = []));
    list.push({ fn: listener as Listener<never>, once });
  }
}
