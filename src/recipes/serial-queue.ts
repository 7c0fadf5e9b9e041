// SerialQueue: runs async jobs one at a time, in order, so a cache applies what it reads in the order it read it.

export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Runs `job` after every job pushed before it; its failure goes to onError and does not stop the queue. */
  push(job: () => Promise<void>): Promise<void> {
    this.tail = this.tail.then(job).catch(this.onError);
    return this.tail;
  }

  /** Resolves when every job pushed so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
