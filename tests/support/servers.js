#!/usr/bin/env node
// Starts dynalite (DynamoDB) and s3rver (S3) on free loopback ports and prints one JSON line:
//   {"dynamodb":"http://127.0.0.1:PORT","s3":"http://127.0.0.1:PORT","s3_dir":"..."}
// It stops when stdin closes (its parent died or finished) or on SIGTERM/SIGINT, so that servers
// never outlive the tests that started them.
'use strict'
const path = require('path')
const fs = require('fs')
const os = require('os')
const root = path.resolve(__dirname, '..', '..')
const dynalite = require(path.join(root, 'node_modules', 'dynalite'))
const S3rver = require(path.join(root, 'node_modules', 's3rver'))

const args = process.argv.slice(2)
const opt = (name, def) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : def
}
const dir = opt('--dir', fs.mkdtempSync(path.join(os.tmpdir(), 'ddb2s3-s3rver-')))
const ownsDir = !args.includes('--dir')
const dynPort = Number(opt('--dynamodb-port', '0'))
const s3Port = Number(opt('--s3-port', '0'))

const dyn = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
const s3 = new S3rver({ address: '127.0.0.1', port: s3Port, directory: dir, silent: true })

let stopping = false
function stop(code) {
  if (stopping) return
  stopping = true
  const done = () => {
    if (ownsDir) fs.rmSync(dir, { recursive: true, force: true })
    process.exit(code)
  }
  try { dyn.close() } catch (e) {}
  s3.close().then(done, done)
  setTimeout(done, 2000).unref()
}
process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
process.stdin.on('end', () => stop(0))
process.stdin.on('error', () => stop(0))
process.stdin.resume()

dyn.listen(dynPort, '127.0.0.1', async (err) => {
  if (err) { console.error(err); process.exit(1) }
  try {
    const { port } = await s3.run()
    process.stdout.write(JSON.stringify({
      dynamodb: `http://127.0.0.1:${dyn.address().port}`,
      s3: `http://127.0.0.1:${port}`,
      s3_dir: dir,
    }) + '\n')
  } catch (e) {
    console.error(e)
    stop(1)
  }
})
