// SessionWatcher: Curator's ConnectionState for one client: suspended, reconnected, lost (real or presumed).
import { EventEmitter } from "node:events";
import type { ClientState, ZooKeeperClient } from "../client/index.js";

export type ConnectionState = "connected" | "suspended" | "reconnected" | "lost";

export interface SessionWatcherEvents {
  /** Every transition, with the new state. */
  state: [state: ConnectionState];
}

/**
 * Turns a client's states into Curator's ConnectionState: "suspended" when the connection drops, "reconnected"
 * when the session comes back, "lost" when the session is gone: expired or closed, or, as Curator 3 presumes,
 * disconnected for a whole negotiated session timeout (the server has expired it by then, or will as soon as it
 * hears nothing). A holder of a lock or leadership must stop acting on it at "suspended" (it may be lost) and
 * treat it as gone at "lost".
 */
export class SessionWatcher extends EventEmitter<SessionWatcherEvents> {
  private stateValue: ConnectionState;
  private lostTimer: NodeJS.Timeout | undefined;
  private readonly onClientState = (state: ClientState): void => this.update(state);

  constructor(readonly zk: ZooKeeperClient) {
    super();
    this.stateValue = zk.state === "connected" ? "connected" : isTerminal(zk.state) ? "lost" : "suspended";
    zk.on("state", this.onClientState);
    if (this.stateValue === "suspended") this.armLostTimer();
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** True while requests can reach the server ("connected" or "reconnected"). */
  get isConnected(): boolean {
    return this.stateValue === "connected" || this.stateValue === "reconnected";
  }

  /** True once the session is known to be over: nothing will bring it back. */
  get isTerminal(): boolean {
    return isTerminal(this.zk.state);
  }

  close(): void {
    clearTimeout(this.lostTimer);
    this.zk.off("state", this.onClientState);
    this.removeAllListeners();
  }

  private update(state: ClientState): void {
    if (state === "connected") {
      clearTimeout(this.lostTimer);
      this.set("reconnected");
    } else if (state === "disconnected" || state === "connecting") {
      if (this.stateValue === "lost") return;
      this.set("suspended");
      this.armLostTimer();
    } else {
      clearTimeout(this.lostTimer);
      this.set("lost");
    }
  }

  private armLostTimer(): void {
    clearTimeout(this.lostTimer);
    const timeoutMs = Math.max(1, this.zk.sessionTimeoutMs);
    this.lostTimer = setTimeout(() => {
      if (this.stateValue === "suspended") this.set("lost");
    }, timeoutMs);
    this.lostTimer.unref();
  }

  private set(state: ConnectionState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.emit("state", state);
  }
}

function isTerminal(state: ClientState): boolean {
  return state === "expired" || state === "auth-failed" || state === "closed";
}
