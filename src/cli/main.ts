#!/usr/bin/env node
import { exitOnUnsupportedNode } from '../node-version.js'

exitOnUnsupportedNode()
const { runCli } = await import('./run.js')
process.exitCode = await runCli(process.argv.slice(2), process.env, process)
