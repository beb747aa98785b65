// Steady reads and writes against model_runs and preprocessing_steps, from a process of its
// own, until SIGTERM; then it waits for the operations under way (a blocked one ends when its
// lock is granted) and prints every operation's start (epoch ms) and latency as JSON.
import pg from 'pg'

const url = process.env.DATABASE_URL
const thinkMs = Number(process.env.TRAFFIC_THINK_MS ?? 5)
const pool = new pg.Pool({ connectionString: url, max: 8 })
const pick = (items) => items[Math.floor(Math.random() * items.length)]
const now = () => performance.timeOrigin + performance.now()

const experiments = (await pool.query('SELECT id FROM experiments')).rows.map((row) => row.id)
const datasets = (await pool.query('SELECT id FROM datasets')).rows.map((row) => row.id)

const operations = {
  'read model_runs': () => pool.query('SELECT id, model_type, created_at FROM model_runs WHERE experiment_id = $1 ORDER BY created_at DESC LIMIT 10', [pick(experiments)]),
  'write model_runs': () => pool.query("INSERT INTO model_runs (experiment_id, model_type) VALUES ($1, 'traffic')", [pick(experiments)]),
  'read preprocessing_steps': () => pool.query('SELECT id, step_type, "order" FROM preprocessing_steps WHERE dataset_id = $1 ORDER BY "order" LIMIT 20', [pick(datasets)]),
  'write preprocessing_steps': () => pool.query("INSERT INTO preprocessing_steps (dataset_id, step_type, \"order\") VALUES ($1, 'traffic', 0)", [pick(datasets)]),
}
const clients = ['read model_runs', 'read model_runs', 'write model_runs', 'read preprocessing_steps', 'read preprocessing_steps', 'write preprocessing_steps']

const log = []
const state = { running: true }
async function client (kind) {
  while (state.running) {
    const started = now()
    try {
      await operations[kind]()
      log.push({ kind, start: started, ms: now() - started })
    } catch (error) {
      log.push({ kind, start: started, ms: now() - started, error: error.message })
    }
    await new Promise((resolve) => setTimeout(resolve, thinkMs))
  }
}

const loops = clients.map((kind) => client(kind))
process.stderr.write('traffic: ready\n')
process.once('SIGTERM', async () => {
  state.running = false
  await Promise.all(loops)
  await pool.end()
  process.stdout.write(JSON.stringify(log))
})
