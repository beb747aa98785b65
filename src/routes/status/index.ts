import { dirname } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync } from 'fastify'
import fastifyStatic from '@fastify/static'
import { documentSecurityHeaders } from '../../http/security-headers.js'

/** The page's files, hand-written ES modules and CSS beside src/ and dist/ (both one level below the root). */
const statusPageDir = fileURLToPath(new URL('../../../status-page/', import.meta.url))
/** dagre's self-contained ES module, served as the package ships it: no CDN, no bundler. */
const dagreDir = dirname(createRequire(import.meta.url).resolve('@dagrejs/dagre'))

/**
 * Only this origin's scripts, styles and API; no inline script or style, no plugin, no frame.
 * The page sets no style attribute (classes and SVG attributes only), so `style-src` needs no
 * 'unsafe-inline'.
 */
const pagePolicy = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
}

/**
 * The status page at `/` and `/status`, and its assets under `/status/assets/`: public, as the
 * page itself holds nothing; its data calls carry the token typed into it. In a context of its
 * own, so the page's headers replace the API's for these routes only.
 */
const statusPage: FastifyPluginAsync = async (fastify) => {
  const pageHeaders = documentSecurityHeaders({ contentSecurityPolicy: pagePolicy, strictTransportSecurity: false, xFrameOptions: { action: 'deny' } })
  // After the API's own headers hook (a parent's hooks run first): these replace them.
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(pageHeaders)
    done()
  })
  await fastify.register(fastifyStatic, { root: statusPageDir, prefix: '/status/assets/', index: false, wildcard: false, cacheControl: false })

  for (const url of ['/', '/status']) {
    fastify.get(url, { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-store').sendFile('index.html'))
  }
  fastify.get('/status/vendor/dagre.esm.js', { schema: { hide: true } }, async (_request, reply) => reply.sendFile('dagre.esm.js', dagreDir))
}

export default statusPage
