/**
 * Turns on one SQLite file among the connections of this process. better-sqlite3 waits for
 * another connection's write lock synchronously (the busy timeout), which blocks the event
 * loop; were that connection's transaction in this process, between two awaits, it could
 * never finish, and the wait would end in "database is locked" after the timeout. So the
 * connections of one process take turns: one transaction or statement at a time per file.
 * Other processes are unaffected: their transactions finish on their own while ours waits.
 */
export interface FileTurns {
  /** Run `f` when every earlier turn on the file has ended. */
  take<T>(f: () => Promise<T> | T): Promise<T>;
  /** This connection is done with the file. */
  leave(): void;
}

interface Queue {
  tail: Promise<void>;
  users: number;
}

const queues = new Map<string, Queue>();

/** `file` is the real path of the database, so two spellings of one file share one queue. */
export function fileTurns(file: string): FileTurns {
  let queue = queues.get(file);
  if (!queue) {
    queue = { tail: Promise.resolve(), users: 0 };
    queues.set(file, queue);
  }
  const q = queue;
  q.users += 1;
  let left = false;
  return {
    async take(f) {
      const previous = q.tail;
      let release!: () => void;
      q.tail = new Promise((resolve) => (release = resolve));
      await previous;
      try {
        return await f();
      } finally {
        release();
      }
    },
    leave() {
      if (left) return;
      left = true;
      q.users -= 1;
      if (q.users === 0 && queues.get(file) === q) queues.delete(file);
    },
  };
}
