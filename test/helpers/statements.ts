import pg from 'pg'

export interface SentStatement {
  readonly text: string
  /** Its text and its values as JSON: what grows if a statement carries a list. */
  readonly bytes: number
}

/** The rollout queue's own pool: its polling runs on a clock of its own, not as part of any request. */
const queueApplication = 'aip-schema rollouts'

/** Every statement the process sends while `work` runs, through Knex or not, but the job queue's polling. */
export async function statementsDuring (work: () => Promise<unknown>): Promise<SentStatement[]> {
  const sent: SentStatement[] = []
  const query = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: pg.Client & { connectionParameters?: { application_name?: string } }, config: unknown, ...rest: unknown[]) {
    const { text, values } = typeof config === 'string' ? { text: config, values: rest[0] } : config as { text: string, values?: unknown }
    if (this.connectionParameters?.application_name !== queueApplication) sent.push({ text, bytes: Buffer.byteLength(text) + Buffer.byteLength(JSON.stringify(values ?? [])) })
    return (query as (...args: unknown[]) => unknown).call(this, config, ...rest)
  } as typeof query
  try {
    await work()
  } finally {
    pg.Client.prototype.query = query
  }
  return sent
}
