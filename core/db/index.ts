/** The plan database: schema, migrations and queries (pure; hosts open the file and hold the blobs). */
export * from './errors.ts'
export * from './canonical.ts'
export * from './migrations.ts'
export * from './migrate.ts'
export * from './blob-store.ts'
export * from './plan-store.ts'
