// Benchmark: a YAML-routed pipeline (validate + set + respond) against a bare Koa route doing the same work.
import { versusKoa } from './versus-koa.ts'

export function benchHttpPipeline(options: { rounds: number; seconds: number }) {
  return versusKoa({ ...options, name: 'YAML pipeline vs bare Koa (POST /quote: validate + set + respond)', label: 'islet', target: 0.8 })
}
