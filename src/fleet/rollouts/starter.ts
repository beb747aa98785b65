/**
 * Starts something that needs the database without making the service's start wait on it: the
 * service starts with its database down (the probes report it), and rollouts begin once it answers.
 * A failed attempt is tried again in the background every `retryMs`, and at once by a caller of `ready`.
 */
export interface Starter {
  /** Resolves once started; rejects with this attempt's error when the database still does not answer. */
  ready (): Promise<void>
  /** No attempt after this one; resolves once an attempt under way has ended, so what it started can be stopped. */
  stop (): Promise<void>
}

export function backgroundStarter (attempt: () => Promise<void>, options: { readonly retryMs: number, readonly onFailed: (error: unknown) => void }): Starter {
  let current: Promise<void> | null = null
  let started = false
  let stopped = false
  let timer: NodeJS.Timeout | null = null

  const run = (): Promise<void> => {
    if (stopped) return Promise.reject(new Error('stopped'))
    current ??= attempt().then(() => { started = true }, (error: unknown) => {
      current = null
      options.onFailed(error)
      if (!stopped && timer === null) {
        timer = setTimeout(() => { timer = null; run().catch(() => undefined) }, options.retryMs)
        timer.unref()
      }
      throw error
    })
    return current
  }

  return {
    async ready () {
      if (started) return
      await run()
    },
    async stop () {
      stopped = true
      if (timer !== null) clearTimeout(timer)
      await current?.catch(() => undefined)
    },
  }
}
