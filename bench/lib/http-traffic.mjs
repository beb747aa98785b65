// A replica's users, from a process of their own: reads and writes through its HTTP API until
// SIGTERM, then every request's start (epoch ms), latency and status as JSON on stdout.
const base = process.env.TRAFFIC_BASE_URL
const authorization = `Bearer ${process.env.TRAFFIC_TOKEN}`
const experiments = JSON.parse(process.env.TRAFFIC_EXPERIMENTS)
const concurrency = Number(process.env.TRAFFIC_CONCURRENCY ?? 8)
const pick = (items) => items[Math.floor(Math.random() * items.length)]
const now = () => performance.timeOrigin + performance.now()

const requests = [
  () => [`${base}/model-runs?status=completed&limit=50`, { headers: { authorization } }],
  () => [`${base}/model-runs?experimentId=${pick(experiments)}&limit=50`, { headers: { authorization } }],
  () => [`${base}/model-runs`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ experimentId: pick(experiments), modelType: 'rolling' }) }],
  () => [`${base}/health/ready`, {}],
]

const log = []
const state = { running: true }
async function client (index) {
  while (state.running) {
    const [url, init] = requests[index % requests.length]()
    const started = now()
    try {
      const res = await fetch(url, init)
      await res.arrayBuffer()
      log.push({ kind: index % requests.length, start: started, ms: now() - started, status: res.status })
    } catch (error) {
      log.push({ kind: index % requests.length, start: started, ms: now() - started, status: 0, error: error.message })
    }
  }
}

const loops = Array.from({ length: concurrency }, (_, index) => client(index))
process.stderr.write('http-traffic: ready\n')
process.once('SIGTERM', async () => {
  state.running = false
  await Promise.all(loops)
  process.stdout.write(JSON.stringify(log))
})
