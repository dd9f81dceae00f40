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
const S3Error = require(path.join(root, 'node_modules', 's3rver', 'lib', 'models', 'error'))

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

// S3's conditional writes, which s3rver 3.7 does not know (it ignores the headers): PutObject with
// `If-None-Match: *` writes only when the key holds no object, with `If-Match: ETAG` only when the object's
// ETag is that one; otherwise 412 PreconditionFailed (If-Match on a missing key: 404 NoSuchKey), as the S3
// API reference documents them. Conditional writes of one key are serialised, so that of two at once exactly
// one succeeds, as on S3. Unconditional requests pass through unchanged.
const keyQueues = new Map()
function serialise(id, fn) {
  const before = keyQueues.get(id) || Promise.resolve()
  const run = before.then(fn, fn)
  const tail = run.catch(() => {})
  keyQueues.set(id, tail)
  tail.then(() => { if (keyQueues.get(id) === tail) keyQueues.delete(id) })
  return run
}
s3.middleware.unshift(async (ctx, next) => {
  const noneMatch = ctx.get('if-none-match')
  const match = ctx.get('if-match')
  const parts = ctx.path.split('/')
  if (ctx.method !== 'PUT' || (!noneMatch && !match) || parts.length < 3 || parts[2] === '' ||
      ctx.query.uploadId !== undefined || ctx.get('x-amz-copy-source')) {
    return next()
  }
  const bucket = decodeURIComponent(parts[1])
  const key = parts.slice(2).map(decodeURIComponent).join('/')
  return serialise(`${bucket}/${key}`, async () => {
    const exists = await ctx.app.store.existsObject(bucket, key)
    if (noneMatch) {
      if (noneMatch !== '*') throw new S3Error('NotImplemented', 'If-None-Match takes only *', {})
      if (exists) {
        throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold',
          { Condition: 'If-None-Match' })
      }
    }
    if (match) {
      if (!exists) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key })
      const meta = await ctx.app.store.getMetadata(bucket, key)
      const unquote = (t) => t.trim().replace(/^"|"$/g, '')
      if (unquote(meta.etag) !== unquote(match)) {
        throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold',
          { Condition: 'If-Match' })
      }
    }
    await next()
  })
})

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
