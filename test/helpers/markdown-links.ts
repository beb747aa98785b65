import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, extname, join, relative, resolve } from 'node:path'
import GithubSlugger from 'github-slugger'
import { Lexer, type Token } from 'marked'

/** What one Markdown file offers and asks: the anchors of its headings, the links it makes. */
export interface MarkdownFile {
  readonly anchors: ReadonlySet<string>
  readonly links: readonly string[]
}

/**
 * Parsed, not matched with a regular expression: a link inside a code span or block is no
 * link, and a heading's anchor is made from its rendered text, as GitHub makes it.
 */
export function readMarkdown (text: string): MarkdownFile {
  const slugger = new GithubSlugger()
  const anchors = new Set<string>()
  const links: string[] = []
  walk(new Lexer({ gfm: true }).lex(text), (token) => {
    if (token.type === 'heading') anchors.add(slugger.slug(plainText(token.tokens ?? [])))
    if (token.type === 'link' || token.type === 'image') links.push(token.href)
  })
  return { anchors, links }
}

function walk (tokens: readonly Token[], visit: (token: Token) => void): void {
  for (const token of tokens) {
    visit(token)
    if ('tokens' in token && Array.isArray(token.tokens)) walk(token.tokens, visit)
    if (token.type === 'list') walk(token.items, visit)
    if (token.type === 'table') {
      for (const cell of [...token.header, ...token.rows.flat()]) walk(cell.tokens, visit)
    }
  }
}

/** The text a heading renders to: code spans and link texts without their markup. */
function plainText (tokens: readonly Token[]): string {
  return tokens.map((token) => 'tokens' in token && Array.isArray(token.tokens) ? plainText(token.tokens) : textOf(token)).join('')
}

function textOf (token: Token): string {
  return 'text' in token && typeof token.text === 'string' ? token.text : ''
}

/** A scheme (`https:`, `mailto:`) makes a link external: it is not fetched. */
export function isExternal (href: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(href)
}

/**
 * Where a relative link from `from` leads: a file (or folder) and, after `#`, an anchor.
 * A path starting with `/` is taken from the repository's root, as GitHub does.
 */
export function resolveLink (root: string, from: string, href: string): { readonly target: string, readonly anchor: string | null } {
  const hash = href.indexOf('#')
  const path = decodeURIComponent(hash === -1 ? href : href.slice(0, hash))
  const target = path === '' ? from : path.startsWith('/') ? join(root, path) : resolve(dirname(from), path)
  return { target, anchor: hash === -1 ? null : decodeURIComponent(href.slice(hash + 1)) }
}

/**
 * Why a relative link from `from` does not resolve, or null when it does: the file (or folder)
 * must exist, and an anchor must name a heading of the Markdown file it points into.
 */
export async function brokenLink (root: string, from: string, href: string): Promise<string | null> {
  const { target, anchor } = resolveLink(root, from, href)
  const shown = relative(root, target)
  if (!existsSync(target)) return `${shown} does not exist`
  if (anchor === null) return null
  if (extname(target).toLowerCase() !== '.md') return `#${anchor} points into ${shown}, which is not Markdown`
  if (!(await readMarkdownFile(target)).anchors.has(anchor)) return `${shown} has no heading #${anchor}`
  return null
}

export async function readMarkdownFile (file: string): Promise<MarkdownFile> {
  return readMarkdown(await readFile(file, 'utf8'))
}
