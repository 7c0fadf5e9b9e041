// The recipes' own failures, beside the client's ZkError subclasses.

/** A lock, lease or leadership this process held is gone: its session was lost or its node was deleted. */
export class LockLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A recipe was used after close(), or before start(). */
export class RecipeStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
