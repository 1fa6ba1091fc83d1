import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** A page's prose: fenced code blocks dropped, so a `#` comment or a `[x](y)` in an example is not read as markup. */
function prose (markdown: string): string[] {
  let fenced = false
  return markdown.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced
      return false
    }
    return !fenced
  })
}

/**
 * GitHub's anchor for a heading (github-slugger): the rendered text in lower case, every
 * character but letters, digits, `_`, `-` and spaces dropped, spaces turned into hyphens.
 */
export function slug (heading: string): string {
  const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '').trim()
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

/** The anchors of a page's headings; a repeated one gets `-1`, `-2`… as GitHub numbers them. */
export function anchors (markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const line of prose(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (heading === null) continue
    const base = slug(heading[1] ?? '')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    out.add(count === 0 ? base : `${base}-${count}`)
  }
  return out
}

/** The targets of a page's inline links, outside code (a code span may break across lines, as may a link's text). */
export function linkTargets (markdown: string): string[] {
  const text = prose(markdown).join('\n').replace(/`[^`]*`/g, '')
  return [...text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '')
}

/**
 * The links of `page` (a path under `root`) that lead nowhere: a relative path to no file, or
 * an `#anchor` that no heading of its page has. Links with a scheme (`https:`) are not followed.
 */
export function brokenLinks (root: string, page: string): string[] {
  const source = readFileSync(join(root, page), 'utf8')
  return linkTargets(source).filter((target) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return false
    const [path = '', anchor] = target.split('#')
    const file = path === '' ? join(root, page) : join(root, dirname(page), path)
    if (!existsSync(file)) return true
    return anchor !== undefined && !anchors(readFileSync(file, 'utf8')).has(anchor)
  })
}

/** The fenced code blocks of a page whose info string is `language`, as pasted from it. */
export function codeBlocks (markdown: string, language: string): string[] {
  const blocks: string[] = []
  let open: string[] | undefined
  for (const line of markdown.split('\n')) {
    if (open === undefined) {
      if (line.trim() === `\`\`\`${language}`) open = []
    } else if (line.trim() === '```') {
      blocks.push(open.join('\n') + '\n')
      open = undefined
    } else {
      open.push(line)
    }
  }
  return blocks
}
