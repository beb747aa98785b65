import { fromKnex, PgBoss } from 'pg-boss'
import type { Knex } from 'knex'

/**
 * The rollout work on pg-boss, in its own schema of the service's database: any replica takes a
 * target's job, and a job whose replica stopped sending heartbeats (killed, cut off) goes back to
 * the queue for another. A job is sent in the same transaction that marks its target running,
 * so a target is never running without its job, nor a job sent for a target left pending.
 */
export const rolloutQueueSchema = 'aip_schema_queue'
const queueName = 'rollout-target'

export interface TargetJob {
  readonly rolloutId: string
  readonly target: string
  readonly attempt: number
}

export interface RolloutQueueOptions {
  readonly connectionString: string
  /** Jobs this process runs at once: each holds one migration connection while it runs. */
  readonly concurrency: number
  readonly heartbeatSeconds?: number
  readonly onError: (error: Error) => void
}

/** What the rollout service needs of the queue: sending a job inside its transaction. */
export interface JobSender {
  enqueue (trx: Knex.Transaction, job: TargetJob): Promise<void>
}

export interface RolloutQueue extends JobSender {
  work (handler: (job: TargetJob) => Promise<void>): Promise<void>
  stop (): Promise<void>
}

export async function startRolloutQueue (options: RolloutQueueOptions): Promise<RolloutQueue> {
  const heartbeatSeconds = options.heartbeatSeconds ?? 10
  // Its own small pool: polling and heartbeats never wait behind the API's queries.
  // The supervisor's monitor is what hands a silent worker's job on: it runs once per
  // supervise pass, and on a queue no more often than the monitor interval. Their defaults,
  // once a minute, would leave a dead replica's targets waiting six heartbeats.
  // LISTEN/NOTIFY: a job sent wakes the workers of every replica at its commit, so a target
  // starts as soon as a slot frees instead of at the next poll (half a second a target, on average,
  // at one poll a second). The poll stays as the floor: a job handed back after a dead replica's
  // heartbeats stopped is found by it.
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: rolloutQueueSchema,
    max: 3,
    application_name: 'aip-schema rollouts',
    superviseIntervalSeconds: heartbeatSeconds,
    monitorIntervalSeconds: heartbeatSeconds,
    useListenNotify: true,
  })
  boss.on('error', options.onError)
  await boss.start()
  const queueOptions = { heartbeatSeconds, retryLimit: 100, retryDelay: 1, expireInSeconds: 24 * 3600, notify: true }
  await boss.createQueue(queueName, queueOptions)
  // A queue an earlier release made keeps the options it was made with until told otherwise.
  await boss.updateQueue(queueName, queueOptions)
  return {
    async enqueue (trx, job) {
      await boss.send(queueName, { ...job }, { db: fromKnex(trx) })
    },
    async work (handler) {
      await boss.work<TargetJob>(queueName, { localConcurrency: options.concurrency, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1 }, async ([job]) => {
        if (job !== undefined) await handler(job.data)
      })
    },
    async stop () {
      await boss.stop({ graceful: true, timeout: 30_000 })
    },
  }
}
