import { exitOnUnsupportedNode } from './node-version.js'

// `node dist/server.js`: the version is checked before the service's modules are even linked.
exitOnUnsupportedNode()
await import('./service.js')
