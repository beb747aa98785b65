import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { brokenLink, isExternal, readMarkdown, readMarkdownFile, resolveLink, type MarkdownFile } from '../helpers/markdown-links.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The README, the guides and the deploy notes: every Markdown file a reader follows links in. */
async function documentation (): Promise<string[]> {
  const below = async (folder: string) => (await readdir(join(root, folder), { recursive: true }))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, folder, name))
  return [join(root, 'README.md'), ...await below('docs'), ...await below('deploy')]
}

const files = await documentation()
const parsed = new Map<string, MarkdownFile>()
for (const file of files) parsed.set(file, await readMarkdownFile(file))

t.test('every relative link in the documentation leads to a file that exists, and an anchor to a heading in it', async (t) => {
  const broken: string[] = []
  let checked = 0
  for (const [file, { links }] of parsed) {
    for (const href of links.filter((link) => !isExternal(link))) {
      checked++
      const reason = await brokenLink(root, file, href)
      if (reason !== null) broken.push(`${relative(root, file)}: (${href}) ${reason}`)
    }
  }
  t.same(broken, [], 'no broken link')
  t.ok(checked >= files.length, `${checked} relative links checked in ${files.length} files`)
})

t.test('every guide in docs/ can be reached from the README', async (t) => {
  const readme = join(root, 'README.md')
  const reached = new Set([readme])
  const queue = [readme]
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const href of (parsed.get(file)?.links ?? []).filter((link) => !isExternal(link))) {
      const { target } = resolveLink(root, file, href)
      if (!reached.has(target) && parsed.has(target)) {
        reached.add(target)
        queue.push(target)
      }
    }
  }
  const guides = files.filter((file) => relative(root, file).startsWith('docs'))
  t.ok(guides.length > 0, 'docs/ has guides')
  t.same(guides.filter((file) => !reached.has(file)).map((file) => relative(root, file)), [], 'no guide is left unlinked')
})

t.test('anchors follow GitHub: lowercase, punctuation dropped, spaces to hyphens, repeats numbered', async (t) => {
  const { anchors } = readMarkdown([
    '# Getting started',
    '## Hello, World!',
    '## With approval (`MIGRATION_APPROVAL=required`)',
    '## 503 schema-not-ready',
    '## Releases side by side (expand, then contract)',
    '## Hello, World!',
    '## [A link](x.md) in a heading',
    '## `a & b` and c',
    'Setext heading',
    '---',
  ].join('\n'))
  t.same([...anchors], [
    'getting-started',
    'hello-world',
    'with-approval-migration_approvalrequired',
    '503-schema-not-ready',
    'releases-side-by-side-expand-then-contract',
    'hello-world-1',
    'a-link-in-a-heading',
    'a--b-and-c',
    'setext-heading',
  ])
})

t.test('links are found in paragraphs, lists, tables and images, and not in code', async (t) => {
  const { links, anchors } = readMarkdown([
    'See [one](one.md) and ![two](two.png).',
    '',
    '- a list with [three](three.md#part)',
    '',
    '| a | b |',
    '|---|---|',
    '| [four](four.md) | `[not](code.md)` |',
    '',
    '```md',
    '[not](fenced.md)',
    '# not a heading',
    '```',
    '',
    'Reference [five][5].',
    '',
    '[5]: five.md',
  ].join('\n'))
  t.same(links, ['one.md', 'two.png', 'three.md#part', 'four.md', 'five.md'])
  t.same([...anchors], [], 'a # inside a fenced block is no heading')
})

t.test('a broken link says why: no file, no heading, or an anchor into a file that is not Markdown', async (t) => {
  const dir = t.testdir({
    'README.md': '# Front\n\n## Two words\n',
    docs: { 'guide.md': '# Guide\n', 'data.json': '{}' },
  })
  const from = join(dir, 'docs', 'guide.md')
  const check = (href: string) => brokenLink(dir, from, href)
  t.equal(await check('../README.md'), null)
  t.equal(await check('../README.md#two-words'), null)
  t.equal(await check('#guide'), null, 'an anchor in the same file')
  t.equal(await check('/README.md#front'), null, 'from the repository root')
  t.equal(await check('.'), null, 'a folder')
  t.equal(await check('data.json'), null)
  t.equal(await check('missing.md'), `${join('docs', 'missing.md')} does not exist`)
  t.equal(await check('../README.md#two-word'), 'README.md has no heading #two-word')
  t.equal(await check('#nowhere'), `${join('docs', 'guide.md')} has no heading #nowhere`)
  t.equal(await check('data.json#key'), `#key points into ${join('docs', 'data.json')}, which is not Markdown`)
  t.equal(await check('two%20words.md'), `${join('docs', 'two words.md')} does not exist`, 'the path is decoded')
})

t.test('external links are recognised by their scheme and never followed', async (t) => {
  for (const href of ['http://127.0.0.1:3000/docs', 'https://example.com/x.md#y', 'mailto:a@b.c']) t.ok(isExternal(href), href)
  for (const href of ['docs/x.md', '#anchor', '../x.md', '/README.md']) t.notOk(isExternal(href), href)
})
