// Benchmark server: Islet's registry (startRegistry, registry/server/server.ts) on loopback in a process of its own,
// storing in the folder given as the first argument; prints its URL as one JSON line. Writes are allowed to the one
// bearer token in BENCH_REGISTRY_TOKEN (the benchmark measures reads; real auth is tested elsewhere).
import type { Context } from 'koa'
import type { Authenticator, Principal } from '../../registry/server/principal.ts'
import { RegistryHttpError } from '../../registry/server/http-error.ts'
import { startRegistry } from '../../registry/server/server.ts'

const dir = process.argv[2]
if (!dir) throw new Error('usage: serve-registry.ts <dir>')
const token = process.env.BENCH_REGISTRY_TOKEN ?? 'bench-token'
const bench: Principal = { user: 'bench', tokenId: 'bench', scopes: ['*'] }
const auth: Authenticator = {
  async principal(ctx: Context) {
    const header = ctx.get('authorization')
    if (!header) return undefined
    if (header === `Bearer ${token}`) return bench
    throw new RegistryHttpError(401, 'ERR_REGISTRY_UNAUTHORIZED', 'unknown benchmark token')
  },
  async requireWrite(ctx: Context) {
    const principal = await this.principal(ctx)
    if (!principal) throw new RegistryHttpError(401, 'ERR_REGISTRY_UNAUTHORIZED', 'the benchmark registry needs its token')
    return principal
  },
}
const registry = await startRegistry({ dir, host: '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 0), auth })
console.log(JSON.stringify({ url: registry.url }))
process.on('SIGTERM', () => { void registry.close().then(() => process.exit(0)) })
