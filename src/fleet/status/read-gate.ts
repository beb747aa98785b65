/**
 * How many reads run at once, with a limit that may change while they wait: the fleet reads
 * fewer targets at a time while rollout jobs run on this replica, so a rollout's connections
 * stay its own `maxParallel` plus this small number, and all of them once they are done.
 */
export class ReadGate {
  private reading = 0
  private readonly waiting: Array<() => void> = []
  private readonly limit: () => number

  constructor (limit: () => number) {
    this.limit = limit
  }

  async run<T> (read: () => Promise<T>): Promise<T> {
    while (this.reading >= Math.max(1, this.limit())) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.reading++
    try {
      return await read()
    } finally {
      this.reading--
      this.wake()
    }
  }

  /** The limit may have grown: every waiter looks again. */
  wake (): void {
    for (const resolve of this.waiting.splice(0)) resolve()
  }
}
