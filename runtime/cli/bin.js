#!/usr/bin/env node
// Entry of the `islet` command. Plain JavaScript so that an old Node reaches this check instead of a syntax error.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  console.error(`ERR_NODE_VERSION: Islet needs Node.js 24 or newer and this is ${process.version}; run it as \`npx islet …\` (or \`npm start\`) inside the project, which uses the Node 24 that npm ci installed.`)
  process.exit(1)
}
await import('./main.ts')
