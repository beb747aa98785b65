import { stripVTControlCharacters } from 'node:util'
import t from 'tap'
import type { StepStart } from '../../src/cli/api.js'
import { isLiveTerminal, lineProgress } from '../../src/cli/progress.js'
import { terminalProgress } from '../../src/cli/terminal-progress.js'

const step = (index: number, of: number | null): StepStart => ({
  revision: `rev${index}`, downRevisions: index === 1 ? [] : [`rev${index - 1}`], description: `step ${index}`, direction: 'up', index, of,
})

/** A terminal that keeps what was written to it (redraws and all: the lines left behind are what is read); the clock is the test's. */
function terminal () {
  let written = ''
  const stream = { isTTY: true, columns: 120, write: (text: string) => { written += text; return true }, cursorTo: () => true, moveCursor: () => true, clearLine: () => true }
  let clock = 0
  const progress = terminalProgress(stream as unknown as NodeJS.WriteStream, () => clock)
  return { progress, tick: (ms: number) => { clock += ms }, text: () => stripVTControlCharacters(written), lines: () => stripVTControlCharacters(written).match(/[✔✖] [^\n]*/g) ?? [] }
}

t.test('steps the engine starts: a line left behind for each, with its place and time; a failed one marked so', async (t) => {
  const { progress, tick, lines } = terminal()
  progress.stepStarted(step(1, 3))
  tick(1500)
  progress.stepStarted(step(2, 3))
  tick(200)
  progress.stepStarted(step(2, 3))
  tick(65_000)
  progress.stepStarted(step(3, 3))
  tick(100)
  progress.end(false)
  t.same(lines(), [
    '✔ Running upgrade  -> rev1, step 1 (1 of 3, 1.5 s)',
    '✔ Running upgrade rev1 -> rev2, step 2 (2 of 3, 1 min 05 s)',
    '✖ Running upgrade rev2 -> rev3, step 3 (3 of 3, 0.1 s)',
  ], 'a step run again by a shared transaction goes on on the same line')
})

t.test('steps the service reports done: each with the time it took; the run that ends leaves nothing half drawn', async (t) => {
  const { progress, tick, lines } = terminal()
  progress.operationRead(0, null)
  tick(300)
  progress.stepDone(step(1, 2), 250)
  progress.operationRead(1, 2)
  tick(2000)
  progress.stepDone(step(2, 2), 1900)
  progress.operationRead(2, 2)
  progress.end(true)
  t.same(lines(), ['✔ Running upgrade  -> rev1, step 1 (1 of 2, 0.3 s)', '✔ Running upgrade rev1 -> rev2, step 2 (2 of 2, 1.9 s)'])
})

t.test('a run that fails on the service: the step it was at, marked failed', async (t) => {
  const { progress, tick, lines } = terminal()
  progress.operationRead(0, 3)
  tick(100)
  progress.stepDone(step(1, 3), 90)
  progress.operationRead(1, 3)
  tick(700)
  progress.end(false)
  t.same(lines(), ['✔ Running upgrade  -> rev1, step 1 (1 of 3, 0.1 s)', '✖ On the service: step 2 of 3 (0.7 s)'])
})

t.test('off a terminal: Alembic\'s line per step, as before', async (t) => {
  let written = ''
  const progress = lineProgress((text) => { written += text })
  progress.stepStarted(step(1, 2))
  progress.stepDone(step(2, null), 10)
  progress.operationRead(2, null)
  progress.end(false)
  t.equal(written, 'Running upgrade  -> rev1, step 1 (1/2)\nRunning upgrade rev1 -> rev2, step 2 (2)\n')
})

t.test('live only on a terminal that can redraw: not piped, not TERM=dumb, not in CI', async (t) => {
  t.ok(isLiveTerminal({ isTTY: true }, {}))
  t.notOk(isLiveTerminal({}, {}))
  t.notOk(isLiveTerminal({ isTTY: true }, { TERM: 'dumb' }))
  t.notOk(isLiveTerminal({ isTTY: true }, { CI: 'true' }))
})

t.test('a rollout followed on a terminal: its state on the live line, each finished target a line left above it', async (t) => {
  const { progress, tick, text, lines } = terminal()
  progress.waiting('Rollout running: 2 targets: 1 running, 1 pending')
  tick(1500)
  progress.finished('dev-a: succeeded  base → rev1  1 step  1.5 s')
  progress.waiting('Rollout running: 2 targets: 1 succeeded, 1 running')
  tick(500)
  progress.end(true)
  t.match(text(), /dev-a: succeeded {2}base → rev1 {2}1 step {2}1\.5 s\n/, 'the finished target stays, its own line ended')
  t.same(lines(), ['✔ Rollout running: 2 targets: 1 succeeded, 1 running (2.0 s)'], 'the live line keeps the time since the first read')
})

t.test('a rollout followed in a log: the finished targets\' lines, no state lines', async (t) => {
  let written = ''
  const progress = lineProgress((text) => { written += text })
  progress.waiting('Rollout running: 2 targets: 2 pending')
  progress.finished('dev-a: succeeded')
  progress.end(true)
  t.equal(written, 'dev-a: succeeded\n')
})
