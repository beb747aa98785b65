import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { runCli as runInProcess } from '../../src/cli/run.js'
import { loadRevisions, RevisionGraph } from '../../src/migrator/index.js'
import { runCli } from '../helpers/cli.js'
import { shippedHead as head, shippedRevisions } from '../helpers/shipped.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** A migrations directory beside a `migrator` one, as in src/ and dist/, so the modules' imports resolve. */
async function project (t: { teardown (fn: () => unknown): void }, layout: 'dist' | 'src'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aip-schema-scaffold-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const base = layout === 'src' ? join(dir, 'src') : dir
  await mkdir(base, { recursive: true })
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  await symlink(join(root, layout, 'migrator'), join(base, 'migrator'), 'dir')
  await cp(join(root, layout, 'migrations'), join(base, 'migrations'), { recursive: true, filter: (path) => !path.endsWith('.map') && !path.endsWith('.d.ts') })
  return dir
}

async function inProcess (args: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await runInProcess(args, {}, { stdout: { write: (text: string) => { stdout += text } }, stderr: { write: (text: string) => { stderr += text } } })
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}

async function graphOf (dir: string): Promise<RevisionGraph> {
  return RevisionGraph.build(await loadRevisions(dir))
}

t.test('revision writes a module on top of the head that loads into a valid graph', async (t) => {
  const migrations = join(await project(t, 'dist'), 'migrations')
  const run = await runCli(['revision', '-m', "add the widgets' table", '--dir', migrations, '--json'])
  t.equal(run.code, 0, run.stderr)
  const written = run.json()
  t.match(written.revision, /^[0-9a-f]{12}$/)
  t.same(written.downRevisions, [head])
  t.equal(written.description, "add the widgets' table")
  t.match(written.file, new RegExp(`/${written.revision}_add_the_widgets_table\\.js$`), 'a directory of built modules gets a built module')
  const graph = await graphOf(migrations)
  t.same(graph.heads, [written.revision])
  t.same(graph.get(written.revision).up, [])
  const text = await readFile(written.file, 'utf8')
  t.match(text, "import { defineRevision } from '../migrator/revision.js'")
  t.match(text, "description: 'add the widgets\\' table',")
})

t.test('revision --breaking scaffolds the contract phase: breaking: true, loaded as such', async (t) => {
  const migrations = join(await project(t, 'dist'), 'migrations')
  const written = (await inProcess(['revision', '-m', 'drop the legacy column', '--breaking', '--dir', migrations, '--json'])).json()
  t.match(await readFile(written.file, 'utf8'), /\n {2}breaking: true,\n/)
  t.equal((await graphOf(migrations)).get(written.revision).breaking, true)
  const plain = (await inProcess(['revision', '-m', 'expand', '--dir', migrations, '--json'])).json()
  t.notMatch(await readFile(plain.file, 'utf8'), /breaking/, 'an ordinary revision says nothing of it')
  t.equal((await graphOf(migrations)).get(plain.revision).breaking, false)
})

t.test('several heads: revision refuses unless --head names one; merge joins them', async (t) => {
  const migrations = join(await project(t, 'dist'), 'migrations')
  const first = (await inProcess(['revision', '-m', 'one branch', '--dir', migrations, '--json'])).json()
  // A second branch off the same parent, as a teammate's commit would bring it.
  const source = await readFile(first.file, 'utf8')
  await writeFile(join(migrations, 'aaaaaaaaaaaa_other_branch.js'), source.replace(first.revision, 'aaaaaaaaaaaa').replace('one branch', 'other branch'))
  t.same((await graphOf(migrations)).heads.length, 2)

  const refused = await inProcess(['revision', '-m', 'on top', '--dir', migrations])
  t.equal(refused.code, 1)
  t.match(refused.stderr, /several heads .*--head <rev>/)
  const notHead = await inProcess(['revision', '-m', 'on top', '--head', head, '--dir', migrations])
  t.equal(notHead.code, 1)
  t.match(notHead.stderr, `${head} is not a head`)
  const named = await inProcess(['revision', '-m', 'on top', '--head', 'aaaa', '--dir', migrations, '--json'])
  t.equal(named.code, 0, named.stderr)
  t.same(named.json().downRevisions, ['aaaaaaaaaaaa'])

  const single = await inProcess(['merge', '-m', 'alone', first.revision, '--dir', migrations])
  t.equal(single.code, 1)
  t.match(single.stderr, /needs two or more revisions/)
  const ancestor = await inProcess(['merge', '-m', 'not a branch', head, first.revision, '--dir', migrations])
  t.equal(ancestor.code, 1)
  t.match(ancestor.stderr, `${head} is an ancestor of`)
  const merged = await inProcess(['merge', '-m', 'join the branches', 'heads', '--dir', migrations, '--json'])
  t.equal(merged.code, 0, merged.stderr)
  const graph = await graphOf(migrations)
  t.same(graph.heads, [merged.json().revision], 'one head again')
  t.same([...merged.json().downRevisions].sort(), [first.revision, named.json().revision].sort())
  t.ok(graph.isMergePoint(merged.json().revision))
  t.match(merged.stdout, /"file": ".*_join_the_branches\.js"/)
})

t.test('the default directory, src/migrations of a checkout, is TypeScript read through the checkout\'s compiler', async (t) => {
  const checkout = await project(t, 'src')
  const run = await runCli(['revision', '-m', 'typed revision'], {}, { cwd: checkout })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /^Generating .*src\/migrations\/[0-9a-f]{12}_typed_revision\.ts \.\.\. done\n$/)
  const migrations = join(checkout, 'src', 'migrations')
  const graph = await graphOf(migrations)
  t.equal(graph.heads.length, 1)
  t.same(graph.get(graph.heads[0] as string).downRevisions, [head])
  t.equal((await readdir(migrations)).filter((file) => file.endsWith('.ts')).length, shippedRevisions.length + 1)
})

t.test('a missing directory or an unknown revision fails with exit 1', async (t) => {
  const missing = await inProcess(['revision', '-m', 'x', '--dir', join(tmpdir(), 'aip-schema-no-such-dir')])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /no migrations directory at/)
  const migrations = join(await project(t, 'dist'), 'migrations')
  const unknown = await inProcess(['merge', '-m', 'x', 'zzzz', head, '--dir', migrations])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /no revision matches 'zzzz'/)
})

t.test('revision --backfill writes a backfill step to finish, loaded as a non-transactional revision that lints clean', async (t) => {
  const migrations = join(await project(t, 'src'), 'src', 'migrations')
  const run = await inProcess(['revision', '-m', 'fill in model_runs.score', '--backfill', 'model_runs', '--dir', migrations, '--json'])
  t.equal(run.code, 0, run.stderr)
  const graph = await graphOf(migrations)
  const written = graph.get(run.json().revision)
  t.same(written.up, [{ backfill: { table: 'model_runs', set: 'new_column = expression', where: 'new_column IS DISTINCT FROM expression', batchSize: 1000, targetBatchMs: 100, pauseMs: 0 } }])
  t.equal(written.transactional, false, 'a backfill commits batch by batch')
  const text = await readFile(run.json().file, 'utf8')
  t.match(text, "      backfill: {\n        table: 'model_runs',\n")
  const bad = await inProcess(['revision', '-m', 'x', '--backfill', 'model_runs; DROP TABLE users', '--dir', migrations])
  t.equal(bad.code, 1, 'a table name only')
  t.match(bad.stderr, /--backfill takes a table name/)
})
