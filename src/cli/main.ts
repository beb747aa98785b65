#!/usr/bin/env node
import { exitOnUnsupportedNode } from '../node-version.js'

exitOnUnsupportedNode()
const { runCli } = await import('./run.js')
// Exit with the verb's code now: an embedded PostgreSQL started for the verb leaves an exit hook that would end the process with 0.
process.exit(await runCli(process.argv.slice(2), process.env, process))
