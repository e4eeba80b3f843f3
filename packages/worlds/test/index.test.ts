import { describe, expect, it } from 'vitest'
import { WORLD_MODULES, loadWorldById, worldModule } from '../src/index.js'

describe('worlds registry', () => {
  it('worldModule should find tutoring and refuse an unknown id naming the known ones', () => {
    expect(worldModule('tutoring').id).toBe('tutoring')
    expect(() => worldModule('nope')).toThrow(/unknown world "nope"; expected one of tutoring/)
  })
  it('loadWorldById should load every registered world from config/worlds', () => {
    for (const id of Object.keys(WORLD_MODULES)) {
      const w = loadWorldById(id)
      expect(w.id).toBe(id)
      expect(w.module).toBe(WORLD_MODULES[id])
      expect(w.streams.length).toBeGreaterThan(0)
    }
  })
  it('loadWorldById should say when a module has no config folder', () => {
    expect(() => loadWorldById('tutoring', '/nonexistent')).toThrow(/no config folder at/)
  })
})
