// Benchmark: a YAML route whose pipeline calls one sandboxed component (validate + component + respond) against the
// bare Koa route computing the same quote.
import { fileURLToPath } from 'node:url'
import { versusKoa } from './versus-koa.ts'

const APP = fileURLToPath(new URL('./quote-component.yaml', import.meta.url))

export function benchHttpComponent(options: { rounds: number; seconds: number }) {
  return versusKoa({
    ...options, args: [APP], label: 'islet+component', target: 0.5,
    name: 'YAML pipeline with a sandboxed component vs bare Koa (POST /quote: validate + component + respond)',
  })
}
