/** The one vector/matrix module and seeded PRNG (see vec3.ts, mat3.ts, mat4.ts, frames.ts, random.ts). */
export * from './vec3.ts'
export * from './mat3.ts'
export * from './mat4.ts'
export * from './frames.ts'
export * from './random.ts'
